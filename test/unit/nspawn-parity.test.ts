/**
 * Parity with systemd-nspawn's command line (issue 15): optional values,
 * OPTION=help, nspawn's options tsnspawn refuses (with the reason), and the
 * table of all of them the README prints.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { OPTION_TABLE, parseFlags, settingsFromArgs } from '../../src/settings/from-args.js';
import { namesOf, NSPAWN_OPTIONS, optionTableMarkdown } from '../../src/settings/nspawn-options.js';
import type { Settings } from '../../src/settings/model.js';
import { rejectsUserError } from './helpers.js';

async function parse(...argv: string[]): Promise<Settings> {
  const s = await settingsFromArgs(argv);
  assert.notEqual(s, 'exit');
  return s as Settings;
}

/** settingsFromArgs in a child node: its stdout and what it returned. */
function inChild(argv: string[]): { stdout: string; result: string } {
  const mod = new URL('../../src/settings/from-args.js', import.meta.url).href;
  const script = `import { settingsFromArgs } from ${JSON.stringify(mod)};
const r = await settingsFromArgs(${JSON.stringify(argv)});
process.stdout.write('RESULT=' + (typeof r === 'string' ? r : 'settings'));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, r.stderr);
  const at = r.stdout.lastIndexOf('RESULT=');
  return { stdout: r.stdout.slice(0, at), result: r.stdout.slice(at + 'RESULT='.length) };
}

describe('optional values (nspawn\'s optional_argument)', () => {
  it('a bare --volatile means yes and leaves the next word alone', async () => {
    const s = await parse('--volatile', '-D', '/x', '/bin/true');
    assert.equal(s.volatile, 'yes');
    assert.equal(s.directory, '/x');
    assert.deepEqual((await parse('--volatile', 'state')).command, ['state'], 'a word after a bare --volatile is the COMMAND, as with getopt');
  });

  it('--volatile=MODE and booleans as before', async () => {
    assert.equal((await parse('--volatile=state')).volatile, 'state');
    assert.equal((await parse('--volatile=overlay')).volatile, 'overlay');
    assert.equal((await parse('--volatile=no')).volatile, 'no');
    assert.equal((await parse('--volatile=1')).volatile, 'yes');
    await rejectsUserError(() => parse('--volatile=bogus'), '--volatile=bogus');
  });

  it('the flag grammar: [x] is optional, <x> required, a short name alone is allowed', () => {
    assert.deepEqual(parseFlags('--volatile [mode]'), { short: undefined, long: 'volatile', takesValue: true, optionalValue: true });
    assert.deepEqual(parseFlags('-D, --directory <path>'), { short: 'D', long: 'directory', takesValue: true, optionalValue: false });
    assert.deepEqual(parseFlags('-j'), { short: 'j', long: undefined, takesValue: false, optionalValue: false });
  });
});

describe('OPTION=help prints the fixed list, one a line, and exits', () => {
  const cases: Array<[string, string[]]> = [
    ['--volatile=help', ['no', 'yes', 'state', 'overlay']],
    ['--console=help', ['interactive', 'read-only', 'passive', 'pipe', 'autopipe']],
    ['--link-journal=help', ['auto', 'no', 'host', 'try-host', 'guest', 'try-guest']],
    ['--timezone=help', ['auto', 'off', 'copy', 'bind', 'symlink', 'delete']],
    ['--register=help', ['yes', 'no', 'auto']],
    ['--settings=help', ['yes', 'no', 'override', 'trusted']],
  ];
  for (const [arg, words] of cases)
    it(arg, () => {
      const r = inChild(['-D', '/x', arg, '/bin/true']);
      assert.equal(r.result, 'exit');
      assert.equal(r.stdout, words.map((w) => `${w}\n`).join(''));
    });

  it('--resolv-conf=help, --capability=help, --drop-capability help (separate word), --kill-signal=help', () => {
    const resolv = inChild(['--resolv-conf=help']).stdout.split('\n').filter(Boolean);
    assert.equal(resolv.length, 15);
    assert.ok(resolv.includes('bind-stub') && resolv.includes('delete'));
    const caps = inChild(['--capability=help']).stdout.split('\n').filter(Boolean);
    assert.deepEqual(caps.slice(0, 3), ['cap_chown', 'cap_dac_override', 'cap_dac_read_search'], 'in number order, as nspawn');
    assert.equal(caps.at(-1), 'cap_checkpoint_restore');
    assert.deepEqual(inChild(['--drop-capability', 'help']).stdout.split('\n').filter(Boolean), caps);
    const signals = inChild(['--kill-signal=help']).stdout.split('\n').filter(Boolean);
    assert.deepEqual(signals.slice(0, 3), ['HUP', 'INT', 'QUIT']);
    assert.ok(signals.includes('TERM') && signals.includes('RTMIN+3'));
  });

  it('a value "help" to an option without a fixed list is just a value', async () => {
    assert.equal((await parse('--hostname=help')).hostname, 'help');
  });
});

describe('nspawn\'s options that tsnspawn does not take: one line with the reason', () => {
  it('--bind-user takes a name, each once, in order (checked against -U and the host at start)', async () => {
    assert.deepEqual((await parse('-U', '--bind-user=a', '--bind-user=b', '--bind-user=a')).bindUsers, ['a', 'b']);
  });

  it('a bare --private-users is yes and leaves the next word alone; -U takes no value', async () => {
    const s = await parse('--private-users', '-D', '/x');
    assert.deepEqual(s.privateUsers, { mode: 'yes' });
    assert.equal(s.directory, '/x');
    assert.deepEqual((await parse('--private-users=pick')).privateUsers, { mode: 'pick' });
    assert.deepEqual((await parse('-U', '-D', '/x')).privateUsers, { mode: 'pick' });
  });

  it('others say why', async () => {
    await rejectsUserError(() => parse('--oci-bundle=/b'), '--oci-bundle is not supported: OCI bundles');
    await rejectsUserError(() => parse('-Z', 'label'), '-Z is not supported: SELinux');
    await rejectsUserError(() => parse('--background=red'), '--background is not supported');
  });

  it('an option nspawn does not have either is unknown', async () => {
    await rejectsUserError(() => parse('--bogus'), "unknown option '--bogus'");
  });

  it('-j, --no-pager and --no-ask-password are taken', async () => {
    assert.equal((await parse('-j')).linkJournal, 'try-guest');
    assert.equal((await parse('-qj')).linkJournal, 'try-guest');
    const s = await parse('--no-pager', '--no-ask-password', '-D', '/x');
    assert.equal(s.directory, '/x');
  });
});

describe('the table of nspawn\'s options', () => {
  const implemented = NSPAWN_OPTIONS.filter((o) => o.support.kind === 'implemented').flatMap(namesOf);
  const others = NSPAWN_OPTIONS.filter((o) => o.support.kind !== 'implemented').flatMap(namesOf);
  const ours = OPTION_TABLE.map((o) => parseFlags(o.flags));
  const TSNSPAWN_ONLY = ['tarball', 'events', 'container-name'];

  it('what it calls implemented is in the option table, and the rest is not', () => {
    for (const n of implemented) {
      if (n.long === 'help' || n.long === 'version') continue; // the parser's own
      assert.ok(ours.some((o) => (n.long ? o.long === n.long : o.short === n.short)), `--${n.long ?? n.short} is implemented but not in OPTION_TABLE`);
    }
    for (const n of others) assert.ok(!ours.some((o) => (n.long && o.long === n.long) || (n.short && o.short === n.short)), `${n.long ?? n.short} is refused but in OPTION_TABLE`);
  });

  it('every option of ours is nspawn\'s (in the table) or tsnspawn\'s own', () => {
    for (const o of ours) {
      if (o.long && TSNSPAWN_ONLY.includes(o.long)) continue;
      assert.ok(implemented.some((n) => (o.long ? n.long === o.long : n.short === o.short)), `${o.long ?? o.short} is missing from NSPAWN_OPTIONS`);
    }
  });

  it('README.md holds the table as printed from the source', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
    assert.ok(readme.includes(optionTableMarkdown()), 'README.md is out of date: paste the output of node dist/src/tools/option-table.js');
  });
});

describe('machinectl bind\'s propagation path in the plan', () => {
  it('binds the host\'s propagation directory read-only at /run/host/incoming, not recursively, after /run/host exists', async () => {
    const { defaultMounts } = await import('../../src/plan/mount-table.js');
    const ops = defaultMounts({ managerName: 'm', uuid: 'u', console: false, cgroupOps: [], propagateDir: '/run/systemd/nspawn/propagate/deb' });
    const at = ops.findIndex((o) => o.kind === 'bind' && o.target === '/run/host/incoming');
    assert.deepEqual(ops[at], { kind: 'bind', source: '/run/systemd/nspawn/propagate/deb', target: '/run/host/incoming', flags: ['ro', 'mkdir'] });
    assert.ok(ops.findIndex((o) => o.kind === 'mount' && o.target === '/run/host') < at);
    const without = defaultMounts({ managerName: 'm', uuid: 'u', console: false, cgroupOps: [] });
    assert.ok(!without.some((o) => 'target' in o && o.target === '/run/host/incoming'));
  });
});
