/**
 * Overlay work directories on the host (native/workdir.c): the monitor
 * makes one beside each --overlay upper tree on the host and removes it
 * once the container is gone. A monitor that is killed cannot, so it tells
 * Node each one's path before making it and its device and inode after
 * ("workdir" events); Node keeps them in the runtime record. Whoever
 * outlives the monitor removes them (Node here, the supervisor in C with
 * --workdir), and a record left by a SIGKILL of everything has them
 * removed by the stale sweep at the next start.
 *
 * The directory around an upper tree may belong to an unprivileged user,
 * who can swap names under us. So nothing here goes by a path below the
 * work directory's parent: each directory is opened without following a
 * symlink, checked to be the one made (device and inode), and emptied
 * through /proc/self/fd/N/NAME, which names the entry in the directory
 * that descriptor holds, whatever was renamed meanwhile.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, rmdirSync, unlinkSync, type BigIntStats } from 'node:fs';

export interface RecordedWorkdir {
  /** Absolute path on the host, as the monitor resolved it. */
  path: string;
  /** Decimal strings (an inode number may not fit a JSON number); absent until it was made. */
  dev?: string;
  ino?: string;
}

const NAME = /^\.#tsnspawn-work-[0-9a-f]+$/;
/** remove_contents' bound in native/workdir.c. */
const MAX_DEPTH = 256;

/** Adds or completes the entry for e.path (a name first, then its identity). */
export function noteWorkdir(list: RecordedWorkdir[], e: RecordedWorkdir): void {
  const known = list.find((w) => w.path === e.path);
  if (known) Object.assign(known, e);
  else list.push({ ...e });
}

/** The supervisor's --workdir arguments (DEV:INO:PATH) for the ones that were made. */
export function workdirArgs(list: RecordedWorkdir[]): string[] {
  return list.filter((w) => w.dev !== undefined && w.ino !== undefined).flatMap((w) => ['--workdir', `${w.dev}:${w.ino}:${w.path}`]);
}

/** A directory opened without following a final symlink; undefined when there is none. */
function openDirectory(path: string): number | undefined {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
}

const entry = (dirFd: number, name: string): string => `/proc/self/fd/${dirFd}/${name}`;

function statOf(path: string): BigIntStats | undefined {
  try {
    return lstatSync(path, { bigint: true });
  } catch {
    return undefined;
  }
}

/** Empties the directory open at fd, staying on device dev (a mount point is neither entered nor removed). */
function emptyDirectory(fd: number, dev: bigint, depth: number): void {
  if (depth > MAX_DEPTH) return;
  let names: string[];
  try {
    names = readdirSync(`/proc/self/fd/${fd}`);
  } catch {
    return;
  }
  for (const name of names) {
    const path = entry(fd, name);
    const st = statOf(path);
    if (!st) continue;
    try {
      if (!st.isDirectory()) {
        unlinkSync(path);
        continue;
      }
      if (st.dev !== dev) continue;
      const sub = openDirectory(path);
      if (sub === undefined) continue;
      try {
        const opened = fstatSync(sub, { bigint: true });
        if (opened.dev === st.dev && opened.ino === st.ino) emptyDirectory(sub, dev, depth + 1);
      } finally {
        closeSync(sub);
      }
      rmdirSync(path);
    } catch {
      // Gone already, or not removable: the final rmdir says what is left.
    }
  }
}

/**
 * Removes a recorded work directory if it is still the one made. True when
 * it is gone (or what is there now is not ours to remove), false when it is
 * still there.
 */
export function removeRecordedWorkdir(w: RecordedWorkdir): boolean {
  const slash = w.path.lastIndexOf('/');
  const name = w.path.slice(slash + 1);
  // Only a name of ours, at an absolute path: a record cannot make us remove anything else.
  if (!w.path.startsWith('/') || !NAME.test(name)) return true;
  const parent = openDirectory(w.path.slice(0, slash) || '/');
  if (parent === undefined) return true;
  try {
    const path = entry(parent, name);
    const fd = openDirectory(path);
    if (fd === undefined) return true; // gone, or not a directory: nothing of ours
    let st: BigIntStats;
    try {
      st = fstatSync(fd, { bigint: true });
      if (w.dev === undefined || w.ino === undefined) {
        // Named but never confirmed: the monitor died before any mount used it,
        // so it is empty; the rmdir below removes only an empty one of root's.
        if (st.uid !== 0n) return true;
      } else if (st.dev !== BigInt(w.dev) || st.ino !== BigInt(w.ino)) return true;
      else emptyDirectory(fd, st.dev, 0);
    } finally {
      closeSync(fd);
    }
    try {
      rmdirSync(path);
    } catch {
      // Checked below.
    }
    const now = statOf(path);
    return !now || now.dev !== st.dev || now.ino !== st.ino || w.dev === undefined;
  } finally {
    closeSync(parent);
  }
}

/** Removes each; returns those still there. */
export function removeRecordedWorkdirs(list: RecordedWorkdir[]): RecordedWorkdir[] {
  return list.filter((w) => !removeRecordedWorkdir(w));
}
