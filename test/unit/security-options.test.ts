/**
 * nspawn's security and resource options (issue 13): --no-new-privileges,
 * --oom-score-adjust, --cpu-affinity, --rlimit, --personality,
 * --ambient-capability. Their syntax (src/settings/security.ts), their
 * .nspawn keys through the merge, the plan (src/plan/security.ts) and its
 * encoding as the helper decodes it (native/proc-limits.c).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { buildPlan, type PlanFacts } from '../../src/plan/build.js';
import { encodePlan } from '../../src/plan/encode.js';
import type { LaunchPlan } from '../../src/plan/types.js';
import { settingsFromArgs } from '../../src/settings/from-args.js';
import { settingsFromFile } from '../../src/settings/from-file.js';
import { mergeSettings } from '../../src/settings/merge.js';
import type { Settings } from '../../src/settings/model.js';
import { cpuListText, parseCpuAffinity, parseRlimit } from '../../src/settings/security.js';
import { HELPER, rejectsUserError, samplePlanFacts } from './helpers.js';

async function args(...argv: string[]): Promise<Settings> {
  const s = await settingsFromArgs(argv);
  assert.notEqual(s, 'exit');
  return s as Settings;
}

const [NATIVE, SECONDARY] = process.arch === 'arm64' ? ['arm64', 'arm'] : ['x86-64', 'x86'];

describe('the options as nspawn spells them', () => {
  it('--no-new-privileges takes a boolean', async () => {
    assert.equal((await args('--no-new-privileges=yes')).security.noNewPrivileges, true);
    assert.equal((await args('--no-new-privileges=yes', '--no-new-privileges', 'off')).security.noNewPrivileges, false);
    await rejectsUserError(() => args('--no-new-privileges=maybe'), 'invalid --no-new-privileges=maybe', 'yes or no');
  });

  it('--oom-score-adjust takes -1000..1000', async () => {
    assert.equal((await args('--oom-score-adjust=-1000')).security.oomScoreAdjust, -1000);
    assert.equal((await args('--oom-score-adjust=+250')).security.oomScoreAdjust, 250);
    for (const bad of ['1001', '-1001', 'x', '1.5', ''])
      await rejectsUserError(() => args(`--oom-score-adjust=${bad}`), `invalid --oom-score-adjust=${bad}`, '-1000 to 1000');
  });

  it('--cpu-affinity takes numbers and ranges, by commas or blanks; the last one wins', async () => {
    assert.deepEqual(parseCpuAffinity('0-3,5'), [0, 1, 2, 3, 5]);
    assert.deepEqual(parseCpuAffinity('7 1,1 2-3'), [1, 2, 3, 7]);
    assert.equal(cpuListText([0, 1, 2, 5, 7, 8]), '0-2,5,7-8');
    assert.deepEqual((await args('--cpu-affinity=1', '--cpu-affinity=0')).security.cpuAffinity, [0]);
    await rejectsUserError(() => args('--cpu-affinity=3-1'), 'invalid --cpu-affinity=3-1', 'backwards');
    await rejectsUserError(() => args('--cpu-affinity=8192'), 'beyond the largest');
    await rejectsUserError(() => args('--cpu-affinity=a'), "'a' is not a CPU number");
    await rejectsUserError(() => args('--cpu-affinity=,'), 'give CPU numbers');
  });

  it('--rlimit takes NAME, RLIMIT_NAME or LimitNAME, SOFT[:HARD] in the resource\'s unit, and "infinity"', async () => {
    assert.deepEqual(parseRlimit('NOFILE=1024'), { name: 'NOFILE', spec: { soft: 1024n, hard: 1024n } });
    assert.deepEqual(parseRlimit('RLIMIT_NOFILE=1024:4096'), { name: 'NOFILE', spec: { soft: 1024n, hard: 4096n } });
    assert.deepEqual(parseRlimit('LimitNPROC=10:infinity'), { name: 'NPROC', spec: { soft: 10n, hard: 'infinity' } });
    assert.deepEqual(parseRlimit('AS=1.5M'), { name: 'AS', spec: { soft: 1572864n, hard: 1572864n } });
    assert.deepEqual(parseRlimit('CORE=0:2G'), { name: 'CORE', spec: { soft: 0n, hard: 2n << 30n } });
    // CPU in seconds (rounded up), RTTIME in microseconds, NICE as a signed nice level or the raw 0..40.
    assert.deepEqual(parseRlimit('CPU=2min'), { name: 'CPU', spec: { soft: 120n, hard: 120n } });
    assert.deepEqual(parseRlimit('CPU=1500ms'), { name: 'CPU', spec: { soft: 2n, hard: 2n } });
    assert.deepEqual(parseRlimit('RTTIME=5ms'), { name: 'RTTIME', spec: { soft: 5000n, hard: 5000n } });
    assert.deepEqual(parseRlimit('NICE=-5'), { name: 'NICE', spec: { soft: 25n, hard: 25n } });
    assert.deepEqual(parseRlimit('NICE=+19'), { name: 'NICE', spec: { soft: 1n, hard: 1n } });
    assert.deepEqual(parseRlimit('NICE=40'), { name: 'NICE', spec: { soft: 40n, hard: 40n } });
    const s = await args('--rlimit=NOFILE=10', '--rlimit=NPROC=5', '--rlimit=NOFILE=20');
    assert.deepEqual(s.security.rlimits, { NOFILE: { soft: 20n, hard: 20n }, NPROC: { soft: 5n, hard: 5n } });
    // Each limit is its own group, as nspawn's SETTING_RLIMIT_FIRST << NAME.
    assert.ok(s.setOnCommandLine.has('rlimit-NOFILE') && s.setOnCommandLine.has('rlimit-NPROC') && !s.setOnCommandLine.has('rlimit-AS'));
    for (const [bad, why] of [
      ['NOFILE', 'NAME=SOFT[:HARD]'],
      ['FOO=1', "unknown resource limit 'FOO'"],
      ['NOFILE=5:3', 'soft limit is above the hard one'],
      ['NOFILE=1:2:3', 'SOFT or SOFT:HARD'],
      ['NOFILE=1k', 'not a whole number'],
      ['AS=1Q', 'not a size'],
      ['CPU=3 fortnights', 'not a time span'],
      ['NICE=+20', 'out of range'],
      ['NOFILE=18446744073709551615', 'too large'],
    ])
      await rejectsUserError(() => args(`--rlimit=${bad}`), `invalid --rlimit=${bad}`, why!);
  });

  it('--personality takes the host\'s architecture and its 32-bit one, nothing else', async () => {
    assert.equal((await args(`--personality=${SECONDARY}`)).security.personality, SECONDARY);
    assert.equal((await args(`--personality=${NATIVE}`)).security.personality, NATIVE);
    await rejectsUserError(() => args('--personality=s390x'), 'invalid --personality=s390x', `this host runs ${NATIVE} and ${SECONDARY} only`);
  });

  it('--ambient-capability adds up, sets the capability group, and refuses "all" and unknown names', async () => {
    const s = await args('--ambient-capability=CAP_NET_BIND_SERVICE', '--ambient-capability=cap_chown,12');
    assert.deepEqual(s.security.ambientCapabilities, ['CAP_NET_BIND_SERVICE', 'CAP_CHOWN', 'CAP_NET_ADMIN']);
    assert.ok(s.setOnCommandLine.has('capability'));
    await rejectsUserError(() => args('--ambient-capability=all'), '"all" is not allowed');
    await rejectsUserError(() => args('--ambient-capability=CAP_FLY'), "unknown capability 'CAP_FLY'");
  });

  it('--rlimit=help and --ambient-capability=help list their words, as nspawn', () => {
    const list = (arg: string): string[] => {
      const mod = new URL('../../src/settings/from-args.js', import.meta.url).href;
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', `import { settingsFromArgs } from ${JSON.stringify(mod)}; await settingsFromArgs([${JSON.stringify(arg)}]);`], { encoding: 'utf8', timeout: 20_000 });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.split('\n').filter(Boolean);
    };
    assert.deepEqual(list('--rlimit=help'), ['CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NOFILE', 'AS', 'NPROC', 'MEMLOCK', 'LOCKS', 'SIGPENDING', 'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME']);
    assert.ok(list('--ambient-capability=help').includes('cap_net_bind_service'));
  });
});

describe('the .nspawn keys through the merge, as nspawn trusts them', () => {
  const FILE = `[Exec]
NoNewPrivileges=yes
Personality=${SECONDARY}
OOMScoreAdjust=300
CPUAffinity=1
LimitNOFILE=100:200
LimitNPROC=50
AmbientCapability=CAP_NET_BIND_SERVICE
`;
  const merge = (cmd: Settings, trusted: boolean) => mergeSettings(cmd, settingsFromFile('/f.nspawn', FILE), { trusted, override: false });

  it('a trusted file sets them all', async () => {
    const { settings } = merge(await args(), true);
    assert.deepEqual(settings.security, {
      noNewPrivileges: true,
      personality: SECONDARY,
      oomScoreAdjust: 300,
      cpuAffinity: [1],
      rlimits: { NOFILE: { soft: 100n, hard: 200n }, NPROC: { soft: 50n, hard: 50n } },
      ambientCapabilities: ['CAP_NET_BIND_SERVICE'],
    });
  });

  it('an untrusted one only NoNewPrivileges= and Personality=, and names the rest in its warning', async () => {
    const { settings, warnings } = merge(await args(), false);
    assert.deepEqual(settings.security, { noNewPrivileges: true, personality: SECONDARY, rlimits: {}, ambientCapabilities: [] });
    assert.equal(warnings.length, 1);
    for (const key of ['OOMScoreAdjust=', 'CPUAffinity=', 'LimitNOFILE=', 'LimitNPROC=', 'AmbientCapability=']) assert.ok(warnings[0]!.includes(key), warnings[0]);
  });

  it('the command line wins key by key: --rlimit=NOFILE leaves LimitNPROC= to the file', async () => {
    const { settings } = merge(await args('--rlimit=NOFILE=7', '--oom-score-adjust=5', '--no-new-privileges=no'), true);
    assert.deepEqual(settings.security.rlimits, { NOFILE: { soft: 7n, hard: 7n }, NPROC: { soft: 50n, hard: 50n } });
    assert.equal(settings.security.oomScoreAdjust, 5);
    assert.equal(settings.security.noNewPrivileges, false);
    // The command line's settings object is left as it was.
    assert.deepEqual((await args()).security.rlimits, {});
  });

  it('a bad value is one warning, and the other keys still apply', () => {
    const r = settingsFromFile('/f.nspawn', '[Exec]\nLimitNOFILE=lots\nOOMScoreAdjust=2000\nCPUAffinity=1-0\nAmbientCapability=CAP_FLY\nNoNewPrivileges=yes\n');
    assert.equal(r.warnings.length, 4);
    assert.ok(r.warnings[0]!.startsWith('/f.nspawn:2: invalid LimitNOFILE=lots'), r.warnings[0]);
    assert.equal(r.warnings[3], "/f.nspawn:5: invalid AmbientCapability=CAP_FLY, ignoring it: unknown capability 'CAP_FLY' (use names such as CAP_NET_BIND_SERVICE, see capabilities(7))");
    assert.deepEqual(r.values, { noNewPrivileges: true });
  });
});

const FACTS: PlanFacts = samplePlanFacts({ console: 'pipe', defaultCwd: '/', hostOsRelease: {}, hostOsReleasePath: undefined, hostTerm: undefined });

const planOf = async (...argv: string[]): Promise<LaunchPlan> => buildPlan(await args('-D', '/var/lib/machines/deb', ...argv), FACTS);

function decode(text: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(HELPER, ['--decode'], { input: text, encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('the plan and its records', () => {
  it('has no process settings (no records) when every option is left alone', async () => {
    const p = await planOf();
    assert.equal(p.process, undefined);
    assert.doesNotMatch(encodePlan(p), /^(no-new-privileges|oom-score-adjust|cpu|rlimit|personality|caps-ambient)\b/m);
    assert.deepEqual(JSON.parse(decode(encodePlan(p)).stdout).process, { noNewPrivileges: false, capsAmbient: '0', personality: null, rlimits: [] });
  });

  it('carries each setting to the helper exactly', async () => {
    const p = await planOf(
      '--no-new-privileges=yes', '--oom-score-adjust=-17', '--cpu-affinity=0,2-3', `--personality=${SECONDARY}`,
      '--rlimit=NOFILE=1024:4096', '--rlimit=AS=infinity', '--rlimit=CPU=1:infinity', '--ambient-capability=CAP_NET_BIND_SERVICE,CAP_CHOWN',
    );
    assert.deepEqual(p.process, {
      noNewPrivileges: true,
      oomScoreAdjust: -17,
      cpuAffinity: [0, 2, 3],
      personality: 'linux32',
      // In the kernel's order (RLIMIT_NAMES), whatever the command line's.
      rlimits: [{ name: 'CPU', soft: '1', hard: 'infinity' }, { name: 'NOFILE', soft: '1024', hard: '4096' }, { name: 'AS', soft: 'infinity', hard: 'infinity' }],
      capsAmbient: ((1n << 10n) | 1n).toString(16),
    });
    const r = decode(encodePlan(p));
    assert.equal(r.status, 0, r.stderr);
    const decoded = JSON.parse(r.stdout).process;
    // The helper keeps its limits in its own (the kernel's header) order.
    decoded.rlimits.sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name));
    assert.deepEqual(decoded, { ...p.process, rlimits: [...p.process!.rlimits].sort((a, b) => a.name.localeCompare(b.name)) });
    assert.equal((await planOf(`--personality=${NATIVE}`)).process?.personality, 'linux');
  });

  it('the helper refuses a malformed record with the plan line that has it', async () => {
    const good = encodePlan(await planOf());
    const bad: Array<[string, RegExp]> = [
      ['oom-score-adjust\t1001', /bad oom-score-adjust record/],
      ['oom-score-adjust\t-5x', /bad oom-score-adjust record/],
      ['cpu\t8192', /bad cpu record/],
      ['cpu\t-1', /bad cpu record/],
      ['rlimit\tNOFILE\t5\t3', /bad rlimit record/],
      ['rlimit\tBOGUS\t1\t1', /bad rlimit record/],
      ['rlimit\tNOFILE\t18446744073709551615\tinfinity', /bad rlimit record/],
      ['rlimit\tNOFILE\t1', /bad rlimit record/],
      ['personality\tppc', /bad personality record/],
      ['caps-ambient\t0', /bad caps-ambient record/],
      ['caps-ambient\tzz', /bad caps-ambient record/],
      ['no-new-privileges\tyes', /bad no-new-privileges record/],
    ];
    for (const [line, why] of bad) {
      const r = decode(good.replace('\nend\n', `\n${line}\nend\n`));
      assert.notEqual(r.status, 0, line);
      assert.match(r.stderr, /plan line \d+: /);
      assert.match(r.stderr, why);
    }
  });
});

