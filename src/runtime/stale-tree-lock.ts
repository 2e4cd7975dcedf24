/**
 * The tree's lock files (src/plan/tree-lock.ts) that a SIGKILLed tsnspawn
 * left: its monitor died holding them, so the kernel dropped the locks but
 * the files stay (systemd-nspawn leaves them for good). A stale record's
 * files are removed when no process holds a lock on them: /proc/locks lists
 * every lock by device and inode, so a file that another tsnspawn or a
 * systemd-nspawn has locked (it took the tree after us) is left alone.
 */
import { existsSync, readFileSync, rmSync, statSync } from 'node:fs';

/** The files of a tree lock, as the record keeps them. */
export interface RecordedTreeLock {
  local: string;
  global: string;
}

/** "MAJ:MIN:INO" as /proc/locks prints a file (major and minor in hex, inode in decimal). */
function lockKey(path: string): string | undefined {
  try {
    const st = statSync(path, { bigint: true });
    const dev = st.dev;
    const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn);
    const minor = (dev & 0xffn) | ((dev >> 12n) & ~0xffn);
    return `${major.toString(16).padStart(2, '0')}:${minor.toString(16).padStart(2, '0')}:${st.ino}`;
  } catch {
    return undefined;
  }
}

function lockedKeys(): Set<string> {
  try {
    // "1: OFDLCK ADVISORY WRITE -1 fe:00:1458273 0 EOF"; a waiter's line starts with "1: ->".
    return new Set(readFileSync('/proc/locks', 'utf8').split('\n').map((l) => l.trim().split(/\s+/).find((w) => /^[0-9a-f]+:[0-9a-f]+:\d+$/.test(w))).filter((k): k is string => k !== undefined));
  } catch {
    return new Set();
  }
}

/** Removes the files nobody holds a lock on; the ones still there are returned. */
export function removeStaleTreeLock(lock: RecordedTreeLock | undefined): string[] {
  if (!lock) return [];
  // Usually the monitor removed them: then /proc/locks need not be read.
  if (!existsSync(lock.local) && !existsSync(lock.global)) return [];
  const locked = lockedKeys();
  const left: string[] = [];
  for (const path of [lock.local, lock.global]) {
    const key = lockKey(path);
    if (key === undefined) continue;
    if (locked.has(key)) left.push(path);
    else rmSync(path, { force: true });
  }
  return left;
}
