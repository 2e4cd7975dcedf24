/**
 * -i/--image: GPT disk images as systemd-repart builds them (root found by
 * its Discoverable Partitions type, /usr mounted from its own partition,
 * the GPT read-only and no-auto flags honoured), a plain ext4 image, one
 * writer or many readers, Debian 12 booted from an image, and images
 * tsnspawn refuses. After every case, and after a SIGKILL of
 * tsnspawn, no loop device of ours stays attached and no mount stays on the
 * host (host-state.ts checks loop devices by backing file). Needs root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readlinkSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { boot } from '../../src/api/index.js';
import { snapshot } from '../harness/host-state.js';
import { DiskImages } from '../harness/disk-images.js';
import { image } from '../harness/images.js';
import { HELPER } from '../harness/paths.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, assertOneErrorLine, run, runClean, start } from '../harness/run.js';

const skip = rootSkipReason();

/** Mount point, file system type and source of each line of a /proc/self/mountinfo (the busybox tree has no real grep). */
function mountsIn(mountinfo: string): { where: string; fstype: string; source: string }[] {
  return mountinfo
    .split('\n')
    .filter((l) => l.includes(' - '))
    .map((l) => {
      const [before, after] = l.split(' - ');
      const [fstype, source] = after!.split(' ');
      return { where: before!.split(' ')[4]!, fstype: fstype!, source: source! };
    });
}

function rootMount(mountinfo: string): { fstype: string; source: string } {
  const root = mountsIn(mountinfo).find((m) => m.where === '/');
  assert.ok(root, `no / in:\n${mountinfo}`);
  return root;
}

describe('-i/--image', { skip }, () => {
  let tree = '';
  let images: DiskImages;
  let gpt = '';
  before(() => {
    tree = image('busybox');
    images = new DiskImages();
    gpt = images.gpt('busybox-gpt', [{ type: 'root', copyFrom: tree }]);
  });
  after(() => images?.remove());

  it('runs a command on a GPT image\'s root partition; the machine name is the file name without .raw', async () => {
    const r = await runClean(['-q', '-P', '--register=no', '-i', gpt, '/bin/sh', '-c', 'hostname; touch /written && echo writable; cat /proc/self/mountinfo'], [gpt]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^busybox-gpt\nwritable\n/);
    const root = rootMount(r.stdout);
    assert.equal(root.fstype, 'ext4');
    assert.match(root.source, /^\/dev\/loop\d+p1$/);
  });

  it('--read-only: the loop device and the root are read-only', async () => {
    const script = 'touch /x 2>/dev/null || echo read-only; for d in /sys/block/loop*; do echo "ro $d $(cat $d/ro)"; done; cat /proc/self/mountinfo';
    const r = await runClean(['-q', '-P', '--register=no', '--read-only', '-i', gpt, '/bin/sh', '-c', script], [gpt]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^read-only\n/);
    const loop = rootMount(r.stdout).source.replace(/^\/dev\/(loop\d+)p1$/, '$1');
    assert.match(r.stdout, new RegExp(`^ro /sys/block/${loop} 1$`, 'm'), 'the loop device is read-only');
  });

  it('an image file that cannot be opened for writing (immutable) runs read-only', async () => {
    const file = images.gpt('immutable', [{ type: 'root', copyFrom: tree }]);
    execFileSync('chattr', ['+i', file]);
    try {
      const r = await runClean(['-q', '-P', '--register=no', '-i', file, '/bin/sh', '-c', 'touch /x 2>/dev/null || echo read-only'], [file]);
      assert.equal(r.stdout, 'read-only\n', r.stderr);
    } finally {
      execFileSync('chattr', ['-i', file]);
    }
  });

  it('/usr, /home and /var/tmp partitions are mounted on the root partition (a missing mount point is made)', async () => {
    const split = images.splitUsr(tree);
    // The root partition has no /var/tmp: tsnspawn makes it (the root is writable), as nspawn.
    rmSync(`${split.root}/var/tmp`, { recursive: true, force: true });
    const file = images.gpt('split-usr', [
      { type: 'root', copyFrom: split.root },
      { type: 'usr', copyFrom: split.usr },
      { type: 'home', copyFrom: `${tree}/etc` },
      { type: 'tmp' },
    ]);
    const r = await runClean(['-q', '-P', '--register=no', '-i', file, '/bin/sh', '-c', 'test -f /home/passwd && echo home-from-its-partition; cat /proc/self/mountinfo'], [file]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^home-from-its-partition\n/);
    const wanted = ['/', '/usr', '/home', '/var/tmp'];
    const sources = mountsIn(r.stdout).filter((m) => wanted.includes(m.where)).map((m) => `${m.where} ${m.source}`);
    assert.equal(sources.length, 4, r.stdout);
    assert.match(sources.join('\n'), /^\/ \/dev\/loop(\d+)p1\n\/usr \/dev\/loop\1p2\n\/var\/tmp \/dev\/loop\1p4\n\/home \/dev\/loop\1p3$/);
  });

  it('the GPT read-only flag makes the root read-only; a root flagged no-auto is no root', async () => {
    const flagged = images.gpt('flagged-ro', [{ type: 'root', copyFrom: tree, extra: ['ReadOnly=yes'] }]);
    const r = await runClean(['-q', '-P', '--register=no', '-i', flagged, '/bin/sh', '-c', 'touch /x 2>/dev/null || echo read-only'], [flagged]);
    assert.equal(r.stdout, 'read-only\n', r.stderr);
    const noAuto = images.gpt('no-auto', [{ type: 'root', copyFrom: tree, extra: ['NoAuto=yes'] }]);
    const before = snapshot();
    const refused = await run(['-q', '--register=no', '-i', noAuto, '/bin/true']);
    assertOneErrorLine(refused, /cannot use --image=.*no-auto\.raw: it has no root partition for this architecture \(GPT type 4f68bce3-e8cd-4db1-96e7-fbcaf984b709/);
    await assertNoLeaks(before, [noAuto]);
  });

  it('a plain ext4 file system image (no partition table) is the root as a whole', async () => {
    const plain = images.plainExt4('plain', tree);
    const r = await runClean(['-q', '-P', '--register=no', '-i', plain, '/bin/sh', '-c', 'hostname; cat /proc/self/mountinfo'], [plain]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^plain\n/);
    const root = rootMount(r.stdout);
    assert.equal(root.fstype, 'ext4');
    assert.match(root.source, /^\/dev\/loop\d+$/);
  });

  it('refuses with one line, leaving no loop device: no root partition, LUKS, not an image, -i with -D', async () => {
    const homeOnly = images.gpt('home-only', [{ type: 'home', copyFrom: `${tree}/etc` }]);
    const cases: [string[], RegExp][] = [
      [['-i', homeOnly], /it has no root partition for this architecture/],
      [['-i', images.luksLookalike('luks')], /it is encrypted \(LUKS\), which tsnspawn does not support/],
      [['-i', '/etc/os-release'], /it is neither a GPT disk image nor a file system image/],
      [['-i', `${images.dir}/missing.raw`], /cannot use --image=.*missing\.raw: no such file/],
      [['-i', gpt, '-D', tree], /cannot combine --image=.* with --directory/],
    ];
    for (const [args, pattern] of cases) {
      const before = snapshot();
      const r = await run(['-q', '--register=no', ...args, '/bin/true']);
      assertOneErrorLine(r, pattern);
      await assertNoLeaks(before, [tree]);
    }
  });

  it('one writer or many readers: a second start is refused while the image is attached read-write; -x runs share it', async () => {
    const host = snapshot();
    const writer = start(['-q', '--register=no', '-i', gpt, '/bin/sh', '-c', 'echo up; sleep 60']);
    await new Promise((r) => writer.stdout!.once('data', r));
    for (const extra of [[], ['--read-only'], ['-x']]) {
      const r = await run(['-q', '--register=no', ...extra, '-i', gpt, '/bin/true']);
      assertOneErrorLine(r, /it is in use by another container, which (has it attached|writes to it)/);
    }
    writer.kill('SIGTERM');
    await writer.catch(() => {});
    await assertNoLeaks(host, [gpt]);
    const reader = start(['-q', '--register=no', '-x', '-i', gpt, '/bin/sh', '-c', 'echo up; sleep 60']);
    await new Promise((r) => reader.stdout!.once('data', r));
    const second = await run(['-q', '-P', '--register=no', '-x', '-i', gpt, '/bin/sh', '-c', 'echo shared']);
    assert.equal(second.stdout, 'shared\n', second.stderr);
    assertOneErrorLine(await run(['-q', '--register=no', '-i', gpt, '/bin/true']), /in use by another container, which has it attached/);
    reader.kill('SIGTERM');
    await reader.catch(() => {});
    await assertNoLeaks(host, [gpt]);
  });

  it('a refusal after the image is mounted (-b without an init) leaves nothing', async () => {
    const bare = images.gpt('bare', [{ type: 'root', copyFrom: `${tree}/etc` }]);
    const before = snapshot();
    const r = await run(['-q', '--register=no', '-b', '-i', bare]);
    assert.notEqual(r.exitCode, 0);
    assert.equal(r.stderr.split('\n').filter(Boolean).length, 1, r.stderr);
    await assertNoLeaks(before, [bare]);
  });

  it('boots Debian 12 from a GPT image to running, and leaves nothing after poweroff', async (t) => {
    const debian = image('debian12');
    // SizeMinBytes: repart 252 sizes a partition by its minimum, not by what CopyFiles= puts in.
    const file = images.gpt('debian12-gpt', [{ type: 'root', copyFrom: debian, extra: ['SizeMinBytes=800M'] }]);
    const host = snapshot();
    {
      // The API's `image` is -D's synonym (src/api/options.ts): -i goes in as an extra argument.
      await using c = await boot({ machine: 'debian12-gpt', extraArgs: ['-i', file], register: 'no', signal: t.signal });
      await c.ready({ timeout: 120_000 });
      const running = await c.exec(['systemctl', 'is-system-running', '--wait']);
      const failed = (await c.exec(['systemctl', 'list-units', '--failed', '--plain', '--no-legend'])).stdout;
      assert.equal(running.stdout.trim(), 'running', `failed units: ${failed}`);
      assert.match((await c.exec(['findmnt', '-n', '-o', 'SOURCE', '/'])).stdout, /^\/dev\/loop\d+p1\n$/);
      assert.equal(await c.poweroff(), 0);
    }
    await assertNoLeaks(host, [file]);
  });

  for (const when of ['before the handover (Node)', 'after the handover (supervisor)']) {
    it(`SIGKILL of tsnspawn ${when}: no loop device or mount is left once the container is gone`, async () => {
      const snap = snapshot();
      const child = start(['-q', '--register=no', '-i', gpt, '/bin/sh', '-c', 'echo up; sleep 60']);
      await new Promise((r) => child.stdout!.once('data', r));
      if (when.startsWith('after')) {
        // The supervisor replaces Node in the same pid a second after the payload started.
        while (readlinkSync(`/proc/${child.pid}/exe`) !== HELPER) await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(snapshot().loops.length, snap.loops.length + 1, 'the image is attached while the container runs');
      child.kill('SIGKILL');
      await child.catch(() => {});
      // What a SIGKILL keeps tsnspawn from removing (its record, its empty cgroups) goes at the next tsnspawn.
      await run(['list']);
      await assertNoLeaks(snap, [gpt]);
    });
  }
});
