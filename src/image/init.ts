/** The init a booted container runs as PID 1, searched as systemd-nspawn does. */
import { refuse } from '../util/errors.js';
import { resolveInRoot } from './in-root.js';

export const INIT_SEARCH_PATH: readonly string[] = ['/usr/lib/systemd/systemd', '/lib/systemd/systemd', '/sbin/init'];

export function findInit(root: string): string {
  for (const p of INIT_SEARCH_PATH) {
    const r = resolveInRoot(root, p);
    if (r && r.stat.isFile() && (r.stat.mode & 0o111) !== 0) return p;
  }
  refuse(`cannot boot ${root}: no init found (looked for ${INIT_SEARCH_PATH.join(', ')}); install one in the tree or run a COMMAND without -b`);
}
