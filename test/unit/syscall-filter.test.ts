/**
 * --system-call-filter=[~]LIST and SystemCallFilter= (src/plan/syscall-filter.ts):
 * the words as nspawn splits them, unknown ones refused, nspawn's rules for
 * what a list allows and refuses (deny words matched by name wherever the
 * allow list reaches them), the numbers per ABI, the .nspawn key's trust
 * rule, and the plan records as the helper decodes them (native/syscall-rules.c).
 * The tables are checked against each other and the C deny list.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { NSPAWN_DEFAULT_CAPS } from '../../src/plan/capabilities.js';
import { buildPlan } from '../../src/plan/build.js';
import { encodePlan } from '../../src/plan/encode.js';
import { SYSCALL_GROUPS } from '../../src/plan/syscall-groups.js';
import { SYSCALL_NUMBERS } from '../../src/plan/syscall-numbers.js';
import { nspawnAllowedNames, parseSystemCallFilter, syscallRules, SYSCALL_GROUP_NAMES, type PlanSyscallRule, type SystemCallFilterWords } from '../../src/plan/syscall-filter.js';
import { settingsFromArgs } from '../../src/settings/from-args.js';
import { settingsFromFile } from '../../src/settings/from-file.js';
import { mergeSettings } from '../../src/settings/merge.js';
import { defaultSettings, type Settings } from '../../src/settings/model.js';
import { HELPER, rejectsUserError, samplePlanFacts, throwsUserError, TOP } from './helpers.js';

async function args(...argv: string[]): Promise<Settings> {
  const s = await settingsFromArgs(argv);
  assert.notEqual(s, 'exit');
  return s as Settings;
}

const CAPS = NSPAWN_DEFAULT_CAPS;
const nr = (name: string, abi = 0): number => SYSCALL_NUMBERS[name]![abi]!;
const rule = (rules: PlanSyscallRule[] | undefined, abi: string): PlanSyscallRule | undefined => rules?.find((r) => r.abi === abi);
const words = (allow: string[], deny: string[]): SystemCallFilterWords => ({ allow, deny });

describe('--system-call-filter: the words', () => {
  it('splits at blanks, a leading ~ makes them deny words, and occurrences add up (as nspawn)', async () => {
    assert.deepEqual(parseSystemCallFilter('~@clock  sethostname\t@keyring'), { deny: true, words: ['@clock', 'sethostname', '@keyring'] });
    assert.deepEqual(parseSystemCallFilter('mlock'), { deny: false, words: ['mlock'] });
    assert.deepEqual(parseSystemCallFilter('~'), { deny: true, words: [] });
    const s = await args('--system-call-filter=mlock', '--system-call-filter=~@clock', '--system-call-filter', '@memlock sethostname');
    assert.deepEqual(s.systemCallFilter, { allow: ['mlock', '@memlock', 'sethostname'], deny: ['@clock'] });
    // Only a leading ~ counts: "~sethostname" inside the list is a word, and no call.
    await rejectsUserError(() => args('--system-call-filter=mlock ~sethostname'), 'unknown system call ~sethostname');
    assert.ok(s.setOnCommandLine.has('syscall-filter'));
  });

  it('refuses an unknown group or call with one line naming the word and the option', async () => {
    await rejectsUserError(() => args('--system-call-filter=@nonsense'), 'invalid --system-call-filter=@nonsense', 'unknown system call group @nonsense', '--system-call-filter=help');
    await rejectsUserError(() => args('--system-call-filter=~getpid nosuchcall'), 'invalid --system-call-filter=~getpid nosuchcall', 'unknown system call nosuchcall');
    throwsUserError(() => parseSystemCallFilter("'mlock'"), "unknown system call 'mlock'");
  });

  it('takes a call systemd knows that no x86 ABI has (it then changes nothing there, as systemd skips it)', () => {
    assert.deepEqual(parseSystemCallFilter('~cacheflush'), { deny: true, words: ['cacheflush'] });
    assert.deepEqual(syscallRules(words([], ['cacheflush']), CAPS, 'x64'), []);
  });

  it('=help lists systemd\'s groups, one a line', () => {
    const r = spawnSync(`${TOP}/bin/tsnspawn`, ['--system-call-filter=help'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), SYSCALL_GROUP_NAMES);
    for (const g of ['@clock', '@known', '@system-service', '@sandbox', '@privileged']) assert.ok(SYSCALL_GROUP_NAMES.includes(g), g);
  });
});

describe("--system-call-filter: nspawn's rules", () => {
  it('nothing to do without words', () => {
    assert.equal(syscallRules(words([], []), CAPS, 'x64'), undefined);
  });

  it('~sethostname refuses it on each ABI by that ABI\'s number', () => {
    const r = syscallRules(words([], ['sethostname']), CAPS, 'x64');
    assert.deepEqual(r, [
      { abi: 'x86-64', allow: [], deny: [170] },
      { abi: 'x32', allow: [], deny: [170] },
      { abi: 'x86', allow: [], deny: [74] },
    ]);
  });

  it('~@clock refuses the clock setters even where CAP_SYS_TIME would open them, not clock_gettime', () => {
    for (const caps of [CAPS, [...CAPS, 'CAP_SYS_TIME']]) {
      const deny = rule(syscallRules(words([], ['@clock']), caps, 'x64'), 'x86-64')!.deny;
      for (const c of ['settimeofday', 'clock_settime', 'adjtimex', 'clock_adjtime']) assert.ok(deny.includes(nr(c)), c);
      assert.ok(!deny.includes(nr('clock_gettime')));
    }
  });

  it('an allow word opens what the default refuses (mlock without CAP_IPC_LOCK), as nspawn adds it to its allow list', () => {
    assert.ok(!nspawnAllowedNames(CAPS).has('mlock'));
    const r = syscallRules(words(['mlock'], []), CAPS, 'x64');
    assert.deepEqual(rule(r, 'x86-64'), { abi: 'x86-64', allow: [nr('mlock')], deny: [] });
    assert.deepEqual(rule(r, 'x86'), { abi: 'x86', allow: [nr('mlock', 2)], deny: [] });
    const group = rule(syscallRules(words(['@memlock'], []), CAPS, 'x64'), 'x86-64')!;
    assert.deepEqual(group.allow, ['mlock', 'mlock2', 'mlockall', 'munlock', 'munlockall'].map((c) => nr(c)).sort((a, b) => a - b));
  });

  it('a deny word wins over the same allow word', () => {
    const r = rule(syscallRules(words(['mlock'], ['mlock']), CAPS, 'x64'), 'x86-64')!;
    assert.deepEqual(r, { abi: 'x86-64', allow: [], deny: [nr('mlock')] });
  });

  it('matches deny words by name where the allow list reaches them: ~@file-system keeps close (also @basic-io), refuses openat', () => {
    const deny = rule(syscallRules(words([], ['@file-system']), CAPS, 'x64'), 'x86-64')!.deny;
    assert.ok(deny.includes(nr('openat')) && deny.includes(nr('mkdir')));
    assert.ok(!deny.includes(nr('close')) && !deny.includes(nr('mmap')), 'close is in @basic-io, mmap in @default');
  });

  it('skips a call on an ABI that lacks it (_llseek: x86 only)', () => {
    assert.deepEqual(syscallRules(words([], ['_llseek']), CAPS, 'x64'), [{ abi: 'x86', allow: [], deny: [nr('_llseek', 2)] }]);
  });

  it('is refused, with one line, where the tables do not fit the host', () => {
    throwsUserError(() => syscallRules(words([], ['sethostname']), CAPS, 'arm64'), '--system-call-filter=', 'x86-64');
  });

  it('goes into the plan only with the filter on (SYSTEMD_SECCOMP=0: none, as nspawn)', async () => {
    if (process.arch !== 'x64') return;
    const s = await args('-D', '/var/lib/machines/deb', '--system-call-filter=~sethostname');
    assert.deepEqual(buildPlan(s, samplePlanFacts()).syscallRules?.[0], { abi: 'x86-64', allow: [], deny: [170] });
    assert.equal(buildPlan({ ...s, syscallFilter: false }, samplePlanFacts()).syscallRules, undefined);
  });
});

describe('--system-call-filter: the tables', () => {
  it('every group member is a call or a group systemd has, and @default reaches getpid', () => {
    for (const [name, g] of Object.entries(SYSCALL_GROUPS))
      for (const m of g.members.split(' ')) if (m.startsWith('@')) assert.ok(SYSCALL_GROUPS[m], `${name}: ${m}`);
    assert.ok(nspawnAllowedNames(CAPS).has('getpid'));
  });

  it("the C deny list (native/seccomp-list.h) refuses nothing nspawn's default allows, for the default capabilities and with each gating one kept", () => {
    const list = readFileSync(`${TOP}/native/seccomp-list.h`, 'utf8');
    const entries = [...list.matchAll(/^DENY\(__NR_(\w+), (-1|CAP_\w+)\)$/gm)].map((m) => ({ name: m[1]!, cap: m[2]! }));
    assert.ok(entries.length > 50);
    const gating = [...new Set(entries.map((e) => e.cap).filter((c) => c !== '-1'))];
    for (const caps of [[...CAPS], ...gating.map((c) => [...CAPS, c])]) {
      const allowed = nspawnAllowedNames(caps);
      const denied = entries.filter((e) => e.cap === '-1' || !caps.includes(e.cap)).map((e) => e.name);
      assert.deepEqual(denied.filter((n) => allowed.has(n)), [], `caps ${caps.join(',')}`);
    }
  });

  it('numbers fit the helper (below 1024 on each ABI) and agree with Debian 12\'s kernel headers where both have a call', () => {
    for (const [name, abis] of Object.entries(SYSCALL_NUMBERS)) for (const n of abis) assert.ok(n >= -1 && n < 1024, name);
    const headers: [string, number][] = [['unistd_64.h', 0], ['unistd_x32.h', 1], ['unistd_32.h', 2]];
    for (const [file, abi] of headers) {
      let text: string;
      try {
        text = readFileSync(`/usr/include/x86_64-linux-gnu/asm/${file}`, 'utf8');
      } catch {
        continue; // linux-libc-dev only where the helper is built for x86-64
      }
      for (const m of text.matchAll(/#define __NR_(\w+)\s+(?:\(__X32_SYSCALL_BIT \+ )?(\d+)/g)) assert.equal(nr(m[1]!, abi), Number(m[2]), `${file}: ${m[1]}`);
    }
  });
});

describe('SystemCallFilter= in a .nspawn file', () => {
  const file = (text: string) => settingsFromFile('/etc/systemd/nspawn/deb.nspawn', text);

  it('adds up over lines and replaces the command line\'s lists only when the command line has none (nspawn\'s mask)', async () => {
    const f = file('[Exec]\nSystemCallFilter=~@clock\nSystemCallFilter=mlock\n');
    assert.deepEqual(f.values.systemCallFilter, { allow: ['mlock'], deny: ['@clock'] });
    assert.deepEqual(mergeSettings(await args(), f, { trusted: true, override: false }).settings.systemCallFilter, { allow: ['mlock'], deny: ['@clock'] });
    const cmd = await args('--system-call-filter=~sethostname');
    assert.deepEqual(mergeSettings(cmd, f, { trusted: true, override: false }).settings.systemCallFilter, { allow: [], deny: ['sethostname'] });
  });

  it('an untrusted file may refuse calls, but one that allows any is ignored whole with a warning (as nspawn)', async () => {
    const denyOnly = mergeSettings(await args(), file('[Exec]\nSystemCallFilter=~@clock\n'), { trusted: false, override: false });
    assert.deepEqual(denyOnly.settings.systemCallFilter, { allow: [], deny: ['@clock'] });
    assert.deepEqual(denyOnly.warnings, []);
    const allows = mergeSettings(await args(), file('[Exec]\nSystemCallFilter=~@clock\nSystemCallFilter=mlock\n'), { trusted: false, override: false });
    assert.deepEqual(allows.settings.systemCallFilter, { allow: [], deny: [] });
    assert.match(allows.warnings.join('\n'), /not trusted.*SystemCallFilter=/);
  });

  it('a bad word makes the line a warning naming file, line and word; the rest applies', () => {
    const f = file('[Exec]\nSystemCallFilter=~@nonsense\nSystemCallFilter=~sethostname\n');
    assert.deepEqual(f.values.systemCallFilter, { allow: [], deny: ['sethostname'] });
    assert.equal(f.warnings.length, 1);
    assert.match(f.warnings[0]!, /deb\.nspawn:2: invalid SystemCallFilter=~@nonsense, ignoring it: unknown system call group @nonsense/);
  });
});

describe('--system-call-filter: the plan records as the helper decodes them', () => {
  const decode = (text: string) => spawnSync(HELPER, ['--decode'], { input: text, encoding: 'utf8', timeout: 10_000 });

  it('round-trips the rules', () => {
    if (process.arch !== 'x64') return;
    const rules = syscallRules(words(['mlock'], ['@clock', 'sethostname', '_llseek']), CAPS, 'x64')!;
    const plan = { ...buildPlan(defaultSettingsWithDir(), samplePlanFacts()), syscallRules: rules };
    const r = decode(encodePlan(plan));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).syscallRules, rules);
  });

  it('refuses a number beyond the limit, an unknown ABI or a malformed record (never cut short)', () => {
    const good = encodePlan(buildPlan(defaultSettingsWithDir(), samplePlanFacts()));
    for (const bad of ['syscall-deny\tx86-64\t1024', 'syscall-allow\tmips\t1', 'syscall-deny\tx86-64', 'syscall-deny\tx86-64\t-1', 'syscall-deny\tx86-64\t1x']) {
      const r = decode(good.replace('end\n', `${bad}\nend\n`));
      assert.notEqual(r.status, 0, bad);
      assert.match(r.stderr, /syscall-(deny|allow)/, bad);
    }
  });
});

/** Plain settings for a plan whose other fields do not matter here. */
function defaultSettingsWithDir(): Settings {
  return { ...defaultSettings(), directory: '/var/lib/machines/deb' };
}
