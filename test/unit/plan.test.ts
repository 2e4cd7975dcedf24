/** Settings + facts -> LaunchPlan: src/plan/build.ts and src/plan/mount-table.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootOps } from '../../src/plan/boot.js';
import { buildPlan, type PlanFacts } from '../../src/plan/build.js';
import { capabilityNames } from '../../src/plan/capabilities.js';
import type { LaunchPlan, MountFlag, MountOp } from '../../src/plan/types.js';
import { settingsFromArgs } from '../../src/settings/from-args.js';
import type { Settings } from '../../src/settings/model.js';
import { SAMPLE_UUID, samplePlanFacts } from './helpers.js';

const UUID = SAMPLE_UUID;
const facts = samplePlanFacts;

async function settings(...argv: string[]): Promise<Settings> {
  const s = await settingsFromArgs(['-D', '/var/lib/machines/deb', ...argv]);
  assert.notEqual(s, 'exit');
  return s as Settings;
}

async function plan(argv: string[] = [], over: Partial<PlanFacts> = {}): Promise<LaunchPlan> {
  return buildPlan(await settings(...argv), facts(over));
}

function envMap(p: LaunchPlan): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of p.env) {
    const eq = e.indexOf('=');
    assert.ok(eq > 0, `env entry ${e} is NAME=VALUE`);
    assert.ok(!m.has(e.slice(0, eq)), `env has ${e.slice(0, eq)} only once`);
    m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

const targetOf = (op: MountOp): string | undefined => ('target' in op && op.kind !== 'symlink' ? op.target : 'path' in op ? op.path : undefined);

/** Index of the first op matching pred; fails when there is none. */
function indexOf(ops: MountOp[], what: string, pred: (op: MountOp) => boolean): number {
  const i = ops.findIndex(pred);
  assert.ok(i >= 0, `plan has ${what}`);
  return i;
}

describe('buildPlan: mount order', () => {
  it('mounts /proc first, then makes /proc/sys read-only', async () => {
    const { ops } = await plan();
    assert.deepEqual(ops[0], { kind: 'mount', fstype: 'proc', target: '/proc', flags: ['nosuid', 'nodev', 'noexec', 'mkdir'], data: '' });
    assert.equal(ops[1]!.kind, 'bind-inner');
    assert.equal(targetOf(ops[1]!), '/proc/sys');
    assert.ok((ops[1] as { flags: string[] }).flags.includes('ro'));
  });

  it('mounts the /dev tmpfs before any device node, symlink or mount under /dev', async () => {
    const { ops } = await plan();
    const dev = indexOf(ops, 'a tmpfs on /dev', (o) => o.kind === 'mount' && o.fstype === 'tmpfs' && o.target === '/dev');
    const underDev = ops.map((o, i) => [targetOf(o), i] as const).filter(([t]) => t?.startsWith('/dev/'));
    assert.ok(underDev.length >= 10);
    for (const [t, i] of underDev) assert.ok(i > dev, `${t} after /dev`);
    for (const node of ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/net/tun'])
      indexOf(ops, node, (o) => o.kind === 'mknod' && o.path === node);
    const pts = indexOf(ops, '/dev/pts', (o) => o.kind === 'mount' && o.target === '/dev/pts');
    const ptmx = indexOf(ops, '/dev/ptmx', (o) => o.kind === 'symlink' && o.path === '/dev/ptmx');
    assert.ok(pts < ptmx);
    const net = indexOf(ops, 'mkdir /dev/net', (o) => o.kind === 'mkdir' && o.path === '/dev/net');
    const tun = indexOf(ops, '/dev/net/tun', (o) => o.kind === 'mknod' && o.path === '/dev/net/tun');
    assert.ok(net < tun);
  });

  it('gives /dev/console a pty only when the console is not a pipe', async () => {
    for (const console of ['interactive', 'read-only', 'passive'] as const) {
      const { ops } = await plan([], { console });
      assert.equal(ops.filter((o) => o.kind === 'console').length, 1, console);
      assert.deepEqual(ops.find((o) => o.kind === 'console'), { kind: 'console', path: '/dev/console' });
    }
    const piped = await plan(['-P'], { console: 'pipe' });
    assert.equal(piped.ops.some((o) => o.kind === 'console' || targetOf(o) === '/dev/console'), false);
  });

  it('puts the notify socket at /run/host/notify, inside the /run/host tmpfs', async () => {
    const { ops } = await plan();
    const run = indexOf(ops, '/run tmpfs', (o) => o.kind === 'mount' && o.target === '/run');
    const host = indexOf(ops, '/run/host tmpfs', (o) => o.kind === 'mount' && o.target === '/run/host');
    const notify = indexOf(ops, 'notify socket', (o) => o.kind === 'notify-socket');
    assert.deepEqual(ops[notify], { kind: 'notify-socket', path: '/run/host/notify' });
    assert.ok(run < host && host < notify);
  });

  it('writes the Container Interface files into /run/host', async () => {
    const { ops } = await plan();
    const writes = ops.filter((o): o is Extract<MountOp, { kind: 'write' }> => o.kind === 'write');
    assert.deepEqual(
      writes.map((w) => [w.path, w.content]),
      [
        ['/run/host/container-manager', 'systemd-nspawn\n'],
        ['/run/host/container-uuid', `${UUID}\n`],
      ],
    );
    const osr = indexOf(ops, 'os-release bind', (o) => o.kind === 'bind' && o.target === '/run/host/os-release');
    assert.deepEqual(ops[osr], { kind: 'bind', source: '/etc/os-release', target: '/run/host/os-release', flags: ['ro', 'nosuid', 'nodev', 'noexec', 'mkdir'] });
    const noOsr = await plan([], { hostOsReleasePath: undefined });
    assert.equal(noOsr.ops.some((o) => targetOf(o) === '/run/host/os-release'), false);
  });

  it('masks /proc/kallsyms & co. only after /run/host/inaccessible/reg exists', async () => {
    const { ops } = await plan();
    const reg = indexOf(ops, 'inaccessible/reg', (o) => o.kind === 'mknod' && o.path === '/run/host/inaccessible/reg');
    assert.equal((ops[reg] as { mode: number }).mode, 0o100000, 'a regular file with mode 000');
    for (const f of ['/proc/kallsyms', '/proc/kcore', '/proc/keys', '/proc/sysrq-trigger', '/proc/timer_list']) {
      const i = indexOf(ops, `mask of ${f}`, (o) => o.kind === 'bind-inner' && o.target === f);
      assert.ok(i > reg, `${f} masked after reg was made`);
      assert.deepEqual(ops[i], { kind: 'bind-inner', source: '/run/host/inaccessible/reg', target: f, flags: ['ro', 'optional', 'nosuid', 'nodev', 'noexec'] });
    }
  });

  it('mounts /sys read-only and /tmp as a tmpfs', async () => {
    const { ops } = await plan();
    const sys = ops.find((o) => o.kind === 'mount' && o.target === '/sys') as Extract<MountOp, { kind: 'mount' }>;
    assert.equal(sys.fstype, 'sysfs');
    assert.ok(sys.flags.includes('ro'));
    const tmp = ops.find((o) => o.kind === 'mount' && o.target === '/tmp') as Extract<MountOp, { kind: 'mount' }>;
    assert.equal(tmp.fstype, 'tmpfs');
    assert.equal(tmp.data, 'mode=01777,size=10%,nr_inodes=400k');
  });

  it('places --bind/--tmpfs after every default mount and boot op', async () => {
    const bootOps: MountOp[] = [{ kind: 'write', path: '/run/host/boot-test', mode: 0o444, content: 'x' }];
    const { ops } = await plan(['--bind=/srv/tmp:/tmp/x', '--tmpfs=/var/tmp', '--bind-ro=/srv/a:/dev/a'], { bootOps });
    const user = ops.slice(-4, -1);
    const byTarget = new Map(user.map((o) => [targetOf(o), o]));
    assert.deepEqual(byTarget.get('/tmp/x'), { kind: 'bind', source: '/srv/tmp', target: '/tmp/x', flags: ['mkdir', 'rec'] });
    assert.deepEqual(byTarget.get('/dev/a'), { kind: 'bind', source: '/srv/a', target: '/dev/a', flags: ['mkdir', 'rec', 'ro'] });
    assert.deepEqual(byTarget.get('/var/tmp'), { kind: 'mount', fstype: 'tmpfs', target: '/var/tmp', flags: ['nosuid', 'nodev', 'strictatime', 'mkdir'], data: 'mode=0755' });
    assert.equal(ops.findIndex((o) => o.kind === 'write' && o.path === '/run/host/boot-test'), ops.length - 5, 'boot ops come right before the user mounts');
    const tmp = indexOf(ops, '/tmp', (o) => o.kind === 'mount' && o.target === '/tmp');
    const dev = indexOf(ops, '/dev', (o) => o.kind === 'mount' && o.target === '/dev');
    assert.ok(tmp < ops.length - 4 && dev < ops.length - 4, 'the default /tmp and /dev do not cover user mounts');
  });

  it('applies user mounts parent first, whatever the option order, so none hides another (as nspawn sorts them)', async () => {
    // systemd-nspawn sorts custom mounts by destination ("prefix first").
    for (const argv of [
      ['--bind=/srv/b:/mnt/a/b', '--tmpfs=/mnt/a'],
      ['--bind=/srv/b:/mnt/a/b', '--bind=/srv/a:/mnt/a'],
      ['--tmpfs=/mnt/a/b', '--bind-ro=/srv/a:/mnt/a'],
    ]) {
      const { ops } = await plan(argv);
      const parent = indexOf(ops, '/mnt/a', (o) => targetOf(o) === '/mnt/a');
      const child = indexOf(ops, '/mnt/a/b', (o) => targetOf(o) === '/mnt/a/b');
      assert.ok(parent < child, `${argv.join(' ')}: /mnt/a (op ${parent}) must be mounted before /mnt/a/b (op ${child})`);
    }
  });

  it('with -b, sets a fresh boot id and masks /proc/kmsg once /run and the inaccessible file exist', async () => {
    const bootId = '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9';
    const { ops } = await plan(['-b', '--bind=/srv:/srv'], { bootOps: bootOps(bootId) });
    const run = indexOf(ops, '/run', (o) => o.kind === 'mount' && o.target === '/run');
    const reg = indexOf(ops, 'inaccessible/reg', (o) => o.kind === 'mknod' && o.path === '/run/host/inaccessible/reg');
    const write = indexOf(ops, 'boot id file', (o) => o.kind === 'write' && o.content === `${bootId}\n`);
    const bind = indexOf(ops, 'boot_id bind', (o) => o.kind === 'bind-inner' && o.target === '/proc/sys/kernel/random/boot_id');
    const kmsg = indexOf(ops, '/proc/kmsg mask', (o) => o.kind === 'bind-inner' && o.target === '/proc/kmsg');
    const userBind = indexOf(ops, '--bind', (o) => o.kind === 'bind' && o.target === '/srv');
    assert.ok(run < write && write < bind, 'the boot id is written under /run, then bound');
    assert.equal((ops[bind] as { source: string }).source, (ops[write] as { path: string }).path);
    assert.ok((ops[bind] as { flags: string[] }).flags.includes('ro'));
    assert.ok(reg < kmsg);
    assert.ok(bind < userBind && kmsg < userBind);
  });

  it('makes /run/host read-only last', async () => {
    for (const argv of [[], ['--bind=/srv:/run/host/srv']]) {
      const { ops } = await plan(argv);
      assert.deepEqual(ops[ops.length - 1], { kind: 'remount-ro', target: '/run/host', flags: ['nosuid', 'nodev', 'noexec'] });
      assert.equal(ops.filter((o) => o.kind === 'remount-ro').length, 1);
    }
  });

  it('adds the cgroup ops after /sys', async () => {
    const cgroupOps: MountOp[] = [{ kind: 'mount', fstype: 'cgroup2', target: '/sys/fs/cgroup', flags: ['nosuid', 'nodev', 'noexec'], data: '' }];
    const { ops } = await plan([], { cgroupOps });
    const sys = indexOf(ops, '/sys', (o) => o.kind === 'mount' && o.target === '/sys');
    const cg = indexOf(ops, 'cgroup2', (o) => o.kind === 'mount' && o.fstype === 'cgroup2');
    assert.ok(sys < cg);
  });
});

describe('buildPlan: payload and identity', () => {
  it('keeps systemd-nspawn\'s default capability bounding set (fdecafff)', async () => {
    const p = await plan();
    assert.equal(p.capsRetain, 'fdecafff');
    const names = capabilityNames(BigInt('0x' + p.capsRetain));
    for (const absent of ['CAP_NET_ADMIN', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_TIME', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_BPF'])
      assert.ok(!names.includes(absent), `${absent} is dropped`);
    for (const kept of ['CAP_SYS_ADMIN', 'CAP_CHOWN', 'CAP_SETUID', 'CAP_MKNOD', 'CAP_SYS_BOOT', 'CAP_NET_RAW']) assert.ok(names.includes(kept), `${kept} is kept`);
  });

  it('adds --capability to the default set and takes --drop-capability away (drop wins), "all" for every one', async () => {
    const names = async (...argv: string[]): Promise<string[]> => capabilityNames(BigInt('0x' + (await plan(argv)).capsRetain));
    const added = await names('--capability=cap_net_admin,25');
    assert.ok(added.includes('CAP_NET_ADMIN') && added.includes('CAP_SYS_TIME') && added.includes('CAP_CHOWN'));
    const dropped = await names('--drop-capability=CAP_MKNOD', '--drop-capability=CAP_SYS_BOOT');
    assert.ok(!dropped.includes('CAP_MKNOD') && !dropped.includes('CAP_SYS_BOOT') && dropped.includes('CAP_SYS_ADMIN'));
    assert.deepEqual(await names('--capability=CAP_NET_ADMIN', '--drop-capability=CAP_NET_ADMIN'), await names());
    assert.equal((await plan(['--capability=all'])).capsRetain, '1ffffffffff');
    assert.equal((await plan(['--drop-capability=all'])).capsRetain, '0');
  });

  it('--private-network: a network namespace, CAP_NET_ADMIN kept (unless dropped)', async () => {
    const p = await plan(['--private-network']);
    assert.equal(p.namespaces.net, true);
    assert.ok(capabilityNames(BigInt('0x' + p.capsRetain)).includes('CAP_NET_ADMIN'));
    assert.ok(!capabilityNames(BigInt('0x' + (await plan(['--private-network', '--drop-capability=CAP_NET_ADMIN'])).capsRetain)).includes('CAP_NET_ADMIN'));
    assert.equal((await plan()).namespaces.net, false);
  });

  it('builds the Container Interface environment', async () => {
    const env = envMap(await plan());
    assert.equal(env.get('container'), 'systemd-nspawn', 'nspawn\'s name by default');
    const own = await plan(['--container-name=tsnspawn']);
    assert.equal(envMap(own).get('container'), 'tsnspawn');
    assert.ok(own.ops.some((o) => o.kind === 'write' && o.path === '/run/host/container-manager' && o.content === 'tsnspawn\n'));
    assert.equal(env.get('container_uuid'), UUID);
    assert.equal(env.get('container_host_id'), 'debian');
    assert.equal(env.get('container_host_version_id'), '12');
    assert.equal(env.has('container_host_build_id'), false);
    assert.equal(env.has('container_host_name'), false, 'only ID, VERSION_ID, BUILD_ID, VARIANT_ID are passed');
    assert.equal(env.get('NOTIFY_SOCKET'), '/run/host/notify');
    assert.equal(env.get('PATH'), '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    assert.equal(env.get('HOME'), '/root');
    assert.equal(env.get('USER'), 'root');
    assert.equal(env.get('LOGNAME'), 'root');
    assert.equal(env.get('TERM'), 'xterm-256color');
  });

  it('sets LANG=C.UTF-8 for a command, but not when booting an init', async () => {
    assert.equal(envMap(await plan()).get('LANG'), 'C.UTF-8');
    assert.equal(envMap(await plan(['-b'])).has('LANG'), false);
  });

  it('lets -E override defaults such as PATH, and add variables', async () => {
    const env = envMap(await plan(['-E', 'PATH=/opt/bin', '-E', 'FOO=bar baz', '-E', 'LANG=de_DE.UTF-8']));
    assert.equal(env.get('PATH'), '/opt/bin');
    assert.equal(env.get('FOO'), 'bar baz');
    assert.equal(env.get('LANG'), 'de_DE.UTF-8');
    assert.equal(env.get('container'), 'systemd-nspawn');
  });

  it('takes the user identity for env, uid/gid/groups and cwd', async () => {
    const user = { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice', shell: '/bin/bash', groups: [10, 29] };
    const p = await plan(['-u', 'alice'], { user, defaultCwd: '/home/alice' });
    assert.equal(p.uid, 1000);
    assert.equal(p.gid, 1000);
    assert.deepEqual(p.groups, [10, 29]);
    assert.equal(p.cwd, '/home/alice');
    const env = envMap(p);
    assert.equal(env.get('HOME'), '/home/alice');
    assert.equal(env.get('USER'), 'alice');
    assert.equal(env.get('LOGNAME'), 'alice');
  });

  it('defaults the hostname to the machine name; --hostname overrides it', async () => {
    assert.equal((await plan()).hostname, 'deb');
    assert.equal((await plan([], { machineName: 'other' })).hostname, 'other');
    assert.equal((await plan(['--hostname=web'])).hostname, 'web');
  });

  it('uses the working directory prepare chose (home for the shell, / for a command); --chdir overrides it', async () => {
    assert.equal((await plan()).cwd, '/root');
    assert.equal((await plan(['/bin/true'], { defaultCwd: '/' })).cwd, '/');
    assert.equal((await plan(['--chdir=/srv/work'])).cwd, '/srv/work');
    assert.equal((await plan(['--chdir=/srv/work'], { defaultCwd: '/' })).cwd, '/srv/work');
  });

  it('passes --read-only, the console mode, root, exec and argv through', async () => {
    assert.equal((await plan()).readOnlyRoot, false);
    const p = await plan(['--read-only'], { console: 'read-only', exec: '/usr/bin/env', argv: ['env', '-i'] });
    assert.equal(p.readOnlyRoot, true);
    assert.equal(p.console, 'read-only');
    assert.equal(p.root, '/var/lib/machines/deb');
    assert.equal(p.exec, '/usr/bin/env');
    assert.deepEqual(p.argv, ['env', '-i']);
  });

  it('unshares uts and ipc, cgroup when the kernel has it, and no network', async () => {
    assert.deepEqual((await plan()).namespaces, { uts: true, ipc: true, cgroup: true, net: false });
    assert.deepEqual((await plan([], { cgroupNamespace: false })).namespaces, { uts: true, ipc: true, cgroup: false, net: false });
  });

  it('is JSON-serialisable and a pure function of its input', async () => {
    const s = await settings('--bind=/srv:/srv');
    const a = buildPlan(s, facts());
    const b = buildPlan(s, facts());
    assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
    assert.deepEqual(a, b);
  });
});

describe('buildPlan: snapshot of the mount ops', () => {
  // A change here changes what every container sees: update it on purpose.
  it('-D deb --bind-ro=/srv/data:/data --bind=/home/u/src:/src:norbind --tmpfs=/scratch:mode=0700, interactive', async () => {
    const p = await plan(['--bind-ro=/srv/data:/data', '--bind=/home/u/src:/src:norbind', '--tmpfs=/scratch:mode=0700', '/bin/sh']);
    const API: MountFlag[] = ['nosuid', 'nodev', 'noexec'];
    const MASK: MountFlag[] = ['ro', 'optional', ...API];
    const RODIR: MountFlag[] = ['ro', 'rec', 'optional', ...API];
    const expected: MountOp[] = [
      { kind: 'mount', fstype: 'proc', target: '/proc', flags: [...API, 'mkdir'], data: '' },
      { kind: 'bind-inner', source: '/proc/sys', target: '/proc/sys', flags: ['ro', ...API] },
      { kind: 'mount', fstype: 'tmpfs', target: '/dev', flags: ['nosuid', 'strictatime', 'mkdir'], data: 'mode=0755,size=4m,nr_inodes=64k' },
      { kind: 'mount', fstype: 'tmpfs', target: '/dev/shm', flags: ['nosuid', 'nodev', 'strictatime', 'mkdir'], data: 'mode=01777,size=10%,nr_inodes=400k' },
      { kind: 'mount', fstype: 'mqueue', target: '/dev/mqueue', flags: [...API, 'mkdir'], data: '' },
      { kind: 'mount', fstype: 'devpts', target: '/dev/pts', flags: ['nosuid', 'noexec', 'mkdir'], data: 'newinstance,ptmxmode=0666,mode=0620,gid=5' },
      { kind: 'mkdir', path: '/dev/net', mode: 0o755 },
      { kind: 'mknod', path: '/dev/null', mode: 0o20666, major: 1, minor: 3 },
      { kind: 'mknod', path: '/dev/zero', mode: 0o20666, major: 1, minor: 5 },
      { kind: 'mknod', path: '/dev/full', mode: 0o20666, major: 1, minor: 7 },
      { kind: 'mknod', path: '/dev/random', mode: 0o20666, major: 1, minor: 8 },
      { kind: 'mknod', path: '/dev/urandom', mode: 0o20666, major: 1, minor: 9 },
      { kind: 'mknod', path: '/dev/tty', mode: 0o20666, major: 5, minor: 0 },
      { kind: 'mknod', path: '/dev/net/tun', mode: 0o20666, major: 10, minor: 200 },
      { kind: 'symlink', target: 'pts/ptmx', path: '/dev/ptmx' },
      { kind: 'symlink', target: '/proc/self/fd', path: '/dev/fd' },
      { kind: 'symlink', target: '/proc/self/fd/0', path: '/dev/stdin' },
      { kind: 'symlink', target: '/proc/self/fd/1', path: '/dev/stdout' },
      { kind: 'symlink', target: '/proc/self/fd/2', path: '/dev/stderr' },
      { kind: 'console', path: '/dev/console' },
      { kind: 'mount', fstype: 'tmpfs', target: '/run', flags: ['nosuid', 'nodev', 'strictatime', 'mkdir'], data: 'mode=0755,size=20%,nr_inodes=800k' },
      { kind: 'mount', fstype: 'tmpfs', target: '/run/host', flags: ['nosuid', 'nodev', 'mkdir'], data: 'mode=0755,size=4m' },
      { kind: 'write', path: '/run/host/container-manager', mode: 0o444, content: 'systemd-nspawn\n' },
      { kind: 'write', path: '/run/host/container-uuid', mode: 0o444, content: `${UUID}\n` },
      { kind: 'mkdir', path: '/run/host/inaccessible', mode: 0o755 },
      { kind: 'mknod', path: '/run/host/inaccessible/reg', mode: 0o100000, major: 0, minor: 0 },
      { kind: 'mkdir', path: '/run/host/inaccessible/dir', mode: 0 },
      { kind: 'mknod', path: '/run/host/inaccessible/fifo', mode: 0o10000, major: 0, minor: 0 },
      { kind: 'mknod', path: '/run/host/inaccessible/sock', mode: 0o140000, major: 0, minor: 0 },
      { kind: 'mknod', path: '/run/host/inaccessible/chr', mode: 0o20000, major: 0, minor: 0 },
      { kind: 'mknod', path: '/run/host/inaccessible/blk', mode: 0o60000, major: 0, minor: 0 },
      { kind: 'notify-socket', path: '/run/host/notify' },
      { kind: 'bind', source: '/etc/os-release', target: '/run/host/os-release', flags: ['ro', ...API, 'mkdir'] },
      { kind: 'mount', fstype: 'tmpfs', target: '/tmp', flags: ['nosuid', 'nodev', 'strictatime', 'mkdir'], data: 'mode=01777,size=10%,nr_inodes=400k' },
      { kind: 'mount', fstype: 'sysfs', target: '/sys', flags: ['ro', ...API, 'mkdir'], data: '' },
      { kind: 'bind-inner', source: '/run/host/inaccessible/reg', target: '/proc/kallsyms', flags: MASK },
      { kind: 'bind-inner', source: '/run/host/inaccessible/reg', target: '/proc/kcore', flags: MASK },
      { kind: 'bind-inner', source: '/run/host/inaccessible/reg', target: '/proc/keys', flags: MASK },
      { kind: 'bind-inner', source: '/run/host/inaccessible/reg', target: '/proc/sysrq-trigger', flags: MASK },
      { kind: 'bind-inner', source: '/run/host/inaccessible/reg', target: '/proc/timer_list', flags: MASK },
      { kind: 'bind-inner', source: '/proc/acpi', target: '/proc/acpi', flags: RODIR },
      { kind: 'bind-inner', source: '/proc/apm', target: '/proc/apm', flags: RODIR },
      { kind: 'bind-inner', source: '/proc/asound', target: '/proc/asound', flags: RODIR },
      { kind: 'bind-inner', source: '/proc/bus', target: '/proc/bus', flags: RODIR },
      { kind: 'bind-inner', source: '/proc/fs', target: '/proc/fs', flags: RODIR },
      { kind: 'bind-inner', source: '/proc/irq', target: '/proc/irq', flags: RODIR },
      { kind: 'bind-inner', source: '/proc/scsi', target: '/proc/scsi', flags: RODIR },
      { kind: 'bind', source: '/srv/data', target: '/data', flags: ['mkdir', 'rec', 'ro'] },
      { kind: 'bind', source: '/home/u/src', target: '/src', flags: ['mkdir'] },
      { kind: 'mount', fstype: 'tmpfs', target: '/scratch', flags: ['nosuid', 'nodev', 'strictatime', 'mkdir'], data: 'mode=0700' },
      { kind: 'remount-ro', target: '/run/host', flags: ['nosuid', 'nodev', 'noexec'] },
    ];
    assert.deepEqual(JSON.parse(JSON.stringify(p.ops)), expected);
  });
});
