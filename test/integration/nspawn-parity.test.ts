/**
 * nspawn's command line as users of nspawn write it (issue 15): --tmpfs
 * options split into flags and data as nspawn does (compared with Debian's
 * systemd-nspawn in the same test), a bare --volatile, OPTION=help, and
 * nspawn's options tsnspawn refuses: one line, nothing left behind. Needs root.
 */
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, assertOneErrorLine, run, runClean, start, untilListed } from '../harness/run.js';
import { snapshot } from '../harness/host-state.js';

const skip = rootSkipReason();

/** The mountinfo line of PATH: its per-mount options and its super options. */
const MOUNT_OF = (path: string): string => `awk '$5 == "${path}" { for (i = 7; $i != "-"; i++); print $6, $(i + 3) }' /proc/self/mountinfo`;

describe('nspawn\'s command line', { skip }, () => {
  let tree = '';
  let debian = '';
  before(() => {
    tree = image('busybox');
    debian = image('debian12');
  });

  it('--tmpfs=/var:rw,nosuid,noexec works: flags become mount flags, the rest tmpfs data, as under systemd-nspawn', async () => {
    const opts = '--tmpfs=/mnt:rw,nosuid,noexec,size=1m,mode=0700';
    const script = `${MOUNT_OF('/mnt')}; cp /bin/busybox /mnt/bb; /mnt/bb true 2>/dev/null && echo exec-ok || echo noexec`;
    const r = await runClean(['-q', '-P', '-D', tree, opts, '/bin/sh', '-c', script], [tree]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'rw,nosuid,nodev,noexec rw,size=1024k,mode=700\nnoexec\n');
    const theirs = await execa('systemd-nspawn', ['-q', '-P', '--register=no', '--keep-unit', '-D', tree, opts, '/bin/sh', '-c', script], { reject: false });
    assert.equal(String(theirs.stdout), r.stdout.trimEnd(), 'the same mount as nspawn\'s');

    const plain = await runClean(['-q', '-P', '-D', tree, '--tmpfs=/var:rw,nosuid,noexec', '/bin/sh', '-c', MOUNT_OF('/var')], [tree]);
    assert.equal(plain.exitCode, 0, plain.stderr);
    assert.equal(plain.stdout, 'rw,nosuid,nodev,noexec rw\n');
    // exec and dev turn tsnspawn's defaults off; ro and noatime go on.
    const other = await runClean(['-q', '-P', '-D', tree, '--tmpfs=/mnt:ro,dev,suid,noatime,nr_inodes=100', '/bin/sh', '-c', MOUNT_OF('/mnt')], [tree]);
    assert.equal(other.stdout, 'ro,noatime ro,nr_inodes=100\n', other.stderr);
  });

  it('a bare --volatile is --volatile=yes: a tmpfs root with the tree\'s /usr', async () => {
    const r = await runClean(['-q', '-P', '--volatile', '-D', debian, '/bin/sh', '-c', 'stat -f -c %T /; touch /new && echo writable; touch /usr/new 2>/dev/null || echo usr-ro'], [debian]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'tmpfs\nwritable\nusr-ro\n');
  });

  it('OPTION=help prints the words and exits 0 without starting anything', async () => {
    const r = await runClean(['--volatile=help', '-D', tree, '/bin/false'], [tree]);
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout, 'no\nyes\nstate\noverlay\n');
    const caps = await run(['--capability=help']);
    assert.equal(caps.exitCode, 0);
    assert.ok(caps.stdout.split('\n').includes('cap_sys_admin'));
  });

  for (const [args, pattern] of [
    [['--bind-user=root'], /--bind-user=root: it needs a user namespace \(add -U/],
    [['--root-hash=0123'], /--root-hash is not supported: not implemented: image policies and dm-verity/],
    [['--oci-bundle=/b'], /--oci-bundle is not supported: OCI bundles/],
  ] as Array<[string[], RegExp]>)
    it(`refuses ${args.join(' ')} with one line and leaves nothing behind`, async () => {
      const r = await runClean(['-D', tree, ...args, '/bin/true'], [tree]);
      assertOneErrorLine(r, pattern);
    });

  it('$container: systemd-nspawn by default (systemd-detect-virt says so), tsnspawn with --container-name=tsnspawn (container-other)', async () => {
    const script = 'echo $container; cat /run/host/container-manager; systemd-detect-virt -c || true';
    const nspawnLike = await runClean(['-q', '-P', '-D', debian, '/bin/sh', '-c', script], [debian]);
    assert.equal(nspawnLike.stdout, 'systemd-nspawn\nsystemd-nspawn\nsystemd-nspawn\n', nspawnLike.stderr);
    const own = await runClean(['-q', '-P', '--container-name=tsnspawn', '-D', debian, '/bin/sh', '-c', script], [debian]);
    assert.equal(own.stdout, 'tsnspawn\ntsnspawn\ncontainer-other\n', own.stderr);
    assertOneErrorLine(await runClean(['--container-name=lxc', '-D', tree, '/bin/true'], [tree]), /invalid --container-name=lxc: use one of systemd-nspawn, tsnspawn/);
  });

  it('-j and --no-pager are taken', async () => {
    const r = await runClean(['-q', '-P', '--no-pager', '--no-ask-password', '-j', '-D', tree, '/bin/echo', 'ok'], [tree]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'ok\n');
  });
});

/** stat of each path (type, mode), whether the directory is empty and read-only, and whether tester can read it. */
const INACCESSIBLE_PROBE = [
  "stat -L -c '%n %F %a' /etc/shadow /etc/os-release /home/tester /dev/zero",
  'ls -A /home/tester | wc -l',
  'touch /home/tester/x 2>/dev/null && echo dir-writable || echo dir-read-only',
  "su tester -s /bin/sh -c 'cat /etc/shadow' >/dev/null 2>&1 && echo tester-reads || echo tester-denied",
].join('; ');

for (const mode of [[], ['-U']] as const) {
  describe(`--inaccessible (${mode.length ? 'with -U' : 'without -U'})`, { skip }, () => {
    let tree = '';
    before(() => {
      tree = image('busybox');
    });

    it('binds an inaccessible node of the path\'s own type over it, read-only (a symlink followed inside the tree)', async () => {
      const args = ['--inaccessible=/etc/shadow', '--inaccessible=/etc/os-release', '--inaccessible=/home/tester', '--inaccessible=/dev/zero'];
      const r = await runClean(['-q', '-P', ...mode, '--register=no', '-x', '-D', tree, ...args, '/bin/sh', '-c', INACCESSIBLE_PROBE], [tree]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(
        r.stdout,
        [
          '/etc/shadow regular empty file 0',
          '/etc/os-release regular empty file 0',
          '/home/tester directory 0',
          '/dev/zero character special file 0',
          '0',
          'dir-read-only',
          'tester-denied',
          '',
        ].join('\n'),
      );
    });

    it('a path that is not in the tree, a relative path or the root: one line, nothing left behind', async () => {
      assertOneErrorLine(
        await runClean(['-q', '-P', ...mode, '--register=no', '-x', '-D', tree, '--inaccessible=/no/such/path', '/bin/true'], [tree]),
        /cannot make \/no\/such\/path inaccessible.*check --inaccessible=\/no\/such\/path/,
      );
      assertOneErrorLine(await runClean(['-D', tree, '--inaccessible=etc/shadow', '/bin/true'], [tree]), /invalid --inaccessible=etc\/shadow: use an absolute path/);
      assertOneErrorLine(await runClean(['-D', tree, '--inaccessible=/', '/bin/true'], [tree]), /invalid --inaccessible=\/: the container's root cannot be made inaccessible/);
    });
  });
}

/**
 * fsync(2) and fdatasync(2) of /dev/null fail with EINVAL (a character
 * device has nothing to sync); suppressed, they succeed without reaching the
 * kernel. A file opened with O_SYNC is refused with EINVAL, as under nspawn.
 */
const SYNC_PROBE = 'sync /dev/null 2>/dev/null && echo fsync-ok || echo fsync-einval; sync -d /dev/null 2>/dev/null && echo fdatasync-ok || echo fdatasync-einval; sync && echo sync-ok';
const O_SYNC_PROBE = 'perl -MFcntl -e \'sysopen(my $f, "/tmp/s", O_WRONLY|O_CREAT|O_SYNC) ? print "opened\\n" : print "$!\\n"\'';

for (const mode of [[], ['-U']] as const) {
  describe(`--suppress-sync (${mode.length ? 'with -U' : 'without -U'})`, { skip }, () => {
    let tree = '';
    let debian = '';
    before(() => {
      tree = image('busybox');
      debian = image('debian12');
    });
    const container = (root: string, args: string[], script: string, env?: Record<string, string>) =>
      runClean(['-q', '-P', ...mode, '--register=no', '-x', '-D', root, ...args, '/bin/sh', '-c', script], [root], env ? { env } : {});

    it('yes: the sync calls succeed without doing anything; no (the default): they reach the kernel', async () => {
      const on = await container(tree, ['--suppress-sync=yes'], SYNC_PROBE);
      assert.equal(on.stdout, 'fsync-ok\nfdatasync-ok\nsync-ok\n', on.stderr);
      const off = await container(tree, ['--suppress-sync=no'], SYNC_PROBE);
      assert.equal(off.stdout, 'fsync-einval\nfdatasync-einval\nsync-ok\n', off.stderr);
      const plain = await container(tree, [], SYNC_PROBE);
      assert.equal(plain.stdout, off.stdout, plain.stderr);
    });

    it('yes: open() with O_SYNC fails with EINVAL (callers retry without), as nspawn', async () => {
      assert.equal((await container(debian, ['--suppress-sync=yes'], O_SYNC_PROBE)).stdout, 'Invalid argument\n');
      assert.equal((await container(debian, [], O_SYNC_PROBE)).stdout, 'opened\n');
    });

    it('also with SYSTEMD_SECCOMP=0 (then its rules are the whole filter)', async () => {
      const r = await container(tree, ['--suppress-sync=yes'], SYNC_PROBE, { ...process.env, SYSTEMD_SECCOMP: '0' } as Record<string, string>);
      assert.equal(r.stdout, 'fsync-ok\nfdatasync-ok\nsync-ok\n', r.stderr);
    });

    it('tsnspawn exec into such a container gets the same rules', async () => {
      const name = `suppress-sync-exec${mode.length ? '-u' : ''}`;
      const before = snapshot();
      const child = start(['-q', ...mode, '--register=no', '--suppress-sync=yes', '-x', '-M', name, '-D', tree, '/bin/sleep', '600'], { timeoutMs: 120_000 });
      try {
        assert.ok(await untilListed(name), `${name} did not come up`);
        const r = await run(['exec', name, '/bin/sh', '-c', SYNC_PROBE]);
        assert.equal(r.stdout, 'fsync-ok\nfdatasync-ok\nsync-ok\n', r.stderr);
      } finally {
        await run(['stop', name]);
        await child;
      }
      await assertNoLeaks(before, [tree]);
    });

    it('a value that is not a boolean: one line, nothing left behind', async () => {
      assertOneErrorLine(await runClean(['-D', tree, '--suppress-sync=maybe', '/bin/true'], [tree]), /invalid --suppress-sync=maybe: use yes or no/);
    });
  });
}

for (const mode of [[], ['-U']] as const) {
  describe(`--template (${mode.length ? 'with -U' : 'without -U'})`, { skip }, () => {
    let template = '';
    let scratch = '';
    before(() => {
      template = image('busybox');
      scratch = mkdtempSync(`${tmpdir()}/tsnspawn-template-test-`);
    });
    after(() => rmSync(scratch, { recursive: true, force: true }));
    const start = (args: string[], script: string) => runClean(['-q', '-P', ...mode, '--register=no', ...args, '/bin/sh', '-c', script], [template]);

    it('makes a missing -D directory as a copy of the template that keeps owners, modes and symlinks, once', async () => {
      const dir = `${scratch}/made-${mode.length}`;
      const r = await start([`--template=${template}`, '-D', dir], "stat -c '%a %U' /etc/shadow /home/tester; readlink /bin; touch /marker");
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, '600 root\n755 tester\nusr/bin\n');
      // On the host: a copy, the template untouched, no staging directory left beside it.
      assert.equal(statSync(`${dir}/etc/shadow`).mode & 0o7777, 0o600);
      assert.equal(statSync(`${dir}/home/tester`).uid, statSync(`${template}/home/tester`).uid);
      assert.equal(readlinkSync(`${dir}/bin`), 'usr/bin');
      assert.ok(existsSync(`${dir}/marker`) && !existsSync(`${template}/marker`));
      assert.deepEqual(readdirSync(scratch).filter((n) => n.startsWith('.#')), []);
      // Existing now: used as it is, the template not copied again (the marker stays).
      const again = await start([`--template=${template}`, '-D', dir], 'test -e /marker && echo kept');
      assert.equal(again.stdout, 'kept\n', again.stderr);
    });

    it('a copy that fails (no room) leaves neither the directory nor a staging copy', async () => {
      const small = `${scratch}/small-${mode.length}`;
      mkdirSync(small);
      await execa('mount', ['-t', 'tmpfs', '-o', 'size=512k', 'tsnspawn-template-test', small]);
      try {
        const r = await start([`--template=${template}`, '-D', `${small}/tree`], 'true');
        assertOneErrorLine(r, /cannot use --template=.*: copying it to .*\/tree failed: .*No space left on device/);
        assert.deepEqual(readdirSync(small), []);
      } finally {
        await execa('umount', [small]);
      }
    });

    it('bad uses: one line each, nothing made', async () => {
      const dir = `${scratch}/never-${mode.length}`;
      assertOneErrorLine(await start([`--template=${scratch}/no-such-template`, '-D', dir], 'true'), /the template is not a directory/);
      assertOneErrorLine(await start([`--template=${template}`, '-D', `${scratch}/no/such/parent`], 'true'), /is not a directory \(create it first\)/);
      assertOneErrorLine(await start([`--template=${template}`, '-x', '-D', dir], 'true'), /cannot combine --template=.* with --ephemeral/);
      assertOneErrorLine(await run([`--template=${template}`, '/bin/true']), /without -D or -M/);
      assert.ok(!existsSync(dir));
      assert.deepEqual(readdirSync(scratch).filter((n) => n.startsWith('.#') || n.startsWith('never')), []);
    });
  });
}
