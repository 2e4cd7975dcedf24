/**
 * -x/--ephemeral and --volatile: changes live in a tmpfs of the container's
 * own mount namespace and vanish with it, even when tsnspawn is SIGKILLed;
 * the tree is untouched; a booted ephemeral Debian reaches running.
 * Needs root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { boot } from '../../src/api/index.js';
import { snapshot } from '../harness/host-state.js';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, assertOneErrorLine, run, runClean, start } from '../harness/run.js';

const skip = rootSkipReason();

describe('ephemeral and volatile roots', { skip }, () => {
  let tree = '';
  before(() => {
    tree = image('busybox');
  });

  it('-x: writes land in a throwaway layer; the tree is untouched; the name gets a random suffix', async () => {
    const before = readdirSync(`${tree}/etc`).sort();
    const r = await runClean(['-q', '-P', '-x', '-D', tree, '/bin/sh', '-c', 'echo x > /etc/ephemeral-probe && rm /etc/passwd && hostname'], [tree]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^busybox-[0-9a-f]+-[0-9a-f]{16}\n$/);
    assert.deepEqual(readdirSync(`${tree}/etc`).sort(), before);
    assert.ok(existsSync(`${tree}/etc/passwd`));
  });

  it('-x: nothing remains after tsnspawn is SIGKILLed', async () => {
    const snap = snapshot();
    const child = start(['-q', '-x', '-D', tree, '/bin/sh', '-c', 'echo x > /etc/killed-probe; echo up; sleep 60']);
    await new Promise((r) => child.stdout!.once('data', r));
    child.kill('SIGKILL');
    await child.catch(() => {});
    // What a SIGKILL keeps tsnspawn from removing (its record, its empty cgroups) goes at the next tsnspawn.
    await run(['list']);
    await assertNoLeaks(snap, [tree]);
    assert.ok(!existsSync(`${tree}/etc/killed-probe`));
  });

  it('--volatile=yes: a tmpfs root with the tree\'s /usr read-only', async () => {
    const r = await runClean(['-q', '-P', '--volatile=yes', '-D', tree, '/bin/sh', '-c', 'touch /new && echo root-writable; touch /usr/new 2>/dev/null || echo usr-ro; test -e /etc/passwd || echo no-etc'], [tree]);
    assert.equal(r.stdout, 'root-writable\nusr-ro\nno-etc\n');
  });

  it('--volatile=state: the root read-only, /var a tmpfs', async () => {
    const r = await runClean(['-q', '-P', '--volatile=state', '-D', tree, '/bin/sh', '-c', 'touch /new 2>/dev/null || echo root-ro; touch /var/new && echo var-writable'], [tree]);
    assert.equal(r.stdout, 'root-ro\nvar-writable\n');
    assert.ok(!existsSync(`${tree}/var/new`));
  });

  it('--volatile=overlay: like -x, but keeps the machine name', async () => {
    const r = await runClean(['-q', '-P', '--volatile=overlay', '-M', 'vol', '-D', tree, '/bin/sh', '-c', 'touch /etc/vol-probe && hostname'], [tree]);
    assert.equal(r.stdout, 'vol\n');
    assert.ok(!existsSync(`${tree}/etc/vol-probe`));
  });

  it('refuses -x together with --volatile', async () => {
    const r = await runClean(['-q', '-x', '--volatile=yes', '-D', tree, '/bin/true'], [tree]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /^tsnspawn: cannot combine --ephemeral with --volatile/);
  });

  it('a booted ephemeral Debian reaches running and leaves the tree as it was', async (t) => {
    const debian = image('debian12');
    const state = (): string =>
      JSON.stringify([readdirSync(`${debian}/etc`).sort(), readdirSync(`${debian}/var/log`).sort(), readFileSync(`${debian}/etc/machine-id`, 'utf8')]);
    const before = state();
    const host = snapshot();
    {
      // Through the API (src/api/): boot, wait for the guest, ask it, power it off.
      await using c = await boot({ directory: debian, ephemeral: true, signal: t.signal });
      await c.ready({ timeout: 120_000 });
      const running = await c.exec(['systemctl', 'is-system-running', '--wait']);
      const failed = (await c.exec(['systemctl', 'list-units', '--failed', '--plain', '--no-legend'])).stdout;
      assert.equal(running.stdout.trim(), 'running', `failed units: ${failed}`);
      assert.equal(await c.poweroff(), 0);
    }
    // systemd wrote a machine id, a journal, resolv.conf...: all in the throwaway layer.
    assert.equal(state(), before);
    await assertNoLeaks(host, [debian]);
  });
});

describe('--tarball: start straight from a rootfs archive', { skip }, () => {
  it('unpacks once into a cache keyed by content, runs an ephemeral overlay of it each time', async () => {
    const { archives } = await import('../harness/archives.js');
    const { mkdtempSync, rmSync, statSync } = await import('node:fs');
    const archive = archives().zstd!;
    const cache = mkdtempSync('/var/tmp/tsnspawn-tarballs-');
    const env = { TSNSPAWN_TARBALL_CACHE: cache };
    try {
      const first = await runClean(['-q', '-P', `--tarball=${archive}`, '/bin/sh', '-c', 'cat /etc/debian_version; hostname; touch /etc/persist-probe'], [cache], { env, timeoutMs: 120_000 });
      assert.equal(first.exitCode, 0, first.stderr);
      assert.match(first.stdout, /^12\.\d+\ndebian12-[0-9a-f]+-[0-9a-f]{16}\n$/);
      const trees = readdirSync(cache).filter((f) => /^[0-9a-f]{32}$/.test(f));
      assert.equal(trees.length, 1, 'one unpacked tree');
      const unpackedAt = statSync(`${cache}/${trees[0]}`).mtimeMs;
      const second = await runClean(['-q', '-P', `--tarball=${archive}`, '/bin/sh', '-c', 'test -e /etc/persist-probe && echo kept || echo fresh'], [cache], { env });
      assert.equal(second.stdout, 'fresh\n', 'each run starts from the archive as it is');
      assert.equal(statSync(`${cache}/${trees[0]}`).mtimeMs, unpackedAt, 'the cached tree was reused, not unpacked again');
    } finally {
      rmSync(cache, { recursive: true, force: true });
    }
  });
});

describe('--overlay and --overlay-ro', { skip }, () => {
  let tree = '';
  before(() => {
    tree = image('busybox');
  });

  it('stacks host trees (the later one on top), writes into the upper tree, leaves the lower ones alone', async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, readFileSync: rf, rmSync } = await import('node:fs');
    const dir = mkdtempSync('/var/tmp/tsnspawn-overlay-');
    try {
      for (const d of ['low1', 'low2', 'up']) mkdirSync(`${dir}/${d}`);
      writeFileSync(`${dir}/low1/a`, 'low1\n');
      writeFileSync(`${dir}/low2/a`, 'low2\n');
      writeFileSync(`${dir}/low1/only-low1`, 'x\n');
      const rw = await runClean(
        ['-q', '-P', '-D', tree, `--overlay=${dir}/low1:${dir}/low2:${dir}/up:/mnt`, '/bin/sh', '-c', 'cat /mnt/a /mnt/only-low1; echo new > /mnt/c; rm /mnt/only-low1'],
        [tree],
      );
      assert.equal(rw.exitCode, 0, rw.stderr);
      assert.equal(rw.stdout, 'low2\nx\n');
      assert.equal(rf(`${dir}/up/c`, 'utf8'), 'new\n');
      assert.equal(rf(`${dir}/low1/only-low1`, 'utf8'), 'x\n', 'the lower tree is untouched');
      assert.deepEqual(readdirSync(dir).sort(), ['low1', 'low2', 'up'], 'the work directory is gone');

      const ro = await runClean(['-q', '-P', '-D', tree, `--overlay-ro=${dir}/low1:${dir}/low2:/mnt`, '/bin/sh', '-c', 'cat /mnt/a; (echo x > /mnt/d) 2>/dev/null || echo read-only'], [tree]);
      assert.equal(ro.stdout, 'low2\nread-only\n');

      const tmp = await runClean(['-q', '-P', '-D', tree, `--overlay=${dir}/low1::/mnt`, '/bin/sh', '-c', 'echo t > /mnt/e && cat /mnt/e'], [tree]);
      assert.equal(tmp.stdout, 't\n');
      assert.deepEqual(readdirSync(`${dir}/low1`).sort(), ['a', 'only-low1'], 'an empty upper is a throwaway tmpfs');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("takes '+' paths inside the container's tree (resolved in it, symlinks too), removes the work directory after", async () => {
    const { mkdtempSync, mkdirSync, writeFileSync, readFileSync: rf, rmSync, symlinkSync, existsSync: ex } = await import('node:fs');
    const dir = mkdtempSync('/var/tmp/tsnspawn-overlay-');
    const copy = `${dir}/tree`;
    const hostProbe = `/var/tmp/tsnspawn-plus-probe-${process.pid}`;
    try {
      execFileSync('cp', ['-a', tree, copy]);
      // The shared tree's /var/tmp may hold mount points other tests' binds left: only what this case adds counts.
      const varTmpBefore = readdirSync(`${copy}/var/tmp`);
      mkdirSync(`${copy}/srv/low`, { recursive: true });
      writeFileSync(`${copy}/srv/low/a`, 'low\n');
      // A hostile link: absolute, and climbing; inside the tree it still means the tree's /var/tmp.
      symlinkSync(`/../../..${hostProbe}`, `${copy}/srv/up`);
      const rw = await runClean(['-q', '-P', '-D', copy, '--overlay=+/srv/low:+/srv/up:/mnt', '/bin/sh', '-c', 'cat /mnt/a; echo new > /mnt/b'], [copy]);
      assert.equal(rw.exitCode, 0, rw.stderr);
      assert.equal(rw.stdout, 'low\n');
      assert.equal(rf(`${copy}${hostProbe}/b`, 'utf8'), 'new\n', "the upper is the tree's, reached through the link inside the tree");
      assert.ok(!ex(hostProbe), 'nothing on the host');
      assert.deepEqual(readdirSync(`${copy}/var/tmp`).sort(), [...varTmpBefore, hostProbe.split('/').pop()].sort(), 'the work directory (beside the upper, as resolved) is gone');
      assert.deepEqual(readdirSync(`${copy}/srv/low`), ['a'], 'the lower tree is untouched');

      const bind = await runClean(['-q', '-P', '-D', copy, '--bind-ro=+/srv/low:/opt', '/bin/sh', '-c', 'cat /opt/a; (touch /opt/x) 2>/dev/null || echo read-only'], [copy]);
      assert.equal(bind.stdout, 'low\nread-only\n', bind.stderr);

      // With -x the tree is the lower layer: a '+' upper lives in the throwaway layer.
      const eph = await runClean(['-q', '-P', '-x', '-D', copy, '--overlay=+/srv/low:+/srv/eph-up:/mnt', '/bin/sh', '-c', 'echo e > /mnt/c && cat /mnt/c /mnt/a'], [copy]);
      assert.equal(eph.stdout, 'e\nlow\n', eph.stderr);
      assert.ok(!ex(`${copy}/srv/eph-up`), 'the tree is untouched');

      const missing = await runClean(['-q', '-D', copy, '--bind=+/srv/none:/opt', '/bin/true'], [copy]);
      assert.equal(missing.exitCode, 1);
      assert.match(missing.stderr, /^tsnspawn: cannot --bind=\+\/srv\/none:\/opt: the source \/srv\/none does not exist in the container's tree/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(hostProbe, { recursive: true, force: true });
    }
  });

  it("refuses '+' paths a hostile tree leads onto /proc (a bind without /proc/sys's read-only cover), and a '+' upper on a read-only root", async () => {
    const { mkdtempSync, mkdirSync, rmSync, symlinkSync } = await import('node:fs');
    const dir = mkdtempSync('/var/tmp/tsnspawn-overlay-');
    const copy = `${dir}/tree`;
    try {
      execFileSync('cp', ['-a', tree, copy]);
      mkdirSync(`${copy}/srv/low`, { recursive: true });
      symlinkSync('/proc', `${copy}/srv/data`);
      for (const [args, what] of [
        [['--bind=+/srv/data:/x:norbind'], /cannot open bind source \/srv\/data: it crosses a mount point .*; check --bind=\+\/srv\/data:\/x:norbind$/],
        [['--overlay=+/srv/data::/x'], /cannot use \+\/srv\/data as an overlay layer for \/x: it crosses a mount point/],
        // The monitor makes a '+' upper on the tree's own file system before the container's mounts exist; the container refuses it there.
        [['--overlay=+/srv/low:+/srv/data/up:/x'], /cannot open the upper tree \/srv\/data\/up again: it crosses a mount point/],
        [['--read-only', '--overlay=+/srv/low:+/srv/up:/x'], /with a read-only root: the upper tree \/srv\/up would be written in the tree/],
      ] as const) {
        const r = await runClean(['-q', '-D', copy, ...args, '/bin/sh', '-c', 'echo ran; cat /x/sys/kernel/hostname'], [copy]);
        assertOneErrorLine(r, what);
        assert.equal(r.stdout, '', 'the payload never ran');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an overlay of a missing host tree', async () => {
    const r = await runClean(['-q', '-D', tree, '--overlay=/nonexistent/low::/mnt', '/bin/true'], [tree]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /^tsnspawn: cannot --overlay=\/nonexistent\/low::\/mnt: \/nonexistent\/low is not a directory on the host/);
  });
});
