/**
 * nspawn's mount propagation path, which `machinectl bind` and
 * `machinectl mount-image` need: systemd-machined mounts what it binds
 * into /run/systemd/nspawn/propagate/NAME on the host, the kernel
 * propagates that mount to the container's /run/host/incoming (a slave bind
 * of the directory, mount-table.ts), and machined moves it from there to
 * its place inside. Made when a container starts; removed when it ends (by
 * Node, or by the supervisor: --propagate), and with a stale runtime record
 * after a SIGKILL (state.ts).
 */
import { mkdirSync, readdirSync, rmdirSync } from 'node:fs';

export const PROPAGATE_ROOT = '/run/systemd/nspawn/propagate';

export function propagateDirOf(machineName: string): string {
  if (!machineName || machineName.includes('/') || machineName === '.' || machineName === '..') throw new Error(`not a machine name: ${machineName}`);
  return `${PROPAGATE_ROOT}/${machineName}`;
}

/** Modes as nspawn makes them: only root looks into what machined passes on. */
export function createPropagateDir(machineName: string): string {
  const dir = propagateDirOf(machineName);
  mkdirSync('/run/systemd/nspawn', { recursive: true, mode: 0o755 });
  mkdirSync(PROPAGATE_ROOT, { recursive: true, mode: 0o700 });
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return dir;
}

/**
 * Removes the directory; machined's own temporary entries in it (left only
 * if machined died half way) go first if they are empty. Returns false when
 * something remains (a mount machined left), which the caller reports.
 */
export function removePropagateDir(machineName: string): boolean {
  const dir = propagateDirOf(machineName);
  try {
    for (const entry of readdirSync(dir)) {
      try {
        rmdirSync(`${dir}/${entry}`);
      } catch {
        // A file or a mount: left for the warning below.
      }
    }
    rmdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}
