/**
 * --template=DIR (nspawn's meaning): when the container's directory does not
 * exist yet, it is made from the template first, a copy that keeps
 * everything (owners, modes, times, hard links, extended attributes, ACLs),
 * its file data shared (reflinks) where the file system can, and without
 * what is mounted below the template, as nspawn's snapshot. The copy goes
 * into a hidden sibling and is renamed into place only when complete: a
 * failure leaves nothing, and nobody sees a half tree under the name.
 *
 * nspawn takes a btrfs snapshot when the template is a subvolume; tsnspawn
 * always copies (on btrfs the reflinks make that cheap in space too).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { refuse } from '../util/errors.js';
import { info } from '../util/log.js';

/** Where nspawn puts a machine named by -M when --template makes it (its first search path entry it writes to). */
export const TEMPLATE_MACHINE_DIR = '/var/lib/machines';

/** The directory --template fills: -D, else -M's name under /var/lib/machines (as nspawn's determine_names). */
export function templateTarget(directory: string | undefined, machine: string | undefined, template: string): string {
  if (directory !== undefined) return resolve(directory);
  if (machine !== undefined) return `${TEMPLATE_MACHINE_DIR}/${machine}`;
  return refuse(`cannot use --template=${template} without -D or -M: say which directory to make from it`);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Makes target from template unless target exists (then nothing happens,
 * as nspawn). Returns whether it made it.
 */
export function populateFromTemplate(template: string, target: string): boolean {
  const option = `--template=${template}`;
  if (existsSync(target)) {
    info(`Directory ${target} already exists, not populating from template ${template}.`);
    return false;
  }
  if (!isDirectory(template)) refuse(`cannot use ${option}: ${target} does not exist and the template is not a directory (give an existing tree)`);
  const parent = dirname(target);
  if (!isDirectory(parent)) refuse(`cannot use ${option}: ${parent}, where ${basename(target)} would be made, is not a directory (create it first)`);
  const staging = `${parent}/.#tsnspawn-template-${basename(target)}-${randomBytes(8).toString('hex')}`;
  try {
    // -a: recursive, symlinks as symlinks, every attribute kept; -T: staging is the copy itself.
    const cp = spawnSync('cp', ['-a', '-T', '--reflink=auto', '--one-file-system', '--', template, staging], { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (cp.error) refuse(`cannot use ${option}: cannot run cp: ${cp.error.message}`);
    if (cp.status !== 0) refuse(`cannot use ${option}: copying it to ${target} failed: ${(cp.stderr.split('\n')[0] ?? '').replace(/^cp: /, '') || `cp exited with ${cp.status ?? cp.signal}`}`);
    try {
      renameSync(staging, target);
    } catch (e) {
      refuse(`cannot use ${option}: cannot put the copy in place at ${target}: ${(e as Error).message}`);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  info(`Populated ${target} from template ${template}.`);
  return true;
}
