/**
 * Which cgroup layout the host has and what the container sees at
 * /sys/fs/cgroup, following systemd-nspawn (with a cgroup namespace rooted
 * at the container's own cgroup):
 *   unified (pure v2): cgroup2 at /sys/fs/cgroup, writable.
 *   hybrid: tmpfs with each v1 controller read-only, cgroup2 at "unified"
 *           and name=systemd at "systemd" writable; the tmpfs then read-only.
 *   legacy: as hybrid without "unified".
 */
import { readFileSync, statfsSync } from 'node:fs';
import type { MountFlag, MountOp } from '../plan/types.js';

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

/** The mounts at /sys/fs/cgroup inside the container, for a given layout. */
export function cgroupMounts(layout: CgroupLayout, controllers: Iterable<string>): MountOp[] {
  if (layout === 'unified')
    return [{ kind: 'mount', fstype: 'cgroup2', target: '/sys/fs/cgroup', flags: [...API, 'mkdir'], data: '' }];
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
  if (layout === 'hybrid')
    ops.push({ kind: 'mount', fstype: 'cgroup2', target: '/sys/fs/cgroup/unified', flags: [...API, 'mkdir'], data: '' });
  ops.push({ kind: 'mount', fstype: 'cgroup', target: '/sys/fs/cgroup/systemd', flags: [...API, 'mkdir'], data: 'none,name=systemd' });
  ops.push({ kind: 'remount-ro', target: '/sys/fs/cgroup', flags: [...API] });
  return ops;
}
