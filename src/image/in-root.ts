/**
 * Path resolution inside a tree, as the container will see it: symlinks
 * (absolute or relative) are followed relative to the tree's root and '..'
 * stops at the root. Used to inspect the tree before launch (os-release,
 * passwd, the command); the helper resolves again, in the kernel, with
 * RESOLVE_IN_ROOT when it mounts.
 */
import { lstatSync, readlinkSync, type Stats } from 'node:fs';

const MAX_SYMLINKS = 40;

export interface Resolved {
  /** Path inside the tree after following symlinks, e.g. "/usr/bin/busybox". */
  inner: string;
  /** The same object as a host path. */
  host: string;
  stat: Stats;
}

/** Resolves innerPath inside root; undefined when it does not exist. */
export function resolveInRoot(root: string, innerPath: string): Resolved | undefined {
  const rootPath = root.replace(/\/+$/, '') || '/';
  const pending = innerPath.split('/').filter(Boolean);
  const done: string[] = [];
  let hops = 0;
  let stat: Stats | undefined;
  while (pending.length > 0) {
    const seg = pending.shift()!;
    if (seg === '.') continue;
    if (seg === '..') {
      done.pop();
      continue;
    }
    const host = joinHost(rootPath, [...done, seg]);
    try {
      stat = lstatSync(host);
    } catch {
      return undefined;
    }
    if (stat.isSymbolicLink()) {
      if (++hops > MAX_SYMLINKS) return undefined;
      const target = readlinkSync(host);
      if (target.startsWith('/')) done.length = 0;
      pending.unshift(...target.split('/').filter(Boolean));
      continue;
    }
    if (pending.length > 0 && !stat.isDirectory()) return undefined;
    done.push(seg);
  }
  const host = joinHost(rootPath, done);
  try {
    stat = lstatSync(host);
  } catch {
    return undefined;
  }
  return { inner: '/' + done.join('/'), host, stat };
}

function joinHost(root: string, segs: string[]): string {
  return segs.length === 0 ? root : `${root === '/' ? '' : root}/${segs.join('/')}`;
}
