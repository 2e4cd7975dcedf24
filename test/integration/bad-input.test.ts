/**
 * Bad input: one clear line on stderr naming the object and the fix, a
 * non-zero exit, and nothing left on the host. Also: a hostile tree whose
 * symlinks point at host paths cannot redirect a mount out of the tree.
 * Needs root.
 */
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { assertOneErrorLine, runClean } from '../harness/run.js';

const skip = rootSkipReason();

describe('bad input is refused cleanly', { skip }, () => {
  let tree = '';
  let scratch = '';
  before(() => {
    tree = image('busybox');
    scratch = mkdtempSync('/var/tmp/tsnspawn-bad-');
    mkdirSync(`${scratch}/no-usr/etc`, { recursive: true });
    writeFileSync(`${scratch}/no-usr/etc/os-release`, 'ID=x\n');
    mkdirSync(`${scratch}/no-os-release/usr`, { recursive: true });
    writeFileSync(`${scratch}/a-file`, '');
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const cases: Array<[string, () => string[], RegExp]> = [
    ['-D that does not exist', () => ['-D', '/nonexistent/tree', '/bin/true'], /--directory=\/nonexistent\/tree: no such directory/],
    ['-D that is a file', () => ['-D', `${scratch}/a-file`, '/bin/true'], /not a directory/],
    ['a tree without /usr', () => ['-D', `${scratch}/no-usr`, '/bin/true'], /does not look like an OS tree: it has no \/usr/],
    // As nspawn: os-release is asked of a tree to boot (a COMMAND needs only /usr).
    ['a tree without os-release to boot', () => ['-D', `${scratch}/no-os-release`, '-b'], /no \/etc\/os-release or \/usr\/lib\/os-release/],
    ['an invalid machine name', () => ['-D', tree, '-M', 'bad name!', '/bin/true'], /invalid machine name 'bad name!'/],
    ['a machine name that is too long', () => ['-D', tree, '-M', 'x'.repeat(65), '/bin/true'], /invalid machine name/],
    ['an invalid UUID', () => ['-D', tree, '--uuid', 'not-a-uuid', '/bin/true'], /invalid --uuid=not-a-uuid/],
    ['--bind with a missing source', () => ['-D', tree, '--bind=/nonexistent/src:/mnt', '/bin/true'], /--bind=\/nonexistent\/src:\/mnt: the source \/nonexistent\/src does not exist/],
    ['--bind with a relative destination', () => ['-D', tree, '--bind=/tmp:relative', '/bin/true'], /destination 'relative' must be an absolute path/],
    ['a COMMAND not in the tree', () => ['-D', tree, '/no/such/program'], /cannot run \/no\/such\/program: no such file in the tree/],
    ['a COMMAND not found in PATH', () => ['-D', tree, 'no-such-program'], /cannot run no-such-program: not found in the tree's PATH/],
    ['a COMMAND that is not executable', () => ['-D', tree, '/etc/passwd'], /cannot run \/etc\/passwd: not an executable file/],
    ['an unknown option', () => ['-D', tree, '--no-such-option', '/bin/true'], /unknown option '--no-such-option'.*--help/],
    ['an option without its value', () => ['-D'], /option '-D' \(--directory\) needs a value/],
    ['an unknown user', () => ['-D', tree, '-u', 'nobody-here', '/bin/true'], /--user=nobody-here: no such user/],
    ['a bad --console value', () => ['-D', tree, '--console=fancy', '/bin/true'], /invalid --console value 'fancy'/],
    ['a bad --kill-signal', () => ['-D', tree, '--kill-signal=SIGNOPE', '/bin/true'], /invalid --kill-signal=SIGNOPE/],
    ['an unknown capability', () => ['-D', tree, '--capability=CAP_BOGUS', '/bin/true'], /invalid --capability=CAP_BOGUS: unknown capability 'CAP_BOGUS'/],
    ['an overlay of more lower layers than overlayfs stacks', () => ['-D', tree, `--overlay-ro=${Array.from({ length: 501 }, () => '/tmp').join(':')}:/mnt`, '/bin/true'], /501 lower layers, and the kernel's overlayfs stacks at most 500/],
    ['an unknown --property', () => ['-D', tree, '--property=Bogus=1', '/bin/true'], /invalid --property=Bogus=1: tsnspawn does not know the property Bogus/],
    ['--property without systemd to ask', () => ['-D', tree, '--register=no', '--property=TasksMax=5', '/bin/true'], /cannot use --slice\/--property: there is no system bus/],
    // Failures inside the helper come back with the step and the option that caused them.
    ['a bind of a file over a directory', () => ['-D', tree, '--bind=/etc/hostname:/usr', '/bin/true'], /cannot bind \/etc\/hostname to \/usr: Not a directory \(step mount, op bind\); check --bind=\/etc\/hostname:\/usr/],
    ['a --chdir to a missing directory', () => ['-D', tree, '--chdir=/nonexistent', '/bin/true'], /cannot change to directory \/nonexistent: No such file or directory \(step chdir\); check --chdir=\/nonexistent/],
  ];

  for (const [name, args, pattern] of cases) {
    it(`refuses ${name}`, async () => {
      const r = await runClean(['-q', ...args()], [tree]);
      assertOneErrorLine(r, pattern);
      assert.equal(r.stdout, '');
    });
  }
});

describe('symlinks in the tree cannot redirect mounts to the host', { skip }, () => {
  let scratch = '';
  let hostile = '';
  let target = '';
  before(() => {
    const busybox = `${image('busybox')}/usr/bin/busybox`;
    scratch = mkdtempSync('/var/tmp/tsnspawn-escape-');
    hostile = `${scratch}/tree`;
    target = `${scratch}/host-target`;
    for (const d of ['tmp', 'run', 'mnt']) mkdirSync(`${target}/${d}`, { recursive: true });
    for (const d of ['usr/bin', 'etc', 'dev', 'proc', 'sys', 'var']) mkdirSync(`${hostile}/${d}`, { recursive: true });
    copyFileSync(busybox, `${hostile}/usr/bin/busybox`);
    chmodSync(`${hostile}/usr/bin/busybox`, 0o755);
    for (const a of ['sh', 'ls', 'cat', 'echo']) symlinkSync('busybox', `${hostile}/usr/bin/${a}`);
    symlinkSync('usr/bin', `${hostile}/bin`);
    writeFileSync(`${hostile}/etc/os-release`, 'ID=hostile\n');
    // Each of these names the host's target directory, absolutely or by climbing.
    symlinkSync(`${target}/tmp`, `${hostile}/tmp`);
    symlinkSync(`../../../../../../../..${target}/run`, `${hostile}/run`);
    symlinkSync(`${target}/mnt`, `${hostile}/mnt`);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('mounts land inside the tree and the host directory stays untouched', async () => {
    const src = mkdtempSync(`${scratch}/src-`);
    writeFileSync(`${src}/marker`, 'bound\n');
    const r = await runClean(
      ['-q', '-P', '-D', hostile, `--bind=${src}:/mnt/bound`, '/bin/sh', '-c', 'cat /mnt/bound/marker; echo x > /tmp/in-tmp; ls /run/host'],
      [hostile],
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^bound\n/);
    for (const d of ['tmp', 'run', 'mnt']) assert.deepEqual(readdirSync(`${target}/${d}`), [], `nothing was created in the host's ${target}/${d}`);
    // The symlinks were followed inside the tree instead.
    assert.ok(existsSync(`${hostile}${target}/mnt/bound`), 'the absolute link resolved to a path under the tree');
  });
});
