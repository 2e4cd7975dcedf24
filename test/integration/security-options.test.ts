/**
 * nspawn's security and resource options take effect inside a busybox
 * container, with and without -U: --no-new-privileges, --oom-score-adjust,
 * --cpu-affinity, --rlimit, --personality, --ambient-capability (each
 * beside a run without it, so a blanket value cannot pass); what this host
 * does not allow is refused with one line; bad values leave nothing
 * behind. Needs root.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { snapshot } from '../harness/host-state.js';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, assertOneErrorLine, run, runClean } from '../harness/run.js';

const skip = rootSkipReason();

/** What the payload reports about itself, one fact a line. */
const PROBE = [
  'grep -E "^(NoNewPrivs|Cpus_allowed_list|CapAmb|CapEff):" /proc/self/status',
  'echo "oom $(cat /proc/self/oom_score_adj)"',
  'echo "nofile $(ulimit -n) $(ulimit -Hn)"',
  'echo "arch $(uname -m)"',
  'echo "uid $(id -u)"',
].join('; ');

function facts(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split('\n')
      .map((l) => l.split(/:?\s+/))
      .map(([k, ...v]) => [k!, v.join(' ')]),
  );
}

/** tsnspawn runs with our credentials and limits: what it may do, so is the container's. */
const CAP_SYS_RESOURCE = 24;
const haveSysResource = (): boolean => {
  const eff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]}`);
  return ((eff >> BigInt(CAP_SYS_RESOURCE)) & 1n) === 1n;
};
const ownHardNofile = (): number => Number(/^Max open files\s+\S+\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))![1]);
const onlineCpus = (): string => readFileSync('/sys/devices/system/cpu/online', 'utf8').trim();
/** The highest online CPU: the one the container is pinned to (on a one-CPU host: 0, and the neighbour has the same). */
const lastCpu = (): number => Math.max(...onlineCpus().split(',').map((r) => Number(r.split('-').pop())));

const X86 = process.arch === 'x64';
/** 64-bit uname -m, and what --personality's 32-bit word makes it. */
const [SECONDARY, SECONDARY_UNAME] = X86 ? ['x86', 'i686'] : ['arm', 'armv8l'];

for (const mode of [[], ['-U']] as const) {
  const label = mode.length ? 'with -U' : 'without -U';
  describe(`security and resource options (${label})`, { skip }, () => {
    let busybox = '';
    before(() => {
      busybox = image('busybox');
    });
    const container = (args: string[], user = 'tester') =>
      runClean(['-q', ...mode, '--register=no', '-x', '-D', busybox, `--user=${user}`, ...args, '/bin/sh', '-c', PROBE], [busybox]);

    it('each option takes effect, and a run without them has none of it', async () => {
      const plain = await container([]);
      assert.equal(plain.exitCode, 0, plain.stderr);
      const cpu = lastCpu();
      const r = await container([
        '--no-new-privileges=yes',
        '--oom-score-adjust=500',
        `--cpu-affinity=${cpu}`,
        '--rlimit=NOFILE=1234:4000',
        `--personality=${SECONDARY}`,
        '--ambient-capability=CAP_NET_BIND_SERVICE',
      ]);
      assert.equal(r.exitCode, 0, r.stderr);
      const [before_, after_] = [facts(plain.stdout), facts(r.stdout)];
      assert.equal(after_.uid, '1000');
      assert.equal(after_.NoNewPrivs, '1');
      assert.equal(before_.NoNewPrivs, '0');
      assert.equal(after_.oom, '500');
      assert.notEqual(before_.oom, '500');
      assert.equal(after_.Cpus_allowed_list, String(cpu));
      // Without the option: inherited, as ours.
      assert.equal(before_.Cpus_allowed_list, /^Cpus_allowed_list:\s*(\S+)/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]);
      assert.equal(after_.nofile, '1234 4000');
      assert.notEqual(before_.nofile, '1234 4000');
      assert.equal(after_.arch, SECONDARY_UNAME);
      assert.notEqual(before_.arch, SECONDARY_UNAME);
      // CAP_NET_BIND_SERVICE (bit 10) in the ambient and so in the effective set of a user other than root.
      assert.equal(after_.CapAmb, '0000000000000400');
      assert.equal(after_.CapEff, '0000000000000400');
      assert.equal(before_.CapAmb, '0000000000000000');
      assert.equal(before_.CapEff, '0000000000000000');
    });

    it('root gets its ambient capabilities too, and keeps its bounding set', async () => {
      const r = await container(['--ambient-capability=CAP_CHOWN,CAP_KILL'], 'root');
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(facts(r.stdout).CapAmb, '0000000000000021');
      assert.equal(facts(r.stdout).uid, '0');
    });

    it('a lower OOM score than tsnspawn\'s own, and a hard limit above its own: set where tsnspawn has CAP_SYS_RESOURCE, else one line saying so', async () => {
      const hard = ownHardNofile() + 1000;
      const nrOpen = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8'));
      for (const [arg, fact, expected] of [
        ['--oom-score-adjust=-500', 'oom', '-500'],
        ...(hard <= nrOpen ? [[`--rlimit=NOFILE=1024:${hard}`, 'nofile', `1024 ${hard}`]] : []),
      ] as const) {
        const before_ = snapshot();
        const r = await run(['-q', ...mode, '--register=no', '-x', '-D', busybox, arg, '/bin/sh', '-c', PROBE]);
        if (haveSysResource()) {
          assert.equal(r.exitCode, 0, r.stderr);
          assert.equal(facts(r.stdout)[fact], expected);
        } else assertOneErrorLine(r, new RegExp(`needs CAP_SYS_RESOURCE, which tsnspawn does not have.*check ${arg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
        await assertNoLeaks(before_, [busybox]);
      }
    });

    it('refuses bad values and what the host does not have with one line, and leaves nothing behind', async () => {
      const cases: Array<[string[], RegExp]> = [
        [['--no-new-privileges=maybe'], /invalid --no-new-privileges=maybe: use yes or no/],
        [['--oom-score-adjust=1001'], /invalid --oom-score-adjust=1001: use a whole number from -1000 to 1000/],
        [['--cpu-affinity=2-1'], /invalid --cpu-affinity=2-1: the range 2-1 runs backwards/],
        [[`--cpu-affinity=${lastCpu() + 1}`], new RegExp(`cannot use --cpu-affinity=${lastCpu() + 1}: the host has no CPU ${lastCpu() + 1} online \\(its CPUs: ${onlineCpus()}\\)`)],
        [['--rlimit=NOFILE'], /invalid --rlimit=NOFILE: use NAME=SOFT\[:HARD\]/],
        [['--rlimit=WIDTH=1'], /unknown resource limit 'WIDTH'/],
        [['--rlimit=NOFILE=5:3'], /the soft limit is above the hard one/],
        [['--rlimit=NOFILE=infinity'], /hard limit of infinity: the kernel takes no unlimited number of open files/],
        [['--personality=s390x'], /invalid --personality=s390x: this host runs/],
        [['--ambient-capability=all'], /"all" is not allowed for ambient capabilities/],
        [['--ambient-capability=CAP_SYS_MODULE'], /CAP_SYS_MODULE is not in the container's bounding set \(add --capability=CAP_SYS_MODULE\)/],
        [['--ambient-capability=CAP_CHOWN', '--drop-capability=CAP_CHOWN'], /CAP_CHOWN is not in the container's bounding set/],
        [['--ambient-capability=CAP_CHOWN', '-b'], /cannot use --ambient-capability=CAP_CHOWN with --boot/],
      ];
      for (const [args, pattern] of cases) {
        const before_ = snapshot();
        const r = await run(['-q', ...mode, '--register=no', '-D', busybox, ...args, ...(args.includes('-b') ? [] : ['/bin/true'])]);
        assertOneErrorLine(r, pattern);
        await assertNoLeaks(before_, [busybox]);
      }
    });
  });
}
