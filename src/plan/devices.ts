/** The device nodes of the container's private /dev (systemd-nspawn's copy_devnodes list). */
export interface DeviceNode {
  path: string;
  major: number;
  minor: number;
  mode: number;
}

const S_IFCHR = 0o020000;

export const DEVICE_NODES: readonly DeviceNode[] = [
  { path: '/dev/null', major: 1, minor: 3, mode: S_IFCHR | 0o666 },
  { path: '/dev/zero', major: 1, minor: 5, mode: S_IFCHR | 0o666 },
  { path: '/dev/full', major: 1, minor: 7, mode: S_IFCHR | 0o666 },
  { path: '/dev/random', major: 1, minor: 8, mode: S_IFCHR | 0o666 },
  { path: '/dev/urandom', major: 1, minor: 9, mode: S_IFCHR | 0o666 },
  { path: '/dev/tty', major: 5, minor: 0, mode: S_IFCHR | 0o666 },
  { path: '/dev/net/tun', major: 10, minor: 200, mode: S_IFCHR | 0o666 },
];

/** Symlinks every Linux userland expects in /dev. */
export const DEVICE_SYMLINKS: ReadonlyArray<{ path: string; target: string }> = [
  { path: '/dev/ptmx', target: 'pts/ptmx' },
  { path: '/dev/fd', target: '/proc/self/fd' },
  { path: '/dev/stdin', target: '/proc/self/fd/0' },
  { path: '/dev/stdout', target: '/proc/self/fd/1' },
  { path: '/dev/stderr', target: '/proc/self/fd/2' },
];
