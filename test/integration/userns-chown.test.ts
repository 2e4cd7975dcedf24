/**
 * --private-users-ownership=chown (nspawn's): the first start shifts every
 * file of the tree into the container's range on disk, keeping setuid bits
 * and file capabilities; later starts with -U keep that range and change
 * nothing. On a copy of the Debian 12 tree (the cached image is never
 * chowned). Needs root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { boot } from '../../src/api/index.js';
import { PICK_MIN, USERNS_RANGE } from '../../src/plan/userns.js';
import { snapshot } from '../harness/host-state.js';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, assertOneErrorLine, run, runClean } from '../harness/run.js';

const skip = rootSkipReason();

/** uid:gid:mode (octal) of a file on disk, and its ctime (changed by any chown or chmod). */
function onDisk(path: string): { owner: string; mode: string; ctime: bigint } {
  const s = statSync(path, { bigint: true });
  return { owner: `${s.uid}:${s.gid}`, mode: (s.mode & 0o7777n).toString(8), ctime: s.ctimeNs };
}

/** Writes (entries given) or reads the system.posix_acl_access entries [tag, perm, id] of path, with python3. */
function aclIds(path: string, entries?: Array<[number, number, number]>): Array<[number, number, number]> {
  const script = entries
    ? `import os,struct,sys; e=${JSON.stringify(entries)}; os.setxattr(sys.argv[1],'system.posix_acl_access',struct.pack('<I',2)+b''.join(struct.pack('<HHI',t,p,i & 0xffffffff) for t,p,i in e))`
    : `import os,struct,sys,json; a=os.getxattr(sys.argv[1],'system.posix_acl_access'); print(json.dumps([list(struct.unpack('<HHI',a[4+8*k:12+8*k])) for k in range((len(a)-4)//8)]))`;
  const out = execFileSync('python3', ['-c', script, path], { encoding: 'utf8' });
  return entries ?? (JSON.parse(out) as Array<[number, number, number]>);
}

describe('--private-users-ownership=chown', { skip }, () => {
  let tree = '';
  before(() => {
    const dir = mkdtempSync('/var/tmp/tsnspawn-chown-');
    tree = `${dir}/debian12`;
    execFileSync('cp', ['-a', image('debian12'), tree]);
    // A file capability, as iputils' postinst sets on ping where it can (chown drops those: they must come back).
    execFileSync('setcap', ['cap_net_raw+ep', `${tree}/usr/bin/ping`]);
    // A POSIX ACL granting uid 1000 and gid 100 (no acl tools here: the xattr as the kernel stores it).
    aclIds(`${tree}/srv`, [[1, 7, -1], [2, 7, 1000], [4, 5, -1], [8, 5, 100], [0x10, 7, -1], [0x20, 5, -1]]);
  });
  after(() => {
    if (tree) rmSync(tree.replace(/\/debian12$/, ''), { recursive: true, force: true });
  });

  it('shifts the tree into the range on the first start: root inside, BASE on disk, setuid bits, capabilities and ACL entries kept', async () => {
    assert.equal(onDisk(`${tree}/usr/bin/passwd`).mode, '4755');
    const r = await runClean(
      ['-q', '--console=pipe', '--register=no', '--private-users=pick', '--private-users-ownership=chown', '-D', tree, '/bin/sh', '-c',
        'cat /proc/self/uid_map; id -u; stat -c "%u:%g %a" / /etc/shadow /usr/bin/passwd; touch /made-inside; stat -c %u /made-inside'],
      [tree],
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const [map, id, ...rest] = r.stdout.trim().split('\n');
    const [inside, base, count] = map!.trim().split(/\s+/).map(Number);
    assert.deepEqual([inside, count], [0, USERNS_RANGE]);
    assert.ok(base! >= PICK_MIN && base! % USERNS_RANGE === 0, `base ${base}`);
    assert.equal(id, '0');
    assert.deepEqual(rest, ['0:0 755', '0:42 640', '0:0 4755', '0']);
    // On disk every id is moved into the range, lower 16 bits kept.
    assert.equal(onDisk(tree).owner, `${base}:${base}`);
    assert.equal(onDisk(`${tree}/etc/shadow`).owner, `${base}:${base! + 42}`);
    assert.equal(onDisk(`${tree}/usr/bin/passwd`).mode, '4755');
    assert.equal(onDisk(`${tree}/made-inside`).owner, `${base}:${base}`);
    assert.match(execFileSync('getcap', [`${tree}/usr/bin/ping`], { encoding: 'utf8' }), /cap_net_raw=ep/);
    // The ACL's named user and group are shifted like owners.
    const named = aclIds(`${tree}/srv`).filter(([tag]) => tag === 2 || tag === 8).map(([, , id]) => id);
    assert.deepEqual(named, [base! + 1000, base! + 100]);
  });

  it('a later start with -U keeps the range and changes nothing on disk; the chowned tree boots to running', async () => {
    const firstBase = statSync(tree).uid;
    const files = [tree, `${tree}/etc/passwd`, `${tree}/usr/bin/passwd`, `${tree}/var/log`];
    const was = files.map(onDisk);
    const r = await runClean(['-q', '--console=pipe', '--register=no', '-U', '-D', tree, '/bin/cat', '/proc/self/uid_map'], [tree]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(Number(r.stdout.trim().split(/\s+/)[1]), firstBase, 'pick took the range the tree is owned by');
    assert.deepEqual(files.map(onDisk), was, 'owners, modes and ctimes unchanged: no second chown');
    const before = snapshot();
    {
      await using c = await boot({ directory: tree, register: 'no', extraArgs: ['-U'], timeout: 60_000 });
      await c.ready({ timeout: 120_000 });
      const state = await c.exec(['systemctl', 'is-system-running', '--wait']);
      assert.equal(state.stdout.trim(), 'running', `${state.stdout}${state.stderr}\n${(await c.exec(['systemctl', 'list-units', '--failed', '--no-legend'])).stdout}`);
      assert.equal((await c.exec(['/bin/cat', '/proc/1/uid_map'], { check: true })).stdout.trim().split(/\s+/)[1], String(firstBase));
      assert.equal(await c.poweroff({ timeout: 60_000 }), 0);
    }
    await assertNoLeaks(before, [tree]);
    assert.equal(statSync(tree).uid, firstBase);
  });

  it('a chown that fails half way names the file, leaves the tree marked busy, and the next start shifts it all', async () => {
    const dir = mkdtempSync('/var/tmp/tsnspawn-chown-busy-');
    const small = `${dir}/busybox`;
    try {
      execFileSync('cp', ['-a', image('busybox'), small]);
      // An immutable file: not even root may chown it.
      execFileSync('chattr', ['+i', `${small}/etc/passwd`]);
      const before = snapshot();
      assertOneErrorLine(await run(['-q', '--register=no', '-U', '--private-users-ownership=chown', '-D', small, '/bin/true']), new RegExp(`cannot chown a file of the tree .*\\(${small}/etc/passwd\\)`));
      await assertNoLeaks(before, [small]);
      // nspawn's busy range: no range owns the top directory, so auto shifts the tree again.
      assert.equal((statSync(small).uid & 0xffff0000) >>> 0, 0xfffe0000);
      execFileSync('chattr', ['-i', `${small}/etc/passwd`]);
      const r = await runClean(['-q', '--register=no', '-U', '-D', small, '/bin/true'], [small]);
      assert.equal(r.exitCode, 0, r.stderr);
      const base = statSync(small).uid;
      assert.ok(base >= PICK_MIN && base % USERNS_RANGE === 0, `base ${base}`);
      assert.equal(statSync(`${small}/etc/passwd`).uid, base);
    } finally {
      execFileSync('chattr', ['-i', `${small}/etc/passwd`], { stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to chown under a throwaway layer or --read-only, and map on a chowned tree, with one line and nothing left', async () => {
    const busybox = image('busybox');
    const cases: Array<[string[], string, RegExp]> = [
      [['-U', '--private-users-ownership=chown', '-x'], busybox, /cannot combine --private-users-ownership=chown with --ephemeral/],
      [['-U', '--private-users-ownership=chown', '--read-only'], busybox, /with --read-only/],
      [['-U', '--private-users-ownership=map'], tree, /already shifted to a range/],
    ];
    for (const [args, dir, pattern] of cases) {
      const before = snapshot();
      const was = onDisk(dir);
      assertOneErrorLine(await run(['-q', ...args, '--register=no', '-D', dir, '/bin/true']), pattern);
      assert.deepEqual(onDisk(dir), was);
      await assertNoLeaks(before, [dir]);
    }
  });
});
