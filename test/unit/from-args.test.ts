/** The command line in nspawn's spelling: src/settings/from-args.ts. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { settingsFromArgs } from '../../src/settings/from-args.js';
import type { Settings } from '../../src/settings/model.js';
import { rejectsUserError } from './helpers.js';

/** Parses argv and insists on Settings (not 'exit'). */
async function parse(...argv: string[]): Promise<Settings> {
  const s = await settingsFromArgs(argv);
  assert.notEqual(s, 'exit');
  return s as Settings;
}

/** Runs settingsFromArgs(argv) in a child node and returns its stdout and result. */
function runInChild(argv: string[]): { stdout: string; stderr: string; status: number | null } {
  const mod = new URL('../../src/settings/from-args.js', import.meta.url).href;
  const script = `import { settingsFromArgs } from ${JSON.stringify(mod)};
const r = await settingsFromArgs(${JSON.stringify(argv)});
process.stdout.write('\\nRESULT=' + (typeof r === 'string' ? r : 'settings') + '\\n');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

describe('settingsFromArgs: options', () => {
  it('takes -D in every spelling', async () => {
    for (const argv of [['-D', '/x'], ['--directory=/x'], ['--directory', '/x'], ['-D/x']])
      assert.equal((await parse(...argv)).directory, '/x', argv.join(' '));
  });

  it('takes -M and --machine, last one wins', async () => {
    assert.equal((await parse('-M', 'deb')).machine, 'deb');
    assert.equal((await parse('--machine=a', '-M', 'b')).machine, 'b');
  });

  it('refuses an invalid -M value with the value in the message', async () => {
    await rejectsUserError(() => settingsFromArgs(['-M', 'bad name']), 'bad name');
  });

  it('takes --capability/--drop-capability lists by name (any case) or number, and refuses an unknown one', async () => {
    const s = await parse('--capability=cap_net_admin, CAP_SYS_TIME', '--capability=12', '--drop-capability=CAP_MKNOD', '-D', '/x');
    assert.deepEqual(s.addCapabilities, ['CAP_NET_ADMIN', 'CAP_SYS_TIME', 'CAP_NET_ADMIN']);
    assert.deepEqual(s.dropCapabilities, ['CAP_MKNOD']);
    await rejectsUserError(() => parse('--capability=CAP_BOGUS'), '--capability=CAP_BOGUS', "unknown capability 'CAP_BOGUS'");
    assert.deepEqual((await parse('--drop-capability=', '-D', '/x')).dropCapabilities, [], 'empty: nothing, as nspawn');
  });

  it('collects repeated -E/--setenv in order', async () => {
    const s = await parse('-E', 'A=1', '--setenv=B=2', '-E', 'A=3', '--setenv', 'C=');
    assert.deepEqual(s.environment, ['A=1', 'B=2', 'A=3', 'C=']);
  });

  it('collects repeated --bind/--bind-ro in order', async () => {
    const s = await parse('--bind', '/a', '--bind-ro=/b:/c', '--bind=/d:/e:norbind');
    assert.deepEqual(
      s.binds.map((b) => [b.source, b.destination, b.readOnly, b.recursive]),
      [
        ['/a', '/a', false, true],
        ['/b', '/c', true, true],
        ['/d', '/e', false, false],
      ],
    );
  });

  it('takes -P, -q and --console', async () => {
    const s = await parse('-P', '-q', '--console=pipe');
    assert.equal(s.pipe, true);
    assert.equal(s.quiet, true);
    assert.equal(s.console, 'pipe');
    const d = await parse();
    assert.equal(d.pipe, false);
    assert.equal(d.quiet, false);
    assert.equal(d.console, undefined);
    assert.equal((await parse('--console', 'read-only')).console, 'read-only');
  });

  it('takes grouped short flags like getopt (-qP, -bD tree)', async () => {
    const s = await parse('-qP');
    assert.equal(s.quiet, true);
    assert.equal(s.pipe, true);
    const b = await parse('-bD', '/x');
    assert.equal(b.boot, true);
    assert.equal(b.directory, '/x');
  });

  it('takes the other nspawn options', async () => {
    const s = await parse(
      '-b',
      '-u', 'alice',
      '--chdir=/srv',
      '--read-only',
      '--keep-unit',
      '--register=no',
      '--kill-signal=RTMIN+3',
      '--hostname=web',
      '--uuid=3f2504e0-4f89-41d3-9a0c-0305e82c3301',
      '--tmpfs=/scratch:mode=0700',
    );
    assert.equal(s.boot, true);
    assert.equal(s.user, 'alice');
    assert.equal(s.chdir, '/srv');
    assert.equal(s.readOnly, true);
    assert.equal(s.keepUnit, true);
    assert.equal(s.register, 'no');
    assert.equal(s.killSignal, 37);
    assert.equal(s.hostname, 'web');
    assert.equal(s.uuid, '3f2504e0-4f89-41d3-9a0c-0305e82c3301');
    assert.deepEqual(s.tmpfs.map((t) => [t.destination, t.options]), [['/scratch', 'mode=0700']]);
    assert.deepEqual(s.command, []);
  });

  it('defaults: register auto, nothing set, no command', async () => {
    const s = await parse();
    assert.equal(s.register, 'auto');
    assert.equal(s.boot, false);
    assert.equal(s.readOnly, false);
    assert.deepEqual(s.command, []);
    assert.deepEqual(s.binds, []);
    assert.deepEqual(s.environment, []);
  });
});

describe('settingsFromArgs: the COMMAND', () => {
  it('gives everything from the first non-option on to the command', async () => {
    const s = await parse('-D', '/x', '/bin/sh', '-c', 'echo -D');
    assert.equal(s.directory, '/x');
    assert.deepEqual(s.command, ['/bin/sh', '-c', 'echo -D']);
  });

  it('does not apply options that follow the command', async () => {
    const s = await parse('-D', '/x', 'ls', '-D', '/y', '-M', 'other', '--help', '-q', '--frobnicate');
    assert.equal(s.directory, '/x');
    assert.equal(s.machine, undefined);
    assert.equal(s.quiet, false);
    assert.deepEqual(s.command, ['ls', '-D', '/y', '-M', 'other', '--help', '-q', '--frobnicate']);
  });

  it("'--' ends the options, so a command may start with '-'", async () => {
    const s = await parse('-D', '/x', '--', '-weird', '--help');
    assert.deepEqual(s.command, ['-weird', '--help']);
    assert.deepEqual((await parse('-D', '/x', '--')).command, []);
    assert.deepEqual((await parse('-D', '/x', '--', '--')).command, ['--']);
  });

  it('passes init arguments after -b', async () => {
    const s = await parse('-b', '-D', '/x', '--', 'systemd.unit=rescue.target');
    assert.equal(s.boot, true);
    assert.deepEqual(s.command, ['systemd.unit=rescue.target']);
  });
});

describe('settingsFromArgs: refusals', () => {
  it('refuses an unknown long option, naming it and --help', async () => {
    await rejectsUserError(() => settingsFromArgs(['--frobnicate']), '--frobnicate', '--help');
    await rejectsUserError(() => settingsFromArgs(['-D', '/x', '--frobnicate=1', '/bin/sh']), '--frobnicate', '--help');
  });

  it('refuses an unknown short option, naming it and --help', async () => {
    await rejectsUserError(() => settingsFromArgs(['-Y']), '-Y', '--help');
  });

  it('refuses an option without its value', async () => {
    await rejectsUserError(() => settingsFromArgs(['-D']), '-D');
    await rejectsUserError(() => settingsFromArgs(['--machine']), 'machine');
    await rejectsUserError(() => settingsFromArgs(['-q', '--bind']), 'bind');
  });

  it('refuses a value given to a flag', async () => {
    await rejectsUserError(() => settingsFromArgs(['--read-only=yes']), 'read-only');
  });

  it('refuses bad values with the option named', async () => {
    await rejectsUserError(() => settingsFromArgs(['--console=tty']), '--console', 'tty');
    await rejectsUserError(() => settingsFromArgs(['--bind=']), '--bind=', 'give a source path');
    await rejectsUserError(() => settingsFromArgs(['--kill-signal=NOPE']), '--kill-signal=NOPE');
    await rejectsUserError(() => settingsFromArgs(['--hostname=a..b']), '--hostname', 'a..b');
    await rejectsUserError(() => settingsFromArgs(['--register=maybe']), '--register', 'maybe');
    await rejectsUserError(() => settingsFromArgs(['-E', '1=x']), '--setenv', '1=x');
  });
});

describe('settingsFromArgs: --help and --version', () => {
  it('--help prints usage with the options and returns exit', () => {
    for (const flag of ['--help', '-h']) {
      const r = runInChild(['-q', flag, '--frobnicate']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /RESULT=exit\n$/);
      assert.match(r.stdout, /usage/i);
      for (const opt of ['--directory', '--machine', '--bind', '--setenv', '--console', '--pipe']) assert.ok(r.stdout.includes(opt), `help mentions ${opt}`);
    }
  });

  it('--version prints the version and returns exit', () => {
    const r = runInChild(['--version']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /\d+\.\d+\.\d+/);
    assert.match(r.stdout, /RESULT=exit\n$/);
  });

  it('--help after the command belongs to the command', () => {
    const r = runInChild(['-D', '/x', '/bin/sh', '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '\nRESULT=settings\n');
  });
});
