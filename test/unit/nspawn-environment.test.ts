/**
 * systemd-nspawn's environment variables: parsing (src/settings/nspawn-environment.ts)
 * and the plan each value gives (mount-table.ts, cgroup-layout.ts, build.ts),
 * the combinations refused before a start (nspawn-environment-checks.ts),
 * os-release only for -b (image/os-tree.ts), the README's table.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { checkOsTree } from '../../src/image/os-tree.js';
import { planRegistration } from '../../src/machined/registration.js';
import { planNetwork } from '../../src/plan/network.js';
import { settingsFromArgs } from '../../src/settings/from-args.js';
import { buildPlan, type PlanFacts } from '../../src/plan/build.js';
import type { LaunchPlan, MountOp } from '../../src/plan/types.js';
import { cgroupMounts, containerLayout } from '../../src/runtime/cgroup-layout.js';
import { checkNspawnEnvironment } from '../../src/runtime/nspawn-environment-checks.js';
import { defaultSettings, type Settings } from '../../src/settings/model.js';
import {
  defaultNspawnEnvironment,
  environmentTableMarkdown,
  NSPAWN_VARIABLES,
  readNspawnEnvironment,
  type NspawnEnvironment,
} from '../../src/settings/nspawn-environment.js';
import { samplePlanFacts, Scratch, throwsUserError } from './helpers.js';

const scratch = new Scratch();
after(() => scratch.remove());

describe('readNspawnEnvironment', () => {
  it('unset: nspawn\'s defaults (host layout, cgroup namespace, read-only API file systems, tmpfs /tmp, os-release checked, tree locked)', () => {
    assert.deepEqual(readNspawnEnvironment({}), {
      cgroupNamespace: true,
      apiVfs: 'read-only',
      tmpfsTmp: true,
      checkOsRelease: true,
      seccomp: true,
      lock: true,
      ignored: [],
    });
    assert.deepEqual(readNspawnEnvironment({}), defaultNspawnEnvironment());
  });

  it('SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: true is unified, false legacy, empty unset; the old name UNIFIED_CGROUP_HIERARCHY when the new one is unset', () => {
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '1' }).cgroupLayout, 'unified');
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: 'yes' }).cgroupLayout, 'unified');
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: 'off' }).cgroupLayout, 'legacy');
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '' }).cgroupLayout, undefined);
    assert.equal(readNspawnEnvironment({ UNIFIED_CGROUP_HIERARCHY: '0' }).cgroupLayout, 'legacy');
    // The new name wins; an empty new one is unset and hides the old one too (nspawn's getenv order).
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '1', UNIFIED_CGROUP_HIERARCHY: '0' }).cgroupLayout, 'unified');
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: '', UNIFIED_CGROUP_HIERARCHY: '0' }).cgroupLayout, undefined);
  });

  it('the booleans take systemd\'s words in any case', () => {
    for (const w of ['1', 'yes', 'Y', 'true', 'T', 'on', 'ON']) assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_USE_CGNS: w }).cgroupNamespace, true, w);
    for (const w of ['0', 'no', 'N', 'false', 'f', 'off', 'Off']) assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_USE_CGNS: w }).cgroupNamespace, false, w);
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_TMPFS_TMP: '0' }).tmpfsTmp, false);
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_CHECK_OS_RELEASE: 'no' }).checkOsRelease, false);
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_LOCK: 'false' }).lock, false);
    assert.equal(readNspawnEnvironment({}).lock, true);
  });

  it('SYSTEMD_NSPAWN_API_VFS_WRITABLE: network (exactly), or a boolean', () => {
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'network' }).apiVfs, 'network-writable');
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'yes' }).apiVfs, 'writable');
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_API_VFS_WRITABLE: '0' }).apiVfs, 'read-only');
    throwsUserError(() => readNspawnEnvironment({ SYSTEMD_NSPAWN_API_VFS_WRITABLE: 'Network' }), '$SYSTEMD_NSPAWN_API_VFS_WRITABLE', 'network, or a boolean');
  });

  it('a bad value is refused naming the variable and the value, for every variable (nspawn: "Failed to parse $NAME")', () => {
    for (const v of NSPAWN_VARIABLES.filter((v) => v.takes.includes('boolean'))) {
      throwsUserError(() => readNspawnEnvironment({ [v.name]: 'maybe' }), `$${v.name}`, "'maybe'", 'boolean');
      for (const alias of v.aliases ?? []) throwsUserError(() => readNspawnEnvironment({ [alias]: 'maybe' }), `$${alias}`);
    }
    // Empty is a bad boolean except for UNIFIED_HIERARCHY (nspawn's getenv_bool vs isempty).
    throwsUserError(() => readNspawnEnvironment({ SYSTEMD_NSPAWN_TMPFS_TMP: '' }), '$SYSTEMD_NSPAWN_TMPFS_TMP');
    throwsUserError(() => readNspawnEnvironment({ SYSTEMD_NSPAWN_LOCK: '' }), '$SYSTEMD_NSPAWN_LOCK');
  });
});

describe('the variables nspawn reads besides the cgroup, API VFS and os-release ones', () => {
  it('SYSTEMD_NSPAWN_SHARE_NS_IPC/PID/UTS and SHARE_SYSTEM: true is refused naming the variable, false is the default', () => {
    for (const name of ['SYSTEMD_NSPAWN_SHARE_NS_IPC', 'SYSTEMD_NSPAWN_SHARE_NS_PID', 'SYSTEMD_NSPAWN_SHARE_NS_UTS', 'SYSTEMD_NSPAWN_SHARE_SYSTEM']) {
      throwsUserError(() => readNspawnEnvironment({ [name]: 'yes' }), `${name}=yes`, 'of its own', 'unset it');
      assert.deepEqual(readNspawnEnvironment({ [name]: '0' }), defaultNspawnEnvironment());
    }
  });

  it('SYSTEMD_LOG_SECCOMP=1 is taken with a warning; 0 changes nothing; SYSTEMD_NSPAWN_LOCK=1 is the default, 0 turns the lock off', () => {
    const env = readNspawnEnvironment({ SYSTEMD_NSPAWN_LOCK: '1', SYSTEMD_LOG_SECCOMP: 'yes' });
    assert.equal(env.ignored.length, 1);
    assert.match(env.ignored[0]!, /SYSTEMD_LOG_SECCOMP .*audit log/);
    assert.equal(env.lock, true);
    assert.deepEqual(readNspawnEnvironment({ SYSTEMD_LOG_SECCOMP: '0' }), defaultNspawnEnvironment());
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_LOCK: 'false' }).lock, false);
  });

  it('SYSTEMD_NSPAWN_CONTAINER_SERVICE: any text, given to machined as the service', () => {
    const s = { ...defaultSettings(), nspawnEnvironment: readNspawnEnvironment({ SYSTEMD_NSPAWN_CONTAINER_SERVICE: 'ci-runner' }) };
    const facts = { machineName: 'deb', uuid: '3f2504e04f8941d39a0c0305e82c3301', root: '/d', killSignal: 37, busSocket: '/run/dbus/system_bus_socket', resumed: false };
    assert.equal(planRegistration(s, facts)!.machine?.service, 'ci-runner');
    assert.equal(planRegistration(defaultSettings(), facts)!.machine?.service, 'tsnspawn');
  });

  it('SYSTEMD_NSPAWN_NETWORK_MAC: host0\'s address, in nspawn\'s forms; zeros mean derived; a group address or another form is refused', () => {
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_NETWORK_MAC: '12:34:56:78:90:AB' }).networkMac, '12:34:56:78:90:ab');
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_NETWORK_MAC: '12-34-56-78-90-ab' }).networkMac, '12:34:56:78:90:ab');
    assert.equal(readNspawnEnvironment({ SYSTEMD_NSPAWN_NETWORK_MAC: '00:00:00:00:00:00' }).networkMac, undefined);
    for (const bad of ['13:34:56:78:90:ab', '12:34:56:78:90', '12:34-56:78:90:ab', '1234.5678.90ab', ''])
      throwsUserError(() => readNspawnEnvironment({ SYSTEMD_NSPAWN_NETWORK_MAC: bad }), '$SYSTEMD_NSPAWN_NETWORK_MAC', 'MAC address');
    const s = { ...defaultSettings(), networkVeth: true, nspawnEnvironment: readNspawnEnvironment({ SYSTEMD_NSPAWN_NETWORK_MAC: '12:34:56:78:90:ab' }) };
    const [veth] = planNetwork(s, { machineName: 'deb', hostMachineId: '3d1219c7c4c5404aaa1f6d2a48adfda4' })!.links;
    assert.equal(veth!.containerMac, '12:34:56:78:90:ab');
    assert.notEqual(veth!.hostMac, '12:34:56:78:90:ab', 'the host side keeps its derived address');
  });

  it('SYSTEMD_SUPPRESS_SYNC over --suppress-sync (nspawn reads it after the command line), not marked as the command line\'s; SYSTEMD_SECCOMP=0 turns the filter off', async () => {
    const saved = { ...process.env };
    try {
      process.env.SYSTEMD_SUPPRESS_SYNC = '1';
      process.env.SYSTEMD_SECCOMP = 'no';
      const s = (await settingsFromArgs(['-D', '/d', '--suppress-sync=no'])) as Settings;
      assert.equal(s.suppressSync, true);
      assert.equal(s.syscallFilter, false);
      process.env.SYSTEMD_SUPPRESS_SYNC = 'off';
      const off = (await settingsFromArgs(['-D', '/d'])) as Settings;
      assert.equal(off.suppressSync, false);
      assert.ok(!off.setOnCommandLine.has('suppress-sync'), 'a .nspawn file\'s SuppressSync= still applies');
      process.env.SYSTEMD_SECCOMP = 'maybe';
      await assert.rejects(settingsFromArgs(['-D', '/d']), /invalid value 'maybe' of \$SYSTEMD_SECCOMP/);
    } finally {
      for (const k of ['SYSTEMD_SUPPRESS_SYNC', 'SYSTEMD_SECCOMP']) if (saved[k] === undefined) delete process.env[k];
        else process.env[k] = saved[k];
    }
  });
});

/** A command container on a pipe, on a host without os-release or TERM. */
const facts = (over: Partial<PlanFacts> = {}): PlanFacts =>
  samplePlanFacts({ console: 'pipe', hostOsRelease: {}, hostOsReleasePath: undefined, hostTerm: undefined, ...over });

function planWith(env: Partial<NspawnEnvironment>, over: Partial<Settings> = {}): LaunchPlan {
  return buildPlan({ ...defaultSettings(), ...over, nspawnEnvironment: { ...defaultNspawnEnvironment(), ...env } }, facts());
}

const at = (p: LaunchPlan, target: string): MountOp[] => p.ops.filter((op) => 'target' in op && op.kind !== 'symlink' && op.target === target);

describe('the plan for each value', () => {
  it('API VFS read-only (default): /proc/sys bound read-only, /sys read-only, the /proc files masked; /proc/sys/net writable only with a private network', () => {
    const p = planWith({});
    assert.deepEqual(at(p, '/proc/sys'), [{ kind: 'bind-inner', source: '/proc/sys', target: '/proc/sys', flags: ['ro', 'nosuid', 'nodev', 'noexec'] }]);
    assert.deepEqual(at(p, '/proc/sys/net'), []);
    assert.ok(at(p, '/sys')[0]!.kind === 'mount' && (at(p, '/sys')[0] as { flags: string[] }).flags.includes('ro'));
    assert.equal(at(p, '/proc/kallsyms').length, 1);
    assert.equal(at(p, '/proc/acpi').length, 1);
    const net = planWith({}, { privateNetwork: true });
    assert.deepEqual(at(net, '/proc/sys/net'), [{ kind: 'bind-inner', source: '/proc/sys/net', target: '/proc/sys/net', flags: ['rw', 'nosuid', 'nodev', 'noexec'] }]);
  });

  it('API VFS network: /proc/sys/net writable even without a private network, the rest as read-only', () => {
    const p = planWith({ apiVfs: 'network-writable' });
    assert.equal(at(p, '/proc/sys').length, 1);
    assert.deepEqual(at(p, '/proc/sys/net'), [{ kind: 'bind-inner', source: '/proc/sys/net', target: '/proc/sys/net', flags: ['rw', 'nosuid', 'nodev', 'noexec'] }]);
    assert.ok((at(p, '/sys')[0] as { flags: string[] }).flags.includes('ro'));
    assert.equal(at(p, '/proc/kallsyms').length, 1);
  });

  it('API VFS writable: no /proc/sys bind, a writable /sys, and no /proc masks or read-only /proc directories (nspawn\'s APIVFS_RO covers them all)', () => {
    const p = planWith({ apiVfs: 'writable' }, { privateNetwork: true });
    assert.deepEqual(at(p, '/proc/sys'), []);
    assert.deepEqual(at(p, '/proc/sys/net'), []);
    assert.deepEqual(at(p, '/sys'), [{ kind: 'mount', fstype: 'sysfs', target: '/sys', flags: ['nosuid', 'nodev', 'noexec', 'mkdir'], data: '' }]);
    for (const masked of ['/proc/kallsyms', '/proc/kcore', '/proc/keys', '/proc/sysrq-trigger', '/proc/timer_list', '/proc/acpi', '/proc/irq'])
      assert.deepEqual(at(p, masked), [], masked);
  });

  it('TMPFS_TMP: a tmpfs on /tmp by default, none when false', () => {
    assert.deepEqual(at(planWith({}), '/tmp'), [{ kind: 'mount', fstype: 'tmpfs', target: '/tmp', flags: ['nosuid', 'nodev', 'strictatime', 'mkdir'], data: 'mode=01777,size=10%,nr_inodes=400k' }]);
    assert.deepEqual(at(planWith({ tmpfsTmp: false }), '/tmp'), []);
  });

  it('USE_CGNS: the plan\'s cgroup namespace is what prepare found (variable and kernel)', () => {
    assert.equal(buildPlan(defaultSettings(), facts({ cgroupNamespace: false })).namespaces.cgroup, false);
    assert.equal(buildPlan(defaultSettings(), facts({ cgroupNamespace: true })).namespaces.cgroup, true);
  });
});

describe('the cgroup layout and namespace', () => {
  it('the container\'s layout: the host\'s unless asked; unified needs the host\'s cgroup2, legacy its name=systemd', () => {
    assert.equal(containerLayout('hybrid', undefined), 'hybrid');
    assert.equal(containerLayout('hybrid', 'unified'), 'unified');
    assert.equal(containerLayout('hybrid', 'legacy'), 'legacy');
    assert.equal(containerLayout('unified', 'unified'), 'unified');
    assert.equal(containerLayout('legacy', 'legacy'), 'legacy');
    throwsUserError(() => containerLayout('legacy', 'unified'), 'SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1', 'no cgroup2');
    throwsUserError(() => containerLayout('unified', 'legacy'), 'SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=0', 'name=systemd');
  });

  const API = ['nosuid', 'nodev', 'noexec'];

  it('unified without a namespace: the whole cgroup2 tree, our own cgroup bound writable, the root read-only', () => {
    assert.deepEqual(cgroupMounts('unified', [], false), [
      { kind: 'mount', fstype: 'cgroup2', target: '/sys/fs/cgroup', flags: [...API, 'mkdir'], data: '' },
      { kind: 'bind-inner', source: '/sys/fs/cgroup', target: '/sys/fs/cgroup', flags: ['own-cgroup'] },
      { kind: 'remount-ro', target: '/sys/fs/cgroup', flags: API },
    ]);
    assert.deepEqual(cgroupMounts('unified', [], true), [{ kind: 'mount', fstype: 'cgroup2', target: '/sys/fs/cgroup', flags: [...API, 'mkdir'], data: '' }]);
  });

  it('hybrid and legacy without a namespace: own cgroup writable in unified (hybrid) and systemd, each right after its mount; controllers read-only', () => {
    for (const layout of ['hybrid', 'legacy'] as const) {
      const ops = cgroupMounts(layout, ['memory'], false);
      const own = ops.filter((o) => o.kind === 'bind-inner').map((o) => (o as { target: string }).target);
      assert.deepEqual(own, layout === 'hybrid' ? ['/sys/fs/cgroup/unified', '/sys/fs/cgroup/systemd'] : ['/sys/fs/cgroup/systemd']);
      for (const target of own) {
        const i = ops.findIndex((o) => o.kind === 'mount' && o.target === target);
        assert.deepEqual(ops.slice(i + 1, i + 3).map((o) => o.kind), ['bind-inner', 'remount-ro'], target);
      }
      assert.ok(ops.some((o) => o.kind === 'remount-ro' && o.target === '/sys/fs/cgroup/memory'));
      assert.equal(cgroupMounts(layout, ['memory'], true).filter((o) => o.kind === 'bind-inner').length, 0, 'with a namespace all of it is the container\'s');
    }
    assert.ok(!cgroupMounts('legacy', [], true).some((o) => 'target' in o && o.target === '/sys/fs/cgroup/unified'), 'legacy has no cgroup2');
  });
});

describe('combinations refused before a start', () => {
  const withUsers = (env: Partial<NspawnEnvironment>, over: Partial<Settings> = {}): Settings => ({
    ...defaultSettings(),
    privateUsers: { mode: 'pick' },
    ...over,
    nspawnEnvironment: { ...defaultNspawnEnvironment(), ...env },
  });

  it('--private-users with writable API file systems, with network without a private network, and without a cgroup namespace (nspawn refuses the first two too)', () => {
    throwsUserError(() => checkNspawnEnvironment(withUsers({ apiVfs: 'writable' })), 'SYSTEMD_NSPAWN_API_VFS_WRITABLE=yes', '--private-users');
    throwsUserError(() => checkNspawnEnvironment(withUsers({ apiVfs: 'network-writable' })), 'SYSTEMD_NSPAWN_API_VFS_WRITABLE=network', '--private-network');
    throwsUserError(() => checkNspawnEnvironment(withUsers({ cgroupNamespace: false })), 'SYSTEMD_NSPAWN_USE_CGNS=0', '--private-users');
    checkNspawnEnvironment(withUsers({ apiVfs: 'network-writable' }, { privateNetwork: true }));
    checkNspawnEnvironment(withUsers({}));
    checkNspawnEnvironment({ ...defaultSettings(), nspawnEnvironment: { ...defaultNspawnEnvironment(), apiVfs: 'writable', cgroupNamespace: false } });
  });
});

describe('os-release: asked of a tree to boot only', () => {
  it('without requireOsRelease (a COMMAND, or CHECK_OS_RELEASE=0) a tree with /usr passes; with it the message names the variable', () => {
    const t = scratch.tree('no-os-release').dir('/usr/bin').dir('/etc');
    checkOsTree(t.root, '-D', false);
    throwsUserError(() => checkOsTree(t.root, '-D', true), 'to boot', '/etc/os-release', 'SYSTEMD_NSPAWN_CHECK_OS_RELEASE=0');
    const noUsr = scratch.tree('no-usr-either').dir('/etc');
    throwsUserError(() => checkOsTree(noUsr.root, '-D', false), '/usr');
  });
});

describe('README', () => {
  it('holds the variables\' table as printed from the source', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(environmentTableMarkdown()), 'README.md is out of date: paste the output of node dist/src/tools/environment-table.js');
  });
});
