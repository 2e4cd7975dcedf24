/** Users and groups of the tree, from its /etc/passwd and /etc/group. */
import { readFileSync } from 'node:fs';
import { refuse } from '../util/errors.js';
import { resolveInRoot } from './in-root.js';

export interface TreeUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
  /** Supplementary groups (gids), from /etc/group. */
  groups: number[];
}

/** The lines of a colon-separated database of the tree (/etc/passwd, /etc/group), split into fields; none when it is missing. */
export function readLines(root: string, path: string): string[][] {
  const r = resolveInRoot(root, path);
  if (!r || !r.stat.isFile()) return [];
  try {
    return readFileSync(r.host, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':'));
  } catch {
    return [];
  }
}

/** Parses one passwd line's fields. */
function toUser(f: string[]): Omit<TreeUser, 'groups'> | undefined {
  if (f.length < 7) return undefined;
  const uid = Number(f[2]);
  const gid = Number(f[3]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) return undefined;
  return { name: f[0]!, uid, gid, home: f[5] || '/', shell: f[6] || '/bin/sh' };
}

const ROOT_FALLBACK: Omit<TreeUser, 'groups'> = { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/sh' };

/**
 * Looks up a user by name or numeric uid in the tree. Root works even in a
 * tree without /etc/passwd, as in nspawn.
 */
export function lookupUser(root: string, spec: string | undefined, option = '--user'): TreeUser {
  const passwd = readLines(root, '/etc/passwd');
  const want = spec ?? 'root';
  const numeric = /^\d+$/.test(want) ? Number(want) : undefined;
  let found: Omit<TreeUser, 'groups'> | undefined;
  for (const f of passwd) {
    const u = toUser(f);
    if (u && (numeric !== undefined ? u.uid === numeric : u.name === want)) {
      found = u;
      break;
    }
  }
  if (!found && (want === 'root' || numeric === 0)) found = ROOT_FALLBACK;
  if (!found)
    refuse(`cannot use ${option}=${want}: no such user in the tree's /etc/passwd (add it there or use a numeric uid that exists)`);
  const groups: number[] = [];
  for (const f of readLines(root, '/etc/group')) {
    const gid = Number(f[2]);
    const members = (f[3] ?? '').split(',').filter(Boolean);
    if (Number.isInteger(gid) && members.includes(found.name) && !groups.includes(gid) && gid !== found.gid) groups.push(gid);
  }
  return { ...found, groups };
}
