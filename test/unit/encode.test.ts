/** The TS -> C plan encoding: src/plan/encode.ts against `tsnspawn-helper --decode`. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { bootOps } from '../../src/plan/boot.js';
import { buildPlan } from '../../src/plan/build.js';
import { encodePlan } from '../../src/plan/encode.js';
import type { LaunchPlan, MountFlag, MountOp } from '../../src/plan/types.js';
import { defaultSettings } from '../../src/settings/model.js';
import { parseBind, parseInaccessible, parseTmpfs } from '../../src/settings/values.js';
import { HELPER } from './helpers.js';

/** Bits of native/plan.h's F_* flags. */
const FLAG_BITS: Record<MountFlag, number> = { rec: 1, ro: 2, nosuid: 4, nodev: 8, noexec: 16, strictatime: 32, optional: 64, mkdir: 128, tree: 256, rw: 512,
  sync: 1 << 10, dirsync: 1 << 11, noatime: 1 << 12, nodiratime: 1 << 13, relatime: 1 << 14, lazytime: 1 << 15, silent: 1 << 16, nosymfollow: 1 << 17,
  "own-cgroup": 1 << 18, idmap: 1 << 19, "by-type": 1 << 20, rootidmap: 1 << 21, owneridmap: 1 << 22 };

interface DecodedOp {
  kind: string;
  a?: string;
  b?: string;
  c?: string;
  d?: string;
  flags: number;
  mode: number;
  major: number;
  minor: number;
}

interface Decoded {
  root: string;
  rootId: { dev: string; ino: string };
  hostname: string;
  ns: { uts: boolean; ipc: boolean; cgroup: boolean; net: boolean };
  console: string;
  readOnlyRoot: boolean;
  syscallFilter: boolean;
  asPid2: boolean;
  suppressSync: boolean;
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  caps: string;
  exec: string;
  argv: string[];
  env: string[];
  cgroups: string[];
  ops: DecodedOp[];
  registration?: LaunchPlan['registration'];
  userns?: LaunchPlan['userns'];
}

function decode(input: string | Buffer): { status: number | null; stdout: string; stderr: string } {
  assert.ok(existsSync(HELPER), `${HELPER} is built (run make)`);
  const r = spawnSync(HELPER, ['--decode'], { input, encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function decodeOk(plan: LaunchPlan): Decoded {
  const r = decode(encodePlan(plan));
  assert.equal(r.status, 0, `helper refused the plan: ${r.stderr}`);
  return JSON.parse(r.stdout) as Decoded;
}

const bits = (flags: readonly MountFlag[]): number => flags.reduce((m, f) => m | FLAG_BITS[f], 0);

/** What the helper should hold for a TS op (native/plan.c's op_table layout). */
function expectedOp(op: MountOp): DecodedOp {
  const base = { kind: op.kind, flags: 0, mode: 0, major: 0, minor: 0 };
  switch (op.kind) {
    case 'mkdir':
    case 'touch':
      return { ...base, a: op.path, mode: op.mode };
    case 'bind':
    case 'bind-inner':
      return { ...base, a: op.source, b: op.target, flags: bits(op.flags) };
    case 'mount':
      // An empty data field travels as "-", which the helper's mount treats as no data.
      return { ...base, a: op.fstype, b: op.target, flags: bits(op.flags), c: op.data === '' ? '-' : op.data };
    case 'remount-ro':
      return { ...base, a: op.target, flags: bits(op.flags) };
    case 'symlink':
      return { ...base, a: op.target, b: op.path };
    case 'mknod':
      return { ...base, a: op.path, mode: op.mode, major: op.major, minor: op.minor };
    case 'write':
      return { ...base, a: op.path, mode: op.mode, c: typeof op.content === 'string' ? op.content : op.content.toString('utf8') };
    case 'console':
    case 'notify-socket':
      return { ...base, a: op.path };
    case 'unlink':
      return { ...base, a: op.path, flags: bits(op.flags) };
    case 'copy':
      return { ...base, a: op.source, b: op.target, mode: op.mode, flags: bits(op.flags) };
    case 'overlay':
      return { ...base, a: op.target, b: op.upper, d: op.lowers.join('\n') };
  }
}

function assertRoundTrip(plan: LaunchPlan): void {
  const d = decodeOk(plan);
  assert.equal(d.root, plan.root);
  assert.deepEqual(d.rootId, plan.rootId);
  assert.equal(d.hostname, plan.hostname);
  assert.deepEqual(d.ns, plan.namespaces);
  assert.equal(d.console, plan.console);
  assert.equal(d.readOnlyRoot, plan.readOnlyRoot);
  assert.equal(d.syscallFilter, plan.syscallFilter);
  assert.equal(d.asPid2, plan.asPid2);
  assert.equal(d.suppressSync, plan.suppressSync ?? false);
  assert.equal(d.cwd, plan.cwd);
  assert.equal(d.uid, plan.uid);
  assert.equal(d.gid, plan.gid);
  assert.deepEqual(d.groups, plan.groups);
  assert.equal(d.caps, plan.capsRetain);
  assert.equal(d.exec, plan.exec);
  assert.deepEqual(d.argv, plan.argv);
  assert.deepEqual(d.env, plan.env);
  assert.deepEqual(d.cgroups, plan.cgroups ?? []);
  assert.equal(d.ops.length, plan.ops.length);
  plan.ops.forEach((op, i) => assert.deepEqual(d.ops[i], expectedOp(op), `op ${i} (${op.kind})`));
  assert.deepEqual(d.registration, plan.registration && { ...plan.registration, machine: plan.registration.machine && { ...plan.registration.machine, id: plan.registration.machine.id.toLowerCase() } });
}

const WEIRD = 'tab\there, newline\nthere, cr\rhere, percent %41%25%, unicode ünï €😀, ctrl \x01\x1f\x7f, quote " backslash \\';

/** A plan with every op kind and awkward strings in every string field. */
function weirdPlan(): LaunchPlan {
  return {
    root: `/srv/machines/${WEIRD}`,
    rootId: { dev: '18446744073709551615', ino: '18446744073709551614' },
    hostname: 'host-1.example',
    namespaces: { uts: true, ipc: false, cgroup: true, net: true },
    console: 'passive',
    readOnlyRoot: true,
    syscallFilter: false,
    suppressSync: true,
    asPid2: true,
    rootMode: 'overlay',
    cwd: `/home/${WEIRD}`,
    uid: 4294967294,
    gid: 65534,
    groups: [5, 100, 65534, 4294967294],
    capsRetain: 'fdecafff',
    registration: {
      bus: `@/tmp/${WEIRD}`,
      kind: 'machine',
      mode: 'auto',
      retry: true,
      machine: { name: `m-${WEIRD}`, id: '3F2504E04F8941D39A0C0305E82C3301', service: 'tsnspawn', root: `/srv/${WEIRD}` },
      properties: [
        { name: 'Description', signature: 's', values: [`Container ${WEIRD}`] },
        { name: 'DeviceAllow', signature: 'a(ss)', values: ['/dev/net/tun', 'rwm', 'char-pts', 'rw'] },
        { name: 'KillSignal', signature: 'i', values: ['37'] },
        { name: 'MemoryMax', signature: 't', values: ['18446744073709551615'] },
        { name: 'Delegate', signature: 'b', values: ['true'] },
      ],
    },
    exec: `/usr/bin/${WEIRD}`,
    argv: ['prog', '', WEIRD, '%00', '%zz', '-', 'end'],
    env: [`A=${WEIRD}`, 'EMPTY=', 'PCT=100%', 'EQ=a=b'],
    ops: [
      { kind: 'mkdir', path: `/${WEIRD}/dir`, mode: 0o1777 },
      { kind: 'touch', path: '/etc/hosts', mode: 0o644 },
      { kind: 'bind', source: `/host/${WEIRD}`, target: `/in/${WEIRD}`, flags: ['rec', 'ro', 'nosuid', 'nodev', 'noexec', 'strictatime', 'optional', 'mkdir'] },
      { kind: 'bind-inner', source: '/proc/sys', target: '/proc/sys', flags: [] },
      { kind: 'mount', fstype: 'tmpfs', target: `/mnt/${WEIRD}`, flags: ['nosuid'], data: 'mode=0755,size=10%' },
      { kind: 'mount', fstype: 'proc', target: '/proc', flags: [], data: '' },
      { kind: 'remount-ro', target: '/run/host', flags: ['nosuid', 'nodev', 'noexec'] },
      { kind: 'symlink', target: `../relative/${WEIRD}`, path: '/dev/link' },
      { kind: 'mknod', path: '/dev/null', mode: 0o20666, major: 1, minor: 3 },
      { kind: 'mknod', path: '/dev/big', mode: 0o60600, major: 4095, minor: 1048575 },
      { kind: 'mknod', path: '/run/host/inaccessible/sock', mode: 0o140000, major: 0, minor: 0 },
      { kind: 'write', path: '/run/host/container-uuid', mode: 0o444, content: `multi\nline\tcontent %25 ${WEIRD}\n` },
      { kind: 'write', path: '/run/host/empty', mode: 0, content: '' },
      { kind: 'console', path: '/dev/console' },
      { kind: 'notify-socket', path: '/run/host/notify' },
      { kind: 'unlink', path: `/run/${WEIRD}`, flags: ['optional'] },
      { kind: 'copy', source: `/etc/${WEIRD}`, target: '/etc/resolv.conf', mode: 0o644, flags: ['optional'] },
    ],
  };
}

/** A small valid plan's lines (without the final newline), for the malformed cases. */
function baseLines(): string[] {
  const p = weirdPlan();
  p.ops = [{ kind: 'mkdir', path: '/x', mode: 0o755 }];
  p.argv = ['/bin/true'];
  return encodePlan(p).replace(/\n$/, '').split('\n');
}

/** The lines with extra lines inserted before 'end'; returns the text and the 1-based number of the first inserted line. */
function withBefore(...extra: string[]): { text: string; line: number } {
  const lines = baseLines();
  const end = lines.length - 1;
  assert.equal(lines[end], 'end');
  lines.splice(end, 0, ...extra);
  return { text: lines.join('\n') + '\n', line: end + 1 };
}

function assertRefused(input: string, ...fragments: string[]): string {
  const r = decode(input);
  assert.notEqual(r.status, 0, `helper accepted a bad plan: ${JSON.stringify(input.slice(-120))}`);
  assert.equal(r.stdout, '', 'nothing on stdout for a refused plan');
  for (const f of fragments) assert.ok(r.stderr.includes(f), `stderr ${JSON.stringify(r.stderr)} should mention ${JSON.stringify(f)}`);
  return r.stderr;
}

describe('encodePlan -> tsnspawn-helper --decode', () => {
  it('round-trips a real plan from buildPlan', () => {
    const s = defaultSettings();
    s.binds.push(parseBind('/srv/a\\:b:/data\\:x:norbind', true));
    s.tmpfs.push(parseTmpfs('/scratch:mode=0700,size=50%'));
    s.inaccessible.push(parseInaccessible('/etc/shadow'));
    s.environment.push('X=1');
    s.readOnly = true;
    const plan = buildPlan(s, {
      root: '/var/lib/machines/deb',
      rootId: { dev: '66306', ino: '1234567' },
      machineName: 'deb',
      uuid: '3f2504e0-4f89-41d3-9a0c-0305e82c3301',
      user: { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice', shell: '/bin/bash', groups: [10, 29] },
      exec: '/bin/bash',
      argv: ['-bash'],
      console: 'interactive',
      defaultCwd: '/home/alice',
      hostOsReleasePath: '/etc/os-release',
      hostOsRelease: { ID: 'debian', VERSION_ID: '12' },
      hostTerm: 'xterm',
      cgroupNamespace: true,
      cgroupOps: [],
      bootOps: bootOps('0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9'),
    });
    assertRoundTrip(plan);
  });

  it('round-trips tabs, newlines, percent signs, control characters and unicode in every field, and every op kind', () => {
    assertRoundTrip(weirdPlan());
  });

  it('round-trips the cgroups the helper is to place init in', () => {
    const p = weirdPlan();
    p.cgroups = ['/sys/fs/cgroup/unified/tsnspawn-a', `/sys/fs/cgroup/systemd/tsnspawn-${WEIRD}`];
    assertRoundTrip(p);
  });

  it('round-trips each console mode, and no namespaces / no groups / no ops', () => {
    for (const console of ['interactive', 'read-only', 'passive', 'pipe'] as const) {
      const p = weirdPlan();
      p.console = console;
      p.namespaces = { uts: false, ipc: false, cgroup: false, net: false };
      p.groups = [];
      p.env = [];
      p.ops = [];
      p.readOnlyRoot = false;
      p.syscallFilter = true;
      p.asPid2 = false;
      p.capsRetain = '0';
      assertRoundTrip(p);
    }
  });

  it('round-trips a plan larger than one read() of the helper', () => {
    const p = weirdPlan();
    for (let i = 0; i < 2000; i++) p.ops.push({ kind: 'mkdir', path: `/many/dir-${i}-${'x'.repeat(20)}`, mode: 0o755 });
    p.env = Array.from({ length: 500 }, (_, i) => `VAR_${i}=${'v'.repeat(100)}`);
    assertRoundTrip(p);
  });

  it('round-trips a write of bytes (a credential) byte for byte', () => {
    const p = weirdPlan();
    p.ops = [{ kind: 'write', path: '/run/host/credentials/x', mode: 0o400, content: Buffer.from('50% café\t✓\n%41', 'utf8') }];
    assertRoundTrip(p);
  });

  it('round-trips the user namespace: ownership chown and the range pick tries first', () => {
    const p = weirdPlan();
    p.userns = { mode: 'pick', base: 0x80000, count: 0x10000, idmapRoot: false, chownRoot: true, prefer: 0x70000000 - 0x10000, innerOpsFrom: p.ops.length };
    assert.deepEqual(decodeOk(p).userns, p.userns);
    p.userns = { mode: 'fixed', base: 0x20000, count: 0x10000, idmapRoot: true, chownRoot: false, innerOpsFrom: 0 };
    assert.deepEqual(decodeOk(p).userns, p.userns);
    // --bind-user's holes in the map travel as they are; out of order or outside the range, refused.
    const bindUsers = [{ container: 60514, uid: 1000, gid: 1000 }, { container: 60515, uid: 4000000000, gid: 7 }];
    assert.deepEqual(decodeOk({ ...p, userns: { ...p.userns, bindUsers } }).userns, { ...p.userns, bindUsers });
    assert.notEqual(decode(encodePlan({ ...p, userns: { ...p.userns, bindUsers: [...bindUsers].reverse() } })).status, 0);
    assert.notEqual(decode(encodePlan({ ...p, userns: { ...p.userns, count: 60000, bindUsers } })).status, 0);
    // Both ownerships at once, or chown of a partial range, the helper refuses.
    assert.notEqual(decode(encodePlan({ ...p, userns: { ...p.userns, chownRoot: true } })).status, 0);
    assert.notEqual(decode(encodePlan({ ...p, userns: { ...p.userns, idmapRoot: false, chownRoot: true, count: 10 } })).status, 0);
  });

  it('refuses a NUL byte in a field at encoding time', () => {
    const p = weirdPlan();
    p.argv = ['a\0b'];
    assert.throws(() => encodePlan(p), /NUL/);
  });
});

describe('tsnspawn-helper --decode refuses malformed plans', () => {
  it('accepts the base plan used below', () => {
    const r = decode(baseLines().join('\n') + '\n');
    assert.equal(r.status, 0, r.stderr);
  });

  it('an unknown op', () => {
    const { text, line } = withBefore('op\tfrobnicate\t/x');
    assertRefused(text, `line ${line}`, 'frobnicate');
  });

  it('registration records that do not fit: an unknown kind or type, a half pair, a bad machine id, one without the other', () => {
    assertRefused(withBefore('register\tunits\tyes').text, 'bad register record');
    assertRefused(withBefore('register-prop\tX\tv\t1').text, 'unknown property type');
    assertRefused(withBefore('register-prop\tDeviceAllow\ta(ss)\t/dev/x').text, 'wrong number of values');
    assertRefused(withBefore('register-machine\tm\t123\ttsnspawn\t/srv').text, 'bad register-machine record');
    const noRegistration = encodePlan({ ...weirdPlan(), registration: undefined, ops: [], argv: ['/bin/true'] }).replace(/\nend\n$/, '\n');
    assertRefused(`${noRegistration}bus\t/run/x\nend\n`, 'without a register record');
    assertRefused(`${noRegistration}register\tscope\tyes\nend\n`, 'needs a bus record');
    assertRefused(`${noRegistration}bus\t/run/x\nregister\tscope\tyes\nend\n`, 'needs a register-scope record');
  });

  it('an unknown record', () => {
    const { text, line } = withBefore('frobnicate\tx');
    assertRefused(text, `line ${line}`, 'frobnicate');
  });

  it('a wrong field count', () => {
    const a = withBefore('op\tmkdir\t/x');
    assertRefused(a.text, `line ${a.line}`, 'mkdir');
    const b = withBefore('op\tmknod\t/dev/null\t20666\t1\t3\t9');
    assertRefused(b.text, `line ${b.line}`, 'mknod');
    const c = withBefore('root\t/a\t/b');
    assertRefused(c.text, `line ${c.line}`, 'root');
    const d = withBefore('op');
    assertRefused(d.text, `line ${d.line}`);
  });

  it('a relative path in an op', () => {
    for (const bad of ['op\tmkdir\trelative/dir\t755', 'op\tbind\tsrv/data\t/data\t-', 'op\tbind\t/srv\tdata\tro', 'op\tmount\ttmpfs\ttmp\t-\t-', 'op\twrite\tetc/x\t644\thi', 'op\tsymlink\t/target\tdev/x', 'op\tunlink\trun/x\t-', 'op\tcopy\t/etc/x\tetc/y\t644\t-']) {
      const { text, line } = withBefore(bad);
      assertRefused(text, `line ${line}`, 'absolute');
    }
  });

  it('a relative cgroup path', () => {
    const { text, line } = withBefore('cgroup\tsys/fs/cgroup/x');
    assertRefused(text, `line ${line}`, 'absolute');
  });

  it("a plan without its 'end' record", () => {
    const lines = baseLines();
    lines.pop();
    assertRefused(lines.join('\n') + '\n', "'end'");
    assertRefused('', "'end'");
  });

  it("data after the 'end' record", () => {
    assertRefused(baseLines().join('\n') + '\nroot\t/x\n', 'end');
  });

  it('bad escapes: %zz, %00, a cut-off %4', () => {
    for (const bad of ['arg\tbad%zz', 'arg\ta%00b', 'arg\tcut%4', 'arg\tcut%', 'env\tX=%g0']) {
      const { text, line } = withBefore(bad);
      assertRefused(text, `line ${line}`, 'escape');
    }
  });

  it('bad numbers and words: mode, device numbers, flags, uid, console, namespace', () => {
    for (const bad of [
      'op\tmkdir\t/x\t9',
      'op\tmkdir\t/x\t-1',
      'op\tmknod\t/dev/x\t20666\tone\t3',
      'op\tbind\t/a\t/b\tro,bogus',
      'user\t-1\t0',
      'user\t0\t0x10',
      'group\tstaff',
      'caps\txyz',
      'console\ttty',
      'ns\tpid',
      'env\tNOEQUALS',
    ]) {
      const { text, line } = withBefore(bad);
      assertRefused(text, `line ${line}`);
    }
  });

  it('a wrong version line', () => {
    const lines = baseLines();
    lines[0] = 'tsnspawn-plan\t2';
    assertRefused(lines.join('\n') + '\n', 'line 1');
  });

  it('a plan without root, exec or argv', () => {
    for (const drop of ['root\t', 'exec\t', 'arg\t']) {
      const lines = baseLines().filter((l) => !l.startsWith(drop));
      assertRefused(lines.join('\n') + '\n', drop.trim());
    }
  });
});
