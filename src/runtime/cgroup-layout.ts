/**
 * Which cgroup layout the host has and what the container sees at
 * /sys/fs/cgroup, following systemd-nspawn (with a cgroup namespace rooted
 * at the container's own cgroup):
 *   unified (pure v2): cgroup2 at /sys/fs/cgroup, writable.
 *   hybrid: tmpfs with each v1 controller read-only, cgroup2 at "unified"
 *           and name=systemd at "systemd" writable; the tmpfs then read-only.
 *   legacy: as hybrid without "unified".
 * The container's layout is the host's unless $SYSTEMD_NSPAWN_UNIFIED_HIERARCHY
 * asks for unified or legacy. Without a cgroup namespace
 * ($SYSTEMD_NSPAWN_USE_CGNS=0) each hierarchy is the host's whole tree:
 * read-only, with only the container's own cgroup bound writable onto
 * itself (nspawn's mount_systemd_cgroup_writable).
 */
import { readFileSync, statfsSync } from 'node:fs';
import type { MountFlag, MountOp } from '../plan/types.js';
import { refuse } from '../util/errors.js';

export type CgroupLayout = 'unified' | 'hybrid' | 'legacy';

const CGROUP2_SUPER_MAGIC = 0x63677270;

export function detectLayout(root = '/sys/fs/cgroup'): CgroupLayout {
  if (statfsSync(root).type === CGROUP2_SUPER_MAGIC) return 'unified';
  try {
    if (statfsSync(`${root}/unified`).type === CGROUP2_SUPER_MAGIC) return 'hybrid';
  } catch {
    /* no unified tree */
  }
  return 'legacy';
}

export interface CgroupMembership {
  /** v1 hierarchies with controllers, e.g. "cpu,cpuacct" -> path. */
  controllers: Map<string, string>;
  /** name=systemd path (v1), if mounted. */
  systemd?: string;
  /** the v2 path ("0::/..."). */
  unified?: string;
}

/** Parses /proc/PID/cgroup. */
export function parseProcCgroup(text: string): CgroupMembership {
  const m: CgroupMembership = { controllers: new Map() };
  for (const line of text.split('\n')) {
    const match = line.match(/^(\d+):([^:]*):(.*)$/);
    if (!match) continue;
    const [, id, names, path] = match;
    if (id === '0' && names === '') m.unified = path!;
    else if (names === 'name=systemd') m.systemd = path!;
    else if (names && !names.startsWith('name=')) m.controllers.set(names, path!);
  }
  return m;
}

export function ownMembership(): CgroupMembership {
  return parseProcCgroup(readFileSync('/proc/self/cgroup', 'utf8'));
}

const API: MountFlag[] = ['nosuid', 'nodev', 'noexec'];

/**
 * The container's layout: the host's, or what $SYSTEMD_NSPAWN_UNIFIED_HIERARCHY
 * asks for where the host has the hierarchy it needs (cgroup2 for unified,
 * name=systemd for legacy: the container's cgroup is made in the host's).
 */
export function containerLayout(host: CgroupLayout, requested: 'unified' | 'legacy' | undefined): CgroupLayout {
  if (requested === undefined || requested === host) return host;
  if (requested === 'unified' && host === 'legacy')
    refuse('cannot use SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1: the host has no cgroup2 hierarchy (its layout is legacy); unset it');
  if (requested === 'legacy' && host === 'unified')
    refuse('cannot use SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0: the host has no cgroup v1 name=systemd hierarchy (its layout is pure cgroup2); unset it');
  return requested;
}

/**
 * Without a cgroup namespace: the container's own cgroup in the hierarchy
 * at target (the helper finds it in /proc/self/cgroup) bound writable onto
 * itself, then the hierarchy's root made read-only (not recursively).
 */
function ownCgroupWritable(target: string): MountOp[] {
  return [
    { kind: 'bind-inner', source: target, target, flags: ['own-cgroup'] },
    { kind: 'remount-ro', target, flags: [...API] },
  ];
}

/** The mounts at /sys/fs/cgroup inside the container, for a given layout, with or without a cgroup namespace. */
export function cgroupMounts(layout: CgroupLayout, controllers: Iterable<string>, namespace = true): MountOp[] {
  const systemdWritable = (target: string): MountOp[] => (namespace ? [] : ownCgroupWritable(target));
  if (layout === 'unified')
    return [{ kind: 'mount', fstype: 'cgroup2', target: '/sys/fs/cgroup', flags: [...API, 'mkdir'], data: '' }, ...systemdWritable('/sys/fs/cgroup')];
  const ops: MountOp[] = [
    {
      kind: 'mount',
      fstype: 'tmpfs',
      target: '/sys/fs/cgroup',
      flags: [...API, 'strictatime', 'mkdir'],
      data: 'mode=0755,size=4m,nr_inodes=1k',
    },
  ];
  for (const names of controllers) {
    const target = `/sys/fs/cgroup/${names}`;
    ops.push({ kind: 'mount', fstype: 'cgroup', target, flags: [...API, 'mkdir'], data: names });
    ops.push({ kind: 'remount-ro', target, flags: [...API] });
    // Co-mounted controllers get a link per name (cpu -> cpu,cpuacct).
    if (names.includes(','))
      for (const n of names.split(',')) ops.push({ kind: 'symlink', target: names, path: `/sys/fs/cgroup/${n}` });
  }
  if (layout === 'hybrid') {
    ops.push({ kind: 'mount', fstype: 'cgroup2', target: '/sys/fs/cgroup/unified', flags: [...API, 'mkdir'], data: '' });
    ops.push(...systemdWritable('/sys/fs/cgroup/unified'));
  }
  ops.push({ kind: 'mount', fstype: 'cgroup', target: '/sys/fs/cgroup/systemd', flags: [...API, 'mkdir'], data: 'none,name=systemd' });
  ops.push(...systemdWritable('/sys/fs/cgroup/systemd'));
  ops.push({ kind: 'remount-ro', target: '/sys/fs/cgroup', flags: [...API] });
  return ops;
}
