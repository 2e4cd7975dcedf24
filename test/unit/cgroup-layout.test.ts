/** What the container sees at /sys/fs/cgroup, per host layout: src/runtime/cgroup-layout.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cgroupMounts, parseProcCgroup } from '../../src/runtime/cgroup-layout.js';
import type { MountFlag } from '../../src/plan/types.js';

const HYBRID = `12:pids:/user.slice/user-1000.slice/session-2.scope
11:cpu,cpuacct:/user.slice
10:net_cls,net_prio:/
9:memory:/user.slice/user-1000.slice/session-2.scope
8:devices:/user.slice
7:freezer:/
6:blkio:/user.slice
5:perf_event:/
4:hugetlb:/
3:cpuset:/
2:rdma:/
1:name=systemd:/user.slice/user-1000.slice/session-2.scope
0::/user.slice/user-1000.slice/session-2.scope
`;

describe('parseProcCgroup', () => {
  it('a hybrid host: every v1 controller hierarchy, name=systemd and the 0:: line', () => {
    const m = parseProcCgroup(HYBRID);
    assert.deepEqual(
      [...m.controllers],
      [
        ['pids', '/user.slice/user-1000.slice/session-2.scope'],
        ['cpu,cpuacct', '/user.slice'],
        ['net_cls,net_prio', '/'],
        ['memory', '/user.slice/user-1000.slice/session-2.scope'],
        ['devices', '/user.slice'],
        ['freezer', '/'],
        ['blkio', '/user.slice'],
        ['perf_event', '/'],
        ['hugetlb', '/'],
        ['cpuset', '/'],
        ['rdma', '/'],
      ],
    );
    assert.equal(m.systemd, '/user.slice/user-1000.slice/session-2.scope');
    assert.equal(m.unified, '/user.slice/user-1000.slice/session-2.scope');
  });

  it('co-mounted controllers stay one hierarchy, by their joint name', () => {
    const m = parseProcCgroup(HYBRID);
    assert.ok(m.controllers.has('cpu,cpuacct'));
    assert.ok(!m.controllers.has('cpu'));
    assert.ok(!m.controllers.has('cpuacct'));
  });

  it('name=systemd and other named hierarchies are not controllers', () => {
    const m = parseProcCgroup('3:name=elogind:/\n2:memory:/a\n1:name=systemd:/b\n');
    assert.deepEqual([...m.controllers.keys()], ['memory']);
    assert.equal(m.systemd, '/b');
    assert.equal(m.unified, undefined);
  });

  it('a pure cgroup2 host: only the 0:: line', () => {
    const m = parseProcCgroup('0::/system.slice/tsnspawn.service\n');
    assert.equal(m.unified, '/system.slice/tsnspawn.service');
    assert.equal(m.systemd, undefined);
    assert.equal(m.controllers.size, 0);
  });

  it('a legacy host without the 0:: line', () => {
    const m = parseProcCgroup('2:cpu,cpuacct:/\n1:name=systemd:/init.scope\n');
    assert.equal(m.unified, undefined);
    assert.equal(m.systemd, '/init.scope');
    assert.deepEqual([...m.controllers.keys()], ['cpu,cpuacct']);
  });

  it('paths keep colons and spaces; blank and odd lines are skipped', () => {
    const m = parseProcCgroup('\n\ngarbage\n4:memory:/a:b/c d\n0::/x:y\n');
    assert.equal(m.controllers.get('memory'), '/a:b/c d');
    assert.equal(m.unified, '/x:y');
  });

  it('no trailing newline, and empty text', () => {
    assert.equal(parseProcCgroup('0::/').unified, '/');
    const e = parseProcCgroup('');
    assert.equal(e.controllers.size, 0);
    assert.equal(e.unified, undefined);
    assert.equal(e.systemd, undefined);
  });
});

describe('cgroupMounts', () => {
  const API: MountFlag[] = ['nosuid', 'nodev', 'noexec'];
  const CONTROLLERS = ['cpu,cpuacct', 'memory', 'net_cls,net_prio', 'pids'];

  it('unified: one writable cgroup2 mount at /sys/fs/cgroup, whatever the controllers', () => {
    for (const c of [[], CONTROLLERS]) {
      const ops = cgroupMounts('unified', c);
      assert.equal(ops.length, 1);
      const op = ops[0]!;
      assert.ok(op.kind === 'mount');
      assert.equal(op.fstype, 'cgroup2');
      assert.equal(op.target, '/sys/fs/cgroup');
      assert.ok(!op.flags.includes('ro'));
      for (const f of API) assert.ok(op.flags.includes(f), f);
    }
  });

  describe('hybrid', () => {
    const ops = cgroupMounts('hybrid', CONTROLLERS);

    it('starts with a small tmpfs at /sys/fs/cgroup', () => {
      const first = ops[0]!;
      assert.ok(first.kind === 'mount');
      assert.equal(first.fstype, 'tmpfs');
      assert.equal(first.target, '/sys/fs/cgroup');
      assert.match(first.data, /mode=0755/);
    });

    it('ends by making that tmpfs read-only', () => {
      assert.deepEqual(ops.at(-1), { kind: 'remount-ro', target: '/sys/fs/cgroup', flags: API });
      assert.equal(ops.filter((o) => o.kind === 'remount-ro' && o.target === '/sys/fs/cgroup').length, 1);
    });

    it('mounts each controller hierarchy by its name, then remounts it read-only', () => {
      for (const names of CONTROLLERS) {
        const target = `/sys/fs/cgroup/${names}`;
        const i = ops.findIndex((o) => o.kind === 'mount' && o.target === target);
        assert.ok(i > 0, names);
        assert.deepEqual(ops[i], { kind: 'mount', fstype: 'cgroup', target, flags: [...API, 'mkdir'], data: names });
        assert.deepEqual(ops[i + 1], { kind: 'remount-ro', target, flags: API });
      }
    });

    it('links each co-mounted controller to the joint hierarchy (cpu -> cpu,cpuacct)', () => {
      const links = ops.filter((o) => o.kind === 'symlink');
      assert.deepEqual(links, [
        { kind: 'symlink', target: 'cpu,cpuacct', path: '/sys/fs/cgroup/cpu' },
        { kind: 'symlink', target: 'cpu,cpuacct', path: '/sys/fs/cgroup/cpuacct' },
        { kind: 'symlink', target: 'net_cls,net_prio', path: '/sys/fs/cgroup/net_cls' },
        { kind: 'symlink', target: 'net_cls,net_prio', path: '/sys/fs/cgroup/net_prio' },
      ]);
      const ro = ops.length - 1;
      for (const l of links) assert.ok(ops.indexOf(l) < ro, 'links are made while the tmpfs is writable');
    });

    it('mounts a writable cgroup2 at unified and a writable name=systemd at systemd', () => {
      assert.ok(ops.some((o) => o.kind === 'mount' && o.fstype === 'cgroup2' && o.target === '/sys/fs/cgroup/unified'));
      assert.ok(ops.some((o) => o.kind === 'mount' && o.fstype === 'cgroup' && o.target === '/sys/fs/cgroup/systemd' && o.data.split(',').includes('name=systemd')));
      for (const t of ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd'])
        assert.ok(!ops.some((o) => o.kind === 'remount-ro' && o.target === t), `${t} stays writable`);
    });

    it('the whole sequence', () => {
      assert.deepEqual(
        ops.map((o) => `${o.kind} ${'fstype' in o ? o.fstype + ' ' : ''}${'path' in o ? o.path : o.target}`),
        [
          'mount tmpfs /sys/fs/cgroup',
          'mount cgroup /sys/fs/cgroup/cpu,cpuacct',
          'remount-ro /sys/fs/cgroup/cpu,cpuacct',
          'symlink /sys/fs/cgroup/cpu',
          'symlink /sys/fs/cgroup/cpuacct',
          'mount cgroup /sys/fs/cgroup/memory',
          'remount-ro /sys/fs/cgroup/memory',
          'mount cgroup /sys/fs/cgroup/net_cls,net_prio',
          'remount-ro /sys/fs/cgroup/net_cls,net_prio',
          'symlink /sys/fs/cgroup/net_cls',
          'symlink /sys/fs/cgroup/net_prio',
          'mount cgroup /sys/fs/cgroup/pids',
          'remount-ro /sys/fs/cgroup/pids',
          'mount cgroup2 /sys/fs/cgroup/unified',
          'mount cgroup /sys/fs/cgroup/systemd',
          'remount-ro /sys/fs/cgroup',
        ],
      );
    });

    it('every mount carries nosuid, nodev, noexec', () => {
      for (const o of ops) if (o.kind === 'mount' || o.kind === 'remount-ro') for (const f of API) assert.ok(o.flags.includes(f), `${o.target} ${f}`);
    });

    it('takes the controllers of parseProcCgroup as they are', () => {
      const fromProc = cgroupMounts('hybrid', parseProcCgroup(HYBRID).controllers.keys());
      assert.equal(fromProc.filter((o) => o.kind === 'mount' && o.fstype === 'cgroup' && o.data !== 'none,name=systemd').length, 11);
    });
  });

  describe('legacy', () => {
    const ops = cgroupMounts('legacy', CONTROLLERS);

    it('is the hybrid layout without the unified hierarchy', () => {
      assert.ok(!ops.some((o) => o.kind === 'mount' && o.fstype === 'cgroup2'));
      assert.deepEqual(
        ops,
        cgroupMounts('hybrid', CONTROLLERS).filter((o) => !(o.kind === 'mount' && o.fstype === 'cgroup2')),
      );
    });

    it('still has name=systemd, and ends read-only', () => {
      assert.ok(ops.some((o) => o.kind === 'mount' && o.target === '/sys/fs/cgroup/systemd'));
      assert.deepEqual(ops.at(-1), { kind: 'remount-ro', target: '/sys/fs/cgroup', flags: API });
    });
  });

  it('without controllers (hybrid): tmpfs, unified, systemd, read-only', () => {
    assert.deepEqual(
      cgroupMounts('hybrid', []).map((o) => ('target' in o ? o.target : '') + ' ' + o.kind),
      ['/sys/fs/cgroup mount', '/sys/fs/cgroup/unified mount', '/sys/fs/cgroup/systemd mount', '/sys/fs/cgroup remount-ro'],
    );
  });
});
