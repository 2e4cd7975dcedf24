/**
 * Hidden directories a tsnspawn fills before it renames them into place
 * (an import's staging tree, a --template copy): their names carry the
 * filling process's pid and start time, so that a later tsnspawn can tell
 * one whose owner was SIGKILLed (removed) from one being filled now (kept;
 * a pid alone may have been reused).
 */
import { readdirSync, rmSync } from 'node:fs';
import { isAlive, processStart } from '../runtime/state.js';
import { warn } from '../util/log.js';

/** PREFIX PID-START-: what follows is the caller's (a name for people, mkdtemp's suffix). */
export function ownedStagingPrefix(prefix: string): string {
  const start = processStart(process.pid);
  if (start === undefined) throw new Error('cannot read our own /proc/PID/stat');
  return `${prefix}${process.pid}-${start}-`;
}

/** Removes the directories in parent named PREFIX PID-START-... whose process is gone; what names them in a warning. */
export function sweepOwnedStaging(parent: string, prefix: string, what: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return; // no parent: the caller refuses it with its own message
  }
  for (const name of names) {
    const m = name.startsWith(prefix) ? /^(\d+)-(\d+)-/.exec(name.slice(prefix.length)) : null;
    if (!m || isAlive({ pid: Number(m[1]), start: m[2]! })) continue;
    try {
      rmSync(`${parent}/${name}`, { recursive: true, force: true, maxRetries: 20, retryDelay: 25 });
    } catch (e) {
      warn(`cannot remove ${parent}/${name}, ${what} left by a tsnspawn that was killed: ${(e as Error).message} (remove it by hand)`);
    }
  }
}
