/**
 * --pivot-root=PATH[:OLDROOT] (nspawn's pivot_root_parse and
 * setup_pivot_root, src/nspawn/nspawn-mount.c): for a tree that holds
 * several OS roots (OSTree deployments, /sysroot layouts) the container's
 * root becomes PATH inside the tree; the tree as a whole is then either out
 * of sight, or mounted at OLDROOT inside the new root. Both paths are
 * absolute and resolved inside the container's file systems.
 */
import { refuse } from '../util/errors.js';

export interface PivotRootSpec {
  /** The directory inside the tree that becomes the container's root. */
  newRoot: string;
  /** Where inside the new root the whole tree is mounted; absent: it is not visible. */
  oldRoot?: string;
}

/** "/a/./b/" and "/a//b" as "/a/b" ('..' is left to the resolution in the tree). */
function tidy(path: string): string {
  return '/' + path.split('/').filter((s) => s !== '' && s !== '.').join('/');
}

/**
 * nspawn's split: the first ':' ends PATH, the rest (colons and all) is
 * OLDROOT; an empty rest means none. Both must be absolute. An OLDROOT of
 * "/" would lay the whole tree over the new root (nspawn then boots the
 * old root after all): refused.
 */
export function parsePivotRoot(value: string, option = '--pivot-root'): PivotRootSpec {
  const colon = value.indexOf(':');
  const newRoot = colon < 0 ? value : value.slice(0, colon);
  const oldRoot = colon < 0 ? '' : value.slice(colon + 1);
  if (!newRoot.startsWith('/'))
    refuse(`invalid ${option}=${value}: the new root must be an absolute path inside the tree (PATH or PATH:OLDROOT)`);
  if (oldRoot !== '' && !oldRoot.startsWith('/'))
    refuse(`invalid ${option}=${value}: the place for the old root must be an absolute path inside the new root (PATH:OLDROOT)`);
  if (/[\x00-\x1f\x7f]/.test(value)) refuse(`invalid ${option}=${JSON.stringify(value)}: control characters are not allowed`);
  if (oldRoot !== '' && tidy(oldRoot) === '/')
    refuse(`invalid ${option}=${value}: the old root cannot go on / (it would cover the new root); name a directory such as /sysroot`);
  return oldRoot === '' ? { newRoot: tidy(newRoot) } : { newRoot: tidy(newRoot), oldRoot: tidy(oldRoot) };
}

/** As the option would be written (for messages). */
export function pivotRootText(spec: PivotRootSpec): string {
  return spec.oldRoot ? `${spec.newRoot}:${spec.oldRoot}` : spec.newRoot;
}
