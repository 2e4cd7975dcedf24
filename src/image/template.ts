/**
 * --template=DIR (nspawn's meaning): when the container's directory does not
 * exist yet, it is made from the template first, a copy that keeps
 * everything (owners, modes, times, hard links, extended attributes, ACLs),
 * its file data shared (reflinks) where the file system can, and without
 * what is mounted below the template, as nspawn's snapshot. The copy goes
 * into a hidden sibling and is renamed into place only when complete: a
 * failure leaves nothing, and nobody sees a half tree under the name.
 *
 * A SIGKILL of tsnspawn mid-copy cannot remove the hidden sibling: its name
 * holds the copying tsnspawn's pid and start time, and the next --template
 * start into the same directory removes the ones whose tsnspawn is gone (as
 * stale runtime records go: src/runtime/state.ts). The cp dies with its
 * tsnspawn (a parent-death signal), so nothing writes into a sibling that is
 * being removed.
 *
 * nspawn takes a btrfs snapshot when the template is a subvolume; tsnspawn
 * always copies (on btrfs the reflinks make that cheap in space too).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { ownedStagingPrefix, sweepOwnedStaging } from './owned-staging.js';
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

const STAGING_PREFIX = '.#tsnspawn-template-';

/** The hidden sibling this process copies into (owned-staging.ts); the name is cut so that the whole stays within NAME_MAX. */
function stagingPath(parent: string, target: string): string {
  return `${parent}/${ownedStagingPrefix(STAGING_PREFIX)}${basename(target).slice(0, 160)}`;
}

/**
 * cp, killed when this process dies (PR_SET_PDEATHSIG, by setpriv). A
 * death before setpriv set it would go unnoticed, so the shell it runs
 * next checks that its parent is still us before it becomes cp.
 */
function copyArgv(template: string, staging: string): [string, string[]] {
  const cp = ['-a', '-T', '--reflink=auto', '--one-file-system', '--', template, staging];
  return ['setpriv', ['--pdeathsig', 'KILL', '--', '/bin/sh', '-c', '[ "$PPID" = "$1" ] || exit 1; shift; exec cp "$@"', 'sh', String(process.pid), ...cp]];
}

/**
 * Makes target from template unless target exists (then nothing happens,
 * as nspawn). Returns whether it made it.
 */
export function populateFromTemplate(template: string, target: string): boolean {
  const option = `--template=${template}`;
  sweepOwnedStaging(dirname(target), STAGING_PREFIX, 'a copy of a template');
  if (existsSync(target)) {
    info(`Directory ${target} already exists, not populating from template ${template}.`);
    return false;
  }
  if (!isDirectory(template)) refuse(`cannot use ${option}: ${target} does not exist and the template is not a directory (give an existing tree)`);
  const parent = dirname(target);
  if (!isDirectory(parent)) refuse(`cannot use ${option}: ${parent}, where ${basename(target)} would be made, is not a directory (create it first)`);
  const staging = stagingPath(parent, target);
  try {
    // -a: recursive, symlinks as symlinks, every attribute kept; -T: staging is the copy itself.
    const [file, args] = copyArgv(template, staging);
    const cp = spawnSync(file, args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
    if (cp.error) refuse(`cannot use ${option}: cannot run ${file}: ${cp.error.message}`);
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
