/**
 * Fuzzing the two other ways input reaches tsnspawn (the .nspawn parser has
 * its own, nspawn-file-fuzz.test.ts): the command line, and the helper's
 * plan decoder (`tsnspawn-helper --decode`, the one reader of what Node
 * sends the native side). Fixed counts from fixed seeds: reproducible, no
 * time limit. Whatever the input, the command line gives settings or one
 * UserError (never another exception: that would be a stack trace), and
 * the decoder exits 0 or 1 with one line, never by a signal.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { encodePlan } from '../../src/plan/encode.js';
import type { LaunchPlan } from '../../src/plan/types.js';
import { OPTION_TABLE, parseFlags, settingsFromArgs } from '../../src/settings/from-args.js';
import { UserError } from '../../src/util/errors.js';
import { HELPER, rng } from './helpers.js';

const ARGV_CASES = 4000;
const PLAN_CASES = 1500;


const VALUES = ['', 'yes', 'no', 'help', 'pick', 'identity', '65536', '65536:0', '1:2:3', '/', '/srv:/srv:rbind', '+/x', 'a:b:c', 'A=1', '=', '-', '--', '-x', 'SIGKILL', 'RTMIN+99', '0', '-1', '99999999999999999999', 'tcp:80:8080', 'udp:', 'mode=0755,size=1m', 'all', 'CAP_NOPE', '\u0000', '☃', 'x'.repeat(5000), '%', '\n', '\t'];

describe('command line fuzz', () => {
  const flags = OPTION_TABLE.flatMap((o) => {
    const f = parseFlags(o.flags);
    return [...(f.long ? [`--${f.long}`] : []), ...(f.short ? [`-${f.short}`] : [])];
  });
  it(`${ARGV_CASES} random command lines: settings, or one UserError`, async () => {
    const r = rng(13);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
    for (let i = 0; i < ARGV_CASES; i++) {
      const argv: string[] = [];
      const n = Math.floor(r() * 8);
      for (let j = 0; j < n; j++) {
        const k = r();
        if (k < 0.45) argv.push(`${pick(flags)}=${pick(VALUES)}`);
        else if (k < 0.75) argv.push(pick(flags));
        else if (k < 0.85) argv.push(`--${pick(VALUES)}`);
        else argv.push(pick(VALUES));
      }
      // --help/--version print and return 'exit': not what this test is about.
      if (argv.some((a) => a === '-h' || a.startsWith('--help') || a.startsWith('--version') || a.endsWith('=help'))) continue;
      try {
        await settingsFromArgs(argv);
      } catch (e) {
        assert.ok(e instanceof UserError, `argv ${JSON.stringify(argv)} threw ${(e as Error).stack}`);
        assert.ok(!(e as Error).message.includes('\n'), `argv ${JSON.stringify(argv)}: a message of more than one line`);
      }
    }
  });
});

const SAMPLE: LaunchPlan = {
  root: '/var/lib/machines/x',
  rootId: { dev: '2049', ino: '1234' },
  hostname: 'x',
  namespaces: { uts: true, ipc: true, cgroup: true, net: false },
  console: 'pipe',
  readOnlyRoot: false,
  syscallFilter: true,
  asPid2: false,
  rootMode: 'overlay',
  cwd: '/',
  uid: 0,
  gid: 0,
  groups: [0],
  capsRetain: 'fdecafff',
  exec: '/sbin/init',
  argv: ['/sbin/init'],
  env: ['container=systemd-nspawn', 'TERM=vt220'],
  ops: [
    { kind: 'mount', fstype: 'proc', target: '/proc', flags: ['nosuid', 'mkdir'], data: '' },
    { kind: 'bind', source: '/etc/os-release', target: '/run/host/os-release', flags: ['ro'] },
    { kind: 'mknod', path: '/dev/null', mode: 0o20666, major: 1, minor: 3 },
    { kind: 'write', path: '/run/host/container-uuid', mode: 0o444, content: 'u\n' },
    { kind: 'overlay', target: '/srv', upper: '', lowers: ['/a', '/b'] },
  ],
  userns: { mode: 'pick', base: 0x80000, count: 0x10000, idmapRoot: true, chownRoot: false, innerOpsFrom: 1 },
};

function mutate(text: string, r: () => number): string {
  const lines = text.split('\n');
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const ops = Math.floor(r() * 4) + 1;
  for (let i = 0; i < ops; i++) {
    const k = r();
    const at = Math.floor(r() * lines.length);
    if (k < 0.2) lines.splice(at, 1);
    else if (k < 0.35) lines.splice(at, 0, lines[Math.floor(r() * lines.length)]!);
    else if (k < 0.5) lines[at] = (lines[at] ?? '') + '\t' + pick(['', 'x', '%', '%0', '%00', '%zz', '18446744073709551616', '-1', '\u00ff']);
    else if (k < 0.65) lines.splice(at, 0, pick(['op\toverlay\t/x\t\t' + Array.from({ length: 600 }, (_, j) => `/l${j}`).join('%0A'), 'userns\tpick\t0\t0', 'inner-ops-from\t99', 'carry-fd\t3\t3', 'listen-fds\t3\t999', 'op\tbogus', 'cgroup\trelative', 'root-id\tx\ty', '']));
    else {
      const line = lines[at] ?? '';
      const pos = Math.floor(r() * (line.length + 1));
      lines[at] = line.slice(0, pos) + String.fromCharCode(Math.floor(r() * 256)) + line.slice(pos + 1);
    }
  }
  return r() < 0.1 ? lines.join('\n').slice(0, Math.floor(r() * text.length)) : lines.join('\n');
}

describe('plan decoder fuzz (tsnspawn-helper --decode)', () => {
  it('decodes the sample plan', () => {
    const r = spawnSync(HELPER, ['--decode'], { input: encodePlan(SAMPLE) });
    assert.equal(r.status, 0, String(r.stderr));
  });
  it(`${PLAN_CASES} mutated plans: exit 0 or 1 with one line, never a signal`, () => {
    const r = rng(7);
    const base = encodePlan(SAMPLE);
    for (let i = 0; i < PLAN_CASES; i++) {
      const input = mutate(base, r);
      const p = spawnSync(HELPER, ['--decode'], { input, timeout: 10_000 });
      assert.equal(p.signal, null, `killed by ${p.signal} on:\n${JSON.stringify(input)}`);
      assert.ok(p.status === 0 || p.status === 1, `exit ${p.status} on:\n${JSON.stringify(input)}`);
      if (p.status === 1) {
        const lines = String(p.stderr).split('\n').filter(Boolean);
        assert.equal(lines.length, 1, `${lines.length} lines on:\n${JSON.stringify(input)}\n${p.stderr}`);
        assert.match(lines[0]!, /^tsnspawn-helper: /);
      }
    }
  });
  it('refuses an overlay with more lower layers than the kernel stacks, instead of cutting it short', () => {
    const plan = { ...SAMPLE, ops: [{ kind: 'overlay' as const, target: '/srv', upper: '', lowers: Array.from({ length: 501 }, (_, j) => `/l${j}`) }] };
    const p = spawnSync(HELPER, ['--decode'], { input: encodePlan(plan) });
    assert.equal(p.status, 1);
    assert.match(String(p.stderr), /501 lower layers, at most 500/);
  });
});
