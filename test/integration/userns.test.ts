/**
 * -U: the container's root is an unprivileged uid range of the host's, the
 * tree is mounted idmapped (its files on disk keep their owners), ranges are
 * never shared by two running containers and are given back at exit, and a
 * Debian guest boots to running as under systemd-nspawn -U. Needs root.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import { boot, run as runApi, type Container } from '../../src/api/index.js';
import { PICK_MIN, pickHint, USERNS_RANGE } from '../../src/plan/userns.js';
import { snapshot } from '../harness/host-state.js';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, assertOneErrorLine, run, runClean } from '../harness/run.js';

const skip = rootSkipReason();

/** "0 BASE COUNT" of the container's init, as the guest sees it. */
async function uidMap(c: Container): Promise<{ inside: number; base: number; count: number }> {
  const r = await c.exec(['/bin/cat', '/proc/1/uid_map'], { check: true });
  const [inside, base, count] = r.stdout.trim().split(/\s+/).map(Number);
  return { inside: inside!, base: base!, count: count! };
}

const sleeper = (tree: string, args: string[], machine?: string): Promise<Container> =>
  runApi({ directory: tree, ephemeral: true, register: 'no', command: ['/bin/sleep', '1000'], extraArgs: args, ...(machine ? { machine } : {}) });

describe('user namespaces (-U)', { skip }, () => {
  let busybox = '';
  before(() => {
    busybox = image('busybox');
  });

  it("runs the command as root of a 64K range of its own; what it creates in the tree is root's on disk", async () => {
    const probe = `${busybox}/tsnspawn-userns-probe`;
    rmSync(probe, { force: true });
    try {
      const r = await runClean(
        ['-q', '-U', '--register=no', '-D', busybox, '/bin/sh', '-c', 'id -u; cat /proc/self/uid_map; touch /tsnspawn-userns-probe; stat -c %u:%g /etc/passwd /dev/null /run'],
        [busybox],
      );
      assert.equal(r.exitCode, 0, r.stderr);
      const [id, map, ...owners] = r.stdout.trim().split('\n');
      assert.equal(id, '0');
      const [inside, base, count] = map!.trim().split(/\s+/).map(Number);
      assert.equal(inside, 0);
      assert.ok(base! >= PICK_MIN && base! % USERNS_RANGE === 0, `base ${base}`);
      assert.equal(count, USERNS_RANGE);
      // The tree's files (idmapped), the device nodes and the tmpfs the setup made: all the guest root's.
      assert.deepEqual(owners, ['0:0', '0:0', '0:0']);
      // On disk: uid 0, not the host uid the guest's root has.
      assert.equal(statSync(probe).uid, 0);
      assert.equal(statSync(probe).gid, 0);
    } finally {
      rmSync(probe, { force: true });
    }
  });

  it('the range is locked while the container runs (nspawn\'s lock file) and given back at its end', async () => {
    const before = snapshot();
    let base = 0;
    {
      await using c = await sleeper(busybox, ['-U']);
      base = (await uidMap(c)).base;
      assert.ok(existsSync(`/run/systemd/nspawn-uid/${base}`), 'the range is locked while the container runs');
      // tsnspawn exec joins the user namespace: its root is the container's.
      assert.equal((await c.exec(['/bin/sh', '-c', 'cat /proc/self/uid_map'], { check: true })).stdout.trim().split(/\s+/)[1], String(base));
    }
    assert.ok(!existsSync(`/run/systemd/nspawn-uid/${base}`), 'the range lock is gone');
    await assertNoLeaks(before, [busybox]);
  });

  it('pick never takes a range another container holds, and two started at once get different ones', async () => {
    const before = snapshot();
    const name = 'userns-pick-test';
    {
      // A holds the range B would pick first.
      await using a = await sleeper(busybox, [`--private-users=${pickHint(name)}`]);
      await using b = await sleeper(busybox, ['-U'], name);
      const [ra, rb] = [await uidMap(a), await uidMap(b)];
      assert.equal(ra.base, pickHint(name));
      assert.notEqual(rb.base, ra.base);
    }
    {
      const [c, d] = await Promise.all([sleeper(busybox, ['-U']), sleeper(busybox, ['-U'])]);
      await using _c = c;
      await using _d = d;
      assert.notEqual((await uidMap(c)).base, (await uidMap(d)).base);
    }
    await assertNoLeaks(before, [busybox]);
  });

  it('--private-users=identity maps 0-65535 to themselves; a fixed UID:COUNT is taken as given', async () => {
    const r = await runClean(['-q', '--private-users=identity', '--register=no', '-x', '-D', busybox, '/bin/cat', '/proc/self/uid_map'], [busybox]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split(/\s+/).map(Number), [0, 0, USERNS_RANGE]);
    const f = await runClean(['-q', '--private-users=1879048192:1000', '--register=no', '-x', '-D', busybox, '/bin/cat', '/proc/self/uid_map'], [busybox]);
    assert.equal(f.exitCode, 0, f.stderr);
    assert.deepEqual(f.stdout.trim().split(/\s+/).map(Number), [0, 1879048192, 1000]);
  });

  it("--bind=...:idmap shows a host directory's owners as the container's (host root is its root); a plain bind shows them as nobody", async () => {
    const dir = mkdtempSync('/var/tmp/tsnspawn-idmap-');
    try {
      chmodSync(dir, 0o755);
      writeFileSync(`${dir}/secret`, 'root only\n', { mode: 0o600 });
      const r = await runClean(
        ['-q', '--console=pipe', '-U', '--register=no', '-x', `--bind=${dir}:/mnt/plain`, `--bind=${dir}:/mnt/mapped:idmap`, '-D', busybox, '/bin/sh', '-c',
          'stat -c %u /mnt/plain/secret /mnt/mapped/secret; cat /mnt/mapped/secret; cat /mnt/plain/secret 2>/dev/null || echo denied; echo new > /mnt/mapped/made'],
        [busybox],
      );
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, '65534\n0\nroot only\ndenied\n');
      // What the container's root writes through the idmapped bind is the host's root's on disk.
      assert.equal(statSync(`${dir}/made`).uid, 0);
      assertOneErrorLine(await run(['-q', `--bind=${dir}:/mnt:idmap`, '--register=no', '-D', busybox, '/bin/true']), /the idmap option needs a user namespace \(-U\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("rootidmap shows the bind source's owner as the container's root, owneridmap as the destination's owner; nobody else is mapped", async () => {
    // A fixed range, so the host directory standing for alice's home can be made alice's (BASE+1000) beforehand.
    const base = 1879048192;
    const dir = mkdtempSync('/var/tmp/tsnspawn-ownermap-');
    try {
      const src = `${dir}/src`;
      const home = `${dir}/home`;
      mkdirSync(`${home}/work`, { recursive: true });
      chownSync(home, base + 1000, base + 1000);
      chownSync(`${home}/work`, base + 1000, base + 1000);
      mkdirSync(src, { mode: 0o755 });
      writeFileSync(`${src}/mine`, 'x\n');
      writeFileSync(`${src}/roots`, 'y\n');
      chownSync(src, 4321, 4322);
      chownSync(`${src}/mine`, 4321, 4322);
      chmodSync(src, 0o755);
      const r = await runClean(
        ['-q', '--console=pipe', `--private-users=${base}`, '--register=no', '-x', `--bind=${src}:/mnt/asroot:rootidmap`, `--bind=${home}:/home/alice`,
          `--bind=${src}:/home/alice/work:owneridmap`, '-D', busybox, '/bin/sh', '-c',
          'stat -c "%n %u:%g" /mnt/asroot /mnt/asroot/mine /mnt/asroot/roots /home/alice/work /home/alice/work/mine /home/alice/work/roots; touch /mnt/asroot/by-root'],
        [busybox],
      );
      assert.equal(r.exitCode, 0, r.stderr);
      assert.deepEqual(r.stdout.trim().split('\n'), [
        '/mnt/asroot 0:0',
        '/mnt/asroot/mine 0:0',
        '/mnt/asroot/roots 65534:65534',
        '/home/alice/work 1000:1000',
        '/home/alice/work/mine 1000:1000',
        '/home/alice/work/roots 65534:65534',
      ]);
      // What the container's root writes there is the source owner's on disk, not root's.
      assert.equal(`${statSync(`${src}/by-root`).uid}:${statSync(`${src}/by-root`).gid}`, '4321:4322');
      for (const opt of ['rootidmap', 'owneridmap'])
        assertOneErrorLine(await run(['-q', `--bind=${src}:/mnt:${opt}`, '--register=no', '-D', busybox, '/bin/true']), new RegExp(`the ${opt} option needs a user namespace \\(-U\\)`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses ranges and modes it cannot honour, with one line and nothing left', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--private-users=12345'], /multiple of 65536/],
      [['--private-users=65536:70000'], /COUNT must be 1 to 65536/],
      [['--private-users=maybe'], /invalid --private-users=maybe/],
      [['-U', '--private-users-ownership=chown', '--read-only'], /chowning changes .* on disk/],
      [['--private-users=yes'], /owned by root/],
      [['--private-users-ownership=sideways'], /invalid --private-users-ownership=sideways/],
    ];
    for (const [args, pattern] of cases) {
      const before = snapshot();
      const r = await run(['-q', ...args, '--register=no', '-D', busybox, '/bin/true']);
      assertOneErrorLine(r, pattern);
      await assertNoLeaks(before, [busybox]);
    }
  });
});

for (const release of ['debian12', 'debian13']) {
  describe(`booting ${release} with -U`, { skip }, () => {
    it('reaches running as root of its own range, with the tree on disk unchanged, reboots, and powers off with 0', async () => {
      const tree = image(release);
      const st = (p: string): string => {
        const s = statSync(`${tree}${p}`);
        return `${s.uid}:${s.gid}:${s.mtimeMs}`;
      };
      const owners = ['/', '/etc', '/etc/passwd', '/usr/bin/passwd', '/var/log'].map(st);
      const before = snapshot();
      {
        await using c = await boot({ directory: tree, ephemeral: true, register: 'no', extraArgs: ['-U'], timeout: 60_000 });
        await c.ready({ timeout: 120_000 });
        const state = await c.exec(['systemctl', 'is-system-running', '--wait']);
        assert.equal(state.stdout.trim(), 'running', `${state.stdout}${state.stderr}\n${(await c.exec(['systemctl', 'list-units', '--failed', '--no-legend'])).stdout}`);
        const map = await uidMap(c);
        assert.ok(map.base >= PICK_MIN, `uid_map ${JSON.stringify(map)}`);
        // The guest's files are root's inside; a user is a user.
        assert.equal((await c.exec(['stat', '-c', '%u', '/etc/shadow', '/usr/bin/passwd'], { check: true })).stdout, '0\n0\n');
        assert.equal((await c.exec(['id', '-u'], { user: 'nobody', check: true })).stdout.trim(), '65534');
        // A reboot starts the same container again, in a user namespace again.
        const first = c.facts.leader;
        await c.exec(['systemctl', 'reboot']);
        await c.waitFor(() => c.facts.leader !== first, { timeout: 60_000, what: 'the guest to reboot' });
        await c.ready({ timeout: 120_000 });
        assert.ok((await uidMap(c)).base >= PICK_MIN, 'the new boot has a user namespace of its own');
        assert.equal(await c.poweroff({ timeout: 60_000 }), 0);
      }
      assert.deepEqual(['/', '/etc', '/etc/passwd', '/usr/bin/passwd', '/var/log'].map(st), owners, 'the tree on disk is unchanged');
      await assertNoLeaks(before, [tree]);
    });
  });
}
