/**
 * --pivot-root=PATH[:OLDROOT] and the tree's lock, against real trees and
 * Debian's systemd-nspawn. Needs root.
 *
 * The tree: /os1 holds a busybox root, /marker is only in the outer tree,
 * /os1/oldroot is where PATH:OLDROOT puts the outer tree.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { run as runApi, type Container } from '../../src/api/index.js';
import { globalLockPath, localLockPath } from '../../src/plan/tree-lock.js';
import { lockFileHolders } from '../../src/runtime/tree-lock-holder.js';
import { snapshot } from '../harness/host-state.js';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, assertOneErrorLine, run, runClean, start } from '../harness/run.js';

const skip = rootSkipReason();

/** Debian's systemd-nspawn as the other tests run it here (no system bus on this host: --keep-unit). */
const NSPAWN = ['-q', '-P', '--register=no', '--keep-unit'];

/** The tree's two lock files (nspawn's names). */
function lockFiles(tree: string): string[] {
  const st = statSync(tree, { bigint: true });
  return [localLockPath(tree), globalLockPath({ dev: String(st.dev), ino: String(st.ino) })];
}

const sleeper = (tree: string, machine: string, args: string[] = []): Promise<Container> =>
  runApi({ directory: tree, machine, register: 'no', command: ['/bin/sleep', '1000'], extraArgs: args });

/** Polls (bounded) until path exists: the container's payload made it. */
async function until(path: string, what: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (existsSync(path)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`${what}: ${path} never appeared`);
}

describe('--pivot-root', { skip }, () => {
  let work = '';
  let tree = '';
  before(() => {
    work = mkdtempSync('/var/tmp/tsnspawn-pivot-');
    tree = `${work}/tree`;
    mkdirSync(tree);
    cpSync(image('busybox'), `${tree}/os1`, { recursive: true, verbatimSymlinks: true });
    mkdirSync(`${tree}/os1/oldroot`);
    writeFileSync(`${tree}/marker`, 'outer tree\n');
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it("--pivot-root=PATH runs PATH's /bin/sh, and the outer tree is out of sight, as systemd-nspawn does", async () => {
    const cmd = ['/bin/sh', '-c', 'test -e /marker && echo outer-visible; test -d /oldroot && echo inner-root; readlink /proc/1/exe; ls -1 /'];
    const r = await runClean(['-q', '--register=no', '-D', tree, '--pivot-root=/os1', ...cmd], [tree]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').slice(0, 2), ['inner-root', '/usr/bin/busybox']);
    const n = execFileSync('systemd-nspawn', [...NSPAWN, '-D', tree, '--pivot-root=/os1', ...cmd], { encoding: 'utf8' });
    assert.equal(r.stdout, n);
  });

  // (Debian 12's systemd-nspawn cannot do this one here: its MS_MOVE of the tree under its /tmp fails with EINVAL.)
  it('--pivot-root=PATH:OLDROOT shows the outer tree at OLDROOT', async () => {
    const cmd = ['/bin/sh', '-c', 'cat /oldroot/marker; ls /oldroot/os1/oldroot | wc -l'];
    const r = await runClean(['-q', '--register=no', '-D', tree, '--pivot-root=/os1:/oldroot', ...cmd], [tree]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'outer tree\n0\n');
  });

  it('works under -U (the outer tree idmapped too) and with -x (writes to the old root stay in the overlay)', async () => {
    const u = await runClean(['-q', '--register=no', '-U', '-D', tree, '--pivot-root=/os1:/oldroot', '/bin/sh', '-c', 'id -u; stat -c %u /oldroot/marker'], [tree]);
    assert.equal(u.exitCode, 0, u.stderr);
    assert.equal(u.stdout, '0\n0\n');
    const x = await runClean(['-q', '--register=no', '-x', '-D', tree, '--pivot-root=/os1:/oldroot', '/bin/sh', '-c', 'echo new > /oldroot/written-by-x; cat /oldroot/written-by-x'], [tree]);
    assert.equal(x.exitCode, 0, x.stderr);
    assert.equal(x.stdout, 'new\n');
    assert.equal(existsSync(`${tree}/written-by-x`), false);
  });

  it('--read-only makes the old root read-only too', async () => {
    const r = await runClean(['-q', '--register=no', '--read-only', '-D', tree, '--pivot-root=/os1:/oldroot', '/bin/sh', '-c', 'touch /oldroot/x || echo refused'], [tree]);
    assert.equal(r.stdout.trim().split('\n').pop(), 'refused');
    assert.equal(existsSync(`${tree}/x`), false);
  });

  for (const [value, pattern] of [
    ['/nope', /--pivot-root=\/nope: \/nope does not exist in the tree/],
    ['/marker', /\/marker is not a directory in the tree/],
    ['/os1:/nope', /\/nope is not a directory in the new root .*create it there/],
    ['os1', /invalid --pivot-root=os1: .*absolute/],
    ['/os1:/', /cover the new root/],
  ] as const)
    it(`--pivot-root=${value} is refused in one line and leaves nothing`, async () => {
      const r = await runClean(['-q', '--register=no', '-D', tree, `--pivot-root=${value}`, '/bin/true'], [tree]);
      assertOneErrorLine(r, pattern);
    });
});

describe("the tree's lock", { skip }, () => {
  let work = '';
  let tree = '';
  before(() => {
    work = mkdtempSync('/var/tmp/tsnspawn-lock-');
    tree = `${work}/tree`;
    cpSync(image('busybox'), tree, { recursive: true, verbatimSymlinks: true });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('a second writable start on a running tree is refused in one line naming the container; the files go at exit', async () => {
    const host = snapshot();
    const a = await sleeper(tree, 'lock-holder');
    try {
      for (const f of lockFiles(tree)) assert.ok(existsSync(f), `${f} exists while the container runs`);
      const r = await run(['-q', '--register=no', '-D', tree, '/bin/true']);
      assertOneErrorLine(r, new RegExp(`cannot lock the tree ${tree}: it is in use by tsnspawn container lock-holder`));
      // A read-only start needs a shared lock: refused as well while a writable run holds it.
      assertOneErrorLine(await run(['-q', '--register=no', '--read-only', '-D', tree, '/bin/true']), /in use by tsnspawn container lock-holder/);
      // -x does not lock the tree (nspawn locks only its own copy); nor does SYSTEMD_NSPAWN_LOCK=0.
      assert.equal((await run(['-q', '--register=no', '-x', '-D', tree, '/bin/true'])).exitCode, 0);
      const off = await run(['-q', '--register=no', '-D', tree, '/bin/true'], { env: { SYSTEMD_NSPAWN_LOCK: '0' } });
      assert.equal(off.exitCode, 0, off.stderr);
      // Debian's systemd-nspawn sees our lock.
      let nspawnErr = '';
      try {
        execFileSync('systemd-nspawn', [...NSPAWN, '-D', tree, '/bin/true'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        assert.fail('systemd-nspawn ran on a tree tsnspawn holds');
      } catch (e) {
        nspawnErr = String((e as { stderr?: string }).stderr ?? e);
      }
      assert.match(nspawnErr, /currently busy/);
    } finally {
      await a.kill();
    }
    await assertNoLeaks(host, [tree]);
    for (const f of lockFiles(tree)) assert.equal(existsSync(f), false, `${f} removed at exit`);
  });

  it('two --read-only runs share the tree (a shared lock, as nspawn)', async () => {
    const host = snapshot();
    const a = await sleeper(tree, 'lock-ro', ['--read-only']);
    try {
      const r = await run(['-q', '--register=no', '--read-only', '-D', tree, '/bin/true']);
      assert.equal(r.exitCode, 0, r.stderr);
      const n = execFileSync('systemd-nspawn', [...NSPAWN, '--read-only', '-D', tree, '/bin/echo', 'nspawn-ran'], { encoding: 'utf8' });
      assert.equal(n.trim(), 'nspawn-ran');
    } finally {
      await a.kill();
    }
    await assertNoLeaks(host, [tree]);
    for (const f of lockFiles(tree)) assert.equal(existsSync(f), false, `${f} removed by the last holder`);
  });

  it('a tree systemd-nspawn runs is refused, naming that container', async () => {
    const host = snapshot();
    rmSync(`${tree}/ready`, { force: true });
    const n = spawn('systemd-nspawn', [...NSPAWN, '-M', 'nspawn-holder', '-D', tree, '/bin/sh', '-c', 'touch /ready; exec sleep 1000'], { stdio: 'ignore' });
    const gone = new Promise((r) => n.once('exit', r));
    try {
      await until(`${tree}/ready`, 'systemd-nspawn started');
      const r = await run(['-q', '--register=no', '-D', tree, '/bin/true']);
      assertOneErrorLine(r, /in use by systemd-nspawn container nspawn-holder \(pid \d+\)/);
    } finally {
      n.kill('SIGTERM');
      await gone;
      rmSync(`${tree}/ready`, { force: true });
    }
    await assertNoLeaks(host, [tree]);
  });

  it('a reboot in place keeps the tree: the next boot takes the lock again and holds it', async () => {
    const host = snapshot();
    const marks = mkdtempSync(`${work}/marks-`);
    // The reboot comes after the handover (1 s), so the monitor that took the lock first is gone by then.
    const script = 'if [ -e /m/once ]; then touch /m/second; exec sleep 1000; else touch /m/once; sleep 1.5; reboot -f; fi';
    const p = start(['-q', '-P', '--register=no', '-M', 'lock-reboot', '-D', tree, `--bind=${marks}:/m`, '/bin/sh', '-c', script]);
    try {
      await until(`${marks}/second`, 'the second boot');
      for (const f of lockFiles(tree)) assert.ok(existsSync(f), `${f} held by the second boot`);
      assertOneErrorLine(await run(['-q', '--register=no', '-D', tree, '/bin/true']), /in use by tsnspawn container lock-reboot/);
    } finally {
      p.kill('SIGTERM');
      await p;
    }
    await assertNoLeaks(host, [tree]);
    for (const f of lockFiles(tree)) assert.equal(existsSync(f), false, `${f} removed at exit`);
  });

  it('after a SIGKILL of tsnspawn the stale lock files lock nothing: the next start runs and removes them', async () => {
    rmSync(`${tree}/ready`, { force: true });
    const p = start(['-q', '--register=no', '-D', tree, '/bin/sh', '-c', 'touch /ready; exec sleep 1000']);
    await until(`${tree}/ready`, 'tsnspawn started');
    p.kill('SIGKILL');
    await p;
    rmSync(`${tree}/ready`, { force: true });
    // The monitor dies with it (parent-death signal), and init with the monitor.
    for (let i = 0; i < 100 && lockFileHolders(lockFiles(tree)[1]!).length > 0; i++)
      await new Promise((r) => setTimeout(r, 50));
    for (const f of lockFiles(tree)) assert.ok(existsSync(f), `${f} is left by the SIGKILLed run`);
    const r = await run(['-q', '--register=no', '-D', tree, '/bin/echo', 'again']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'again\n');
    for (const f of lockFiles(tree)) assert.equal(existsSync(f), false, `${f} removed by the next run`);
  });
});
