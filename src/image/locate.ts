/** Finding the tree: -D DIR, or -M NAME in nspawn's search path, or the current directory. */
import { lstatSync, realpathSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { refuse } from '../util/errors.js';

/** Where nspawn (and machinectl) look for a machine's tree by name, in order. */
export const MACHINE_SEARCH_PATH: readonly string[] = [
  '/etc/machines',
  '/run/machines',
  '/var/lib/machines',
  '/var/lib/container',
  '/usr/local/lib/machines',
  '/usr/lib/machines',
];

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

export interface Located {
  /** Canonical host path. */
  root: string;
  /** How the user named it, for messages: "-D x" or "-M name". */
  option: string;
  /** The path as named before symlinks were resolved (-D's value made absolute, the search path's entry, or the current directory): a .nspawn file may sit beside it. */
  named: string;
  /**
   * The directory's device and inode, taken right after the path was made
   * canonical: the helper mounts this directory and no other, so one put in
   * its place later (by whoever owns a directory on the way) is refused.
   */
  id: { dev: string; ino: string };
}

function located(path: string, option: string): Located {
  const root = realpathSync(path);
  const st = lstatSync(root, { bigint: true });
  if (!st.isDirectory()) refuse(`cannot use ${option}: ${root} is not a directory`);
  return { root, option, named: resolve(path), id: { dev: String(st.dev), ino: String(st.ino) } };
}

export function locateTree(directory: string | undefined, machine: string | undefined, searchPath = MACHINE_SEARCH_PATH): Located {
  if (directory !== undefined) {
    if (directory === '') refuse('invalid --directory: the path is empty');
    let st;
    try {
      st = statSync(directory);
    } catch {
      refuse(`cannot use --directory=${directory}: no such directory (create the tree first, e.g. with images/build or debootstrap)`);
    }
    if (!st.isDirectory()) refuse(`cannot use --directory=${directory}: not a directory`);
    return located(directory, `--directory=${directory}`);
  }
  if (machine !== undefined) {
    for (const dir of searchPath) {
      const candidate = `${dir}/${machine}`;
      if (isDirectory(candidate)) return located(candidate, `--machine=${machine}`);
    }
    refuse(`cannot find machine '${machine}': no directory of that name in ${searchPath.join(', ')} (use -D to give the tree)`);
  }
  return located(process.cwd(), 'the current directory');
}
