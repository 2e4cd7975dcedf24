/** Facts about an OS tree, read before launch. */
import { readFileSync, statSync } from 'node:fs';
import { refuse } from '../util/errors.js';
import { resolveInRoot } from './in-root.js';

const OS_RELEASE_PATHS = ['/etc/os-release', '/usr/lib/os-release'];

/** Parses os-release(5): KEY=VALUE lines, values optionally quoted. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
    if (!m) continue;
    let v = m[2]!;
    if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2) || (v.startsWith("'") && v.endsWith("'") && v.length >= 2))
      v = v.slice(1, -1).replace(/\\(["\\`$])/g, '$1');
    out[m[1]!] = v;
  }
  return out;
}

/** The host path of the tree's os-release, or undefined. */
export function findOsRelease(root: string): string | undefined {
  for (const p of OS_RELEASE_PATHS) {
    const r = resolveInRoot(root, p);
    if (r && r.stat.isFile()) return r.host;
  }
  return undefined;
}

/**
 * Refuses a directory that does not look like an OS tree, as nspawn: every
 * tree needs /usr; one to boot (-b) needs an os-release too, unless
 * $SYSTEMD_NSPAWN_CHECK_OS_RELEASE=0 (requireOsRelease false).
 */
export function checkOsTree(root: string, option: string, requireOsRelease = true): void {
  let st;
  try {
    st = statSync(root);
  } catch {
    refuse(`cannot use ${option} ${root}: the directory does not exist`);
  }
  if (!st.isDirectory()) refuse(`cannot use ${option} ${root}: not a directory`);
  if (root === '/' || root.replace(/\/+$/, '') === '')
    refuse(`cannot use ${option} /: the host's root cannot be a container`);
  const usr = resolveInRoot(root, '/usr');
  if (!usr || !usr.stat.isDirectory())
    refuse(`${root} does not look like an OS tree: it has no /usr directory (point ${option} at the root of an OS tree)`);
  if (requireOsRelease && !findOsRelease(root))
    refuse(`${root} does not look like an OS tree to boot: it has no /etc/os-release or /usr/lib/os-release (point ${option} at the root of an OS tree, or set SYSTEMD_NSPAWN_CHECK_OS_RELEASE=0)`);
}

/** The host's os-release as a source for /run/host/os-release. */
export function hostOsReleasePath(): string | undefined {
  for (const p of OS_RELEASE_PATHS) {
    try {
      if (statSync(p).isFile()) return p;
    } catch {
      /* try the next */
    }
  }
  return undefined;
}

export function readHostOsRelease(): Record<string, string> {
  const p = hostOsReleasePath();
  if (!p) return {};
  try {
    return parseOsRelease(readFileSync(p, 'utf8'));
  } catch {
    return {};
  }
}

/** The tree's /etc/machine-id content, if it holds an id. */
export function readTreeMachineId(root: string): string | undefined {
  const r = resolveInRoot(root, '/etc/machine-id');
  if (!r || !r.stat.isFile()) return undefined;
  try {
    const id = readFileSync(r.host, 'utf8').trim();
    return /^[0-9a-f]{32}$/.test(id) ? id : undefined;
  } catch {
    return undefined;
  }
}
