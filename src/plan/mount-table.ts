/**
 * The default mounts of every container, in order, as data. Fixed knowledge
 * from systemd's Container Interface and nspawn's mount table; build.ts
 * appends the user's --bind/--tmpfs and the closing read-only remounts.
 */
import { DEVICE_NODES, DEVICE_SYMLINKS } from './devices.js';
import type { MountFlag, MountOp } from './types.js';
import type { ApiVfsMode } from '../settings/nspawn-environment.js';

/** /proc files that leak kernel internals: an inaccessible file is bound over them. */
export const PROC_MASKED_FILES: readonly string[] = [
  '/proc/kallsyms',
  '/proc/kcore',
  '/proc/keys',
  '/proc/sysrq-trigger',
  '/proc/timer_list',
];

/** /proc directories with hardware information or tunables: made read-only. */
export const PROC_READ_ONLY_DIRS: readonly string[] = [
  '/proc/acpi',
  '/proc/apm',
  '/proc/asound',
  '/proc/bus',
  '/proc/fs',
  '/proc/irq',
  '/proc/scsi',
];

const S_IFREG = 0o100000;
const S_IFIFO = 0o010000;
const S_IFSOCK = 0o140000;
const S_IFCHR = 0o020000;
const S_IFBLK = 0o060000;

export const INACCESSIBLE_DIR = '/run/host/inaccessible';

/** Where machined's mounts come in (machinectl bind): its "incoming" path for nspawn's containers. */
export const INCOMING_INSIDE = '/run/host/incoming';

/** Objects of every type with mode 000, to bind over things the guest must not reach. */
export const INACCESSIBLE_NODES: ReadonlyArray<MountOp> = [
  { kind: 'mknod', path: `${INACCESSIBLE_DIR}/reg`, mode: S_IFREG, major: 0, minor: 0 },
  { kind: 'mkdir', path: `${INACCESSIBLE_DIR}/dir`, mode: 0 },
  { kind: 'mknod', path: `${INACCESSIBLE_DIR}/fifo`, mode: S_IFIFO, major: 0, minor: 0 },
  { kind: 'mknod', path: `${INACCESSIBLE_DIR}/sock`, mode: S_IFSOCK, major: 0, minor: 0 },
  { kind: 'mknod', path: `${INACCESSIBLE_DIR}/chr`, mode: S_IFCHR, major: 0, minor: 0 },
  { kind: 'mknod', path: `${INACCESSIBLE_DIR}/blk`, mode: S_IFBLK, major: 0, minor: 0 },
];

const API: MountFlag[] = ['nosuid', 'nodev', 'noexec'];

export interface MountTableInput {
  /** Host file bound to /run/host/os-release, if the host has one. */
  hostOsRelease?: string;
  managerName: string;
  uuid: string;
  /** A pty backs /dev/console. */
  console: boolean;
  /** cgroup mounts for /sys/fs/cgroup (from src/runtime/cgroup-layout.ts). */
  cgroupOps: MountOp[];
  /** --private-network: /proc/sys/net stays writable. */
  privateNetwork?: boolean;
  /**
   * The host's /run/systemd/nspawn/propagate/NAME (src/runtime/propagate.ts):
   * bound read-only at /run/host/incoming, a slave of the host's mount, so
   * what machined mounts there (machinectl bind) appears inside.
   */
  propagateDir?: string;
  /** $SYSTEMD_NSPAWN_API_VFS_WRITABLE (default read-only). */
  apiVfs?: ApiVfsMode;
  /** $SYSTEMD_NSPAWN_TMPFS_TMP (default true): a fresh tmpfs on /tmp. */
  tmpfsTmp?: boolean;
}

/**
 * /proc with /proc/sys read-only. With a network namespace of its own, its
 * /proc/sys/net is the container's to set (nspawn leaves it writable too);
 * $SYSTEMD_NSPAWN_API_VFS_WRITABLE=network leaves it writable even without
 * one (then it is the host's, as with nspawn), =yes all of /proc/sys.
 * Masks come later, once /run/host/inaccessible exists.
 */
function procMounts(privateNetwork: boolean, apiVfs: ApiVfsMode): MountOp[] {
  const proc: MountOp = { kind: 'mount', fstype: 'proc', target: '/proc', flags: [...API, 'mkdir'], data: '' };
  if (apiVfs === 'writable') return [proc];
  const netWritable = privateNetwork || apiVfs === 'network-writable';
  return [
    proc,
    { kind: 'bind-inner', source: '/proc/sys', target: '/proc/sys', flags: ['ro', ...API] },
    ...(netWritable ? [{ kind: 'bind-inner', source: '/proc/sys/net', target: '/proc/sys/net', flags: ['rw', ...API] } as MountOp] : []),
  ];
}

/**
 * nspawn's limits on the tmpfs it gives a guest (systemd 252's
 * NESTED_TMPFS_LIMITS and TMPFS_LIMITS_VAR/_ROOTFS/_VOLATILE_STATE, measured
 * the same under Debian's systemd-nspawn 252): without them a tmpfs may
 * grow to half the host's memory, and a guest could fill it. `volatile`:
 * the root of -x/--volatile=overlay|yes (native/rootfs.c has the same
 * words) and --volatile=state's /var.
 */
export const TMPFS_LIMITS = { nested: 'size=10%,nr_inodes=400k', volatile: 'size=25%,nr_inodes=1m' } as const;

function devMounts(input: MountTableInput): MountOp[] {
  const ops: MountOp[] = [
    { kind: 'mount', fstype: 'tmpfs', target: '/dev', flags: ['nosuid', 'strictatime', 'mkdir'], data: 'mode=0755,size=4m,nr_inodes=64k' },
    { kind: 'mount', fstype: 'tmpfs', target: '/dev/shm', flags: ['nosuid', 'nodev', 'strictatime', 'mkdir'], data: `mode=01777,${TMPFS_LIMITS.nested}` },
    { kind: 'mount', fstype: 'mqueue', target: '/dev/mqueue', flags: [...API, 'mkdir'], data: '' },
    { kind: 'mount', fstype: 'devpts', target: '/dev/pts', flags: ['nosuid', 'noexec', 'mkdir'], data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' },
    { kind: 'mkdir', path: '/dev/net', mode: 0o755 },
  ];
  for (const d of DEVICE_NODES) ops.push({ kind: 'mknod', path: d.path, mode: d.mode, major: d.major, minor: d.minor });
  for (const l of DEVICE_SYMLINKS) ops.push({ kind: 'symlink', target: l.target, path: l.path });
  if (input.console) ops.push({ kind: 'console', path: '/dev/console' });
  return ops;
}

/** /run with /run/host: the Container Interface's files from the manager. */
function runMounts(input: MountTableInput): MountOp[] {
  const ops: MountOp[] = [
    { kind: 'mount', fstype: 'tmpfs', target: '/run', flags: ['nosuid', 'nodev', 'strictatime', 'mkdir'], data: 'mode=0755,size=20%,nr_inodes=800k' },
    { kind: 'mount', fstype: 'tmpfs', target: '/run/host', flags: ['nosuid', 'nodev', 'mkdir'], data: 'mode=0755,size=4m' },
    { kind: 'write', path: '/run/host/container-manager', mode: 0o444, content: `${input.managerName}\n` },
    { kind: 'write', path: '/run/host/container-uuid', mode: 0o444, content: `${input.uuid}\n` },
    { kind: 'mkdir', path: INACCESSIBLE_DIR, mode: 0o755 },
    ...INACCESSIBLE_NODES,
    { kind: 'notify-socket', path: '/run/host/notify' },
  ];
  if (input.hostOsRelease)
    ops.push({ kind: 'bind', source: input.hostOsRelease, target: '/run/host/os-release', flags: ['ro', 'nosuid', 'nodev', 'noexec', 'mkdir'] });
  // Not recursive: only what machined mounts later propagates in. The child
  // made the host's mounts slaves, and a bind of a slave is a slave of the
  // same master, as machined's MS_MOVE out of it needs (not shared).
  if (input.propagateDir) ops.push({ kind: 'bind', source: input.propagateDir, target: INCOMING_INSIDE, flags: ['ro', 'mkdir'] });
  return ops;
}

function procMasks(): MountOp[] {
  const ops: MountOp[] = [];
  for (const f of PROC_MASKED_FILES)
    ops.push({ kind: 'bind-inner', source: `${INACCESSIBLE_DIR}/reg`, target: f, flags: ['ro', 'optional', ...API] });
  for (const d of PROC_READ_ONLY_DIRS)
    ops.push({ kind: 'bind-inner', source: d, target: d, flags: ['ro', 'rec', 'optional', ...API] });
  return ops;
}

/** The default mounts, in the order the helper executes them. */
export function defaultMounts(input: MountTableInput): MountOp[] {
  const apiVfs = input.apiVfs ?? 'read-only';
  // nspawn's MOUNT_APPLY_APIVFS_RO covers the read-only sysfs and the /proc masks alike: writable drops all of them.
  const readOnlyApi = apiVfs !== 'writable';
  return [
    ...procMounts(input.privateNetwork ?? false, apiVfs),
    ...devMounts(input),
    ...runMounts(input),
    ...(input.tmpfsTmp ?? true
      ? [{ kind: 'mount', fstype: 'tmpfs', target: '/tmp', flags: ['nosuid', 'nodev', 'strictatime', 'mkdir'], data: `mode=01777,${TMPFS_LIMITS.nested}` } as MountOp]
      : []),
    { kind: 'mount', fstype: 'sysfs', target: '/sys', flags: [...(readOnlyApi ? (['ro'] as const) : []), ...API, 'mkdir'], data: '' },
    ...input.cgroupOps,
    ...(readOnlyApi ? procMasks() : []),
  ];
}

/** Made read-only last, after everything inside them was created. */
export const FINAL_READ_ONLY: readonly string[] = ['/run/host'];
