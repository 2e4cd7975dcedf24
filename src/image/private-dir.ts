/**
 * Directories that hold whole OS trees must be closed to other users: a
 * tree's setuid programs and device nodes are usable by anyone who can
 * reach them (systemd keeps /var/lib/machines 0700 for that reason).
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { warn } from '../util/log.js';

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

/** Creates dir (and missing parents) 0700, or tightens an existing one to 0700 with a warning. */
export function ensurePrivateDirectory(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = statSync(dir);
  if ((st.mode & 0o077) === 0) return;
  chmodSync(dir, st.mode & 0o7700);
  warn(`made ${dir} private (mode ${octal(st.mode)} -> ${octal(st.mode & 0o7700)}): other users could use the setuid programs and device nodes of the trees in it`);
}

/** Warns when a directory we do not own the policy of (an --output parent) lets other users in. */
export function warnIfOpenToOthers(dir: string): void {
  const st = statSync(dir);
  if ((st.mode & 0o011) !== 0)
    warn(`${dir} is open to other users (mode ${octal(st.mode)}): they can use the setuid programs and device nodes of trees in it; make it 0700 as systemd keeps /var/lib/machines`);
}
