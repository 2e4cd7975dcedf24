/**
 * What made an import fail first, in words a user can act on. A full disk
 * shows up downstream as a listing cut short, a hard link to a file that
 * was never written, or tar's exit 2; the first system error a child
 * reported (its strerror text on stderr), a file system found full, or a
 * signal nobody here sent is the cause, and is what the user is told.
 */
import { accessSync, constants, existsSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/** System errors that stop an import, by the strerror text GNU tar and the decompressors print. */
export type SystemErrno = 'ENOSPC' | 'EDQUOT' | 'EROFS' | 'EIO' | 'ENFILE' | 'EMFILE' | 'ENOMEM';

/** glibc's strerror() texts (LC_ALL=C), the longer before a text it contains. */
const STRERROR: ReadonlyArray<readonly [string, SystemErrno]> = [
  ['No space left on device', 'ENOSPC'],
  ['Disk quota exceeded', 'EDQUOT'],
  ['Read-only file system', 'EROFS'],
  ['Input/output error', 'EIO'],
  ['Too many open files in system', 'ENFILE'],
  ['Too many open files', 'EMFILE'],
  ['Cannot allocate memory', 'ENOMEM'],
];

/** The system error a line of a child's stderr reports, if any. */
export function errnoInLine(line: string): SystemErrno | undefined {
  return STRERROR.find(([text]) => line.includes(text))?.[1];
}

/** Node's error codes for the same errors (our own writes: the listing, the cache's copy). */
export function errnoOfNodeError(e: unknown): SystemErrno | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return STRERROR.some(([, c]) => c === code) ? (code as SystemErrno) : undefined;
}

/**
 * The errno behind a failure to create dir: Node's recursive mkdir reports
 * ENOENT for a missing directory on a read-only file system, so the first
 * existing ancestor is asked (access(2) W_OK says EROFS there).
 */
export function creationErrno(e: unknown, dir: string): SystemErrno | undefined {
  const direct = errnoOfNodeError(e);
  if (direct) return direct;
  let d = dir;
  while (!existsSync(d) && d !== dirname(d)) d = dirname(d);
  try {
    accessSync(d, constants.W_OK);
  } catch (err) {
    return errnoOfNodeError(err);
  }
  return undefined;
}

/** The first thing that went wrong in a child: its system error, or a signal we did not send. */
export type ChildCause =
  | { kind: 'errno'; errno: SystemErrno; label: string; line: string }
  | { kind: 'signal'; signal: NodeJS.Signals; label: string };

/** Space on the file system of a directory, in bytes and inodes (undefined: cannot tell). */
export interface Space {
  bytes: number;
  inodes: number;
}

export function spaceOf(dir: string): Space | undefined {
  try {
    const s = statfsSync(dir);
    // A file system without inode accounting (btrfs) reports 0 files: no inode limit.
    return { bytes: s.bavail * s.bsize, inodes: s.files > 0 ? s.ffree : Number.POSITIVE_INFINITY };
  } catch {
    return undefined;
  }
}

/** Less than one of tar's 64 KiB records free, or no inode: the file system is full. */
export function isFull(space: Space | undefined): 'bytes' | 'inodes' | undefined {
  if (!space) return undefined;
  if (space.inodes === 0) return 'inodes';
  return space.bytes < 64 * 1024 ? 'bytes' : undefined;
}

const mb = (bytes: number): string => `${Math.max(1, Math.round(bytes / 1e6))} MB`;

export interface Where {
  /** The directory the tree was unpacked in (/var/lib/machines, the tarball cache). */
  dir: string;
  /** How to put the tree elsewhere: "import elsewhere with --output=DIR". */
  elsewhere: string;
  /** The unpacked tree's size when known (a plain archive's size, or its decompressed size). */
  treeBytes?: number;
  /** What was free before the import began (the tree needs more when it filled it). */
  freeBefore?: Space;
  /** What is free now that nothing of the import is left. */
  freeNow?: Space;
}

/** One clause for "cannot import X: CLAUSE; nothing was kept". */
export function describeNoSpace(w: Where, what: 'bytes' | 'inodes' = 'bytes'): string {
  const free = w.freeNow ?? w.freeBefore;
  if (what === 'inodes')
    return `no free inodes left on the filesystem of ${w.dir}${free && Number.isFinite(free.inodes) ? ` (${free.inodes} free)` : ''}: free some there, or ${w.elsewhere}`;
  const need =
    w.treeBytes !== undefined ? `the tree needs about ${mb(w.treeBytes)}` : w.freeBefore ? `the tree needs more than the ${mb(w.freeBefore.bytes)} that were free` : undefined;
  const facts = [need, free && w.treeBytes !== undefined ? `${mb(free.bytes)} free` : undefined].filter(Boolean).join(', ');
  return `no space left on the filesystem of ${w.dir}${facts ? ` (${facts})` : ''}: free some space there, or ${w.elsewhere}`;
}

/** The clause for a child's first failure. */
export function describeChildCause(c: ChildCause, w: Where): string {
  if (c.kind === 'signal') return `${c.label} was killed by ${c.signal}, not by tsnspawn (the kernel's OOM killer? see dmesg)`;
  switch (c.errno) {
    case 'ENOSPC':
      return describeNoSpace(w);
    case 'EDQUOT':
      return `the disk quota on the filesystem of ${w.dir} is used up: raise it, free some space, or ${w.elsewhere}`;
    case 'EROFS':
      return `the filesystem of ${w.dir} is read-only: remount it read-write, or ${w.elsewhere}`;
    case 'EIO':
      return `an I/O error (EIO) in ${c.label} ("${c.line}"): the disk or its file system has a fault; see dmesg`;
    case 'EMFILE':
      return `${c.label} ran out of file descriptors (EMFILE): raise the limit (ulimit -n) and try again`;
    case 'ENFILE':
      return `the system ran out of open files (ENFILE) in ${c.label}: raise fs.file-max or close files, and try again`;
    case 'ENOMEM':
      return `${c.label} ran out of memory (ENOMEM): free memory and try again`;
  }
}

/** The clause for one of our own system calls failing (code from Node's error). */
export function describeOwnError(errno: SystemErrno, w: Where, label: string, message: string): string {
  return describeChildCause({ kind: 'errno', errno, label, line: message }, w);
}
