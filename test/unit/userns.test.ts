/** -U's pure parts: parsing --private-users, choosing ownership, and which setup steps run inside the user namespace. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDMAP_FILESYSTEMS, parsePrivateUsers, PICK_MAX, PICK_MIN, pickHint, splitForUserNamespace, userNamespacePlan, USERNS_RANGE } from '../../src/plan/userns.js';
import type { MountOp } from '../../src/plan/types.js';
import { UserError } from '../../src/util/errors.js';

const EXT4 = 0xef53;
const NFS = 0x6969;

describe('--private-users values', () => {
  it("takes nspawn's words and ranges", () => {
    assert.deepEqual(parsePrivateUsers(true), { mode: 'yes' });
    assert.deepEqual(parsePrivateUsers('no'), { mode: 'no' });
    assert.deepEqual(parsePrivateUsers('pick'), { mode: 'pick' });
    assert.deepEqual(parsePrivateUsers('identity'), { mode: 'identity' });
    assert.deepEqual(parsePrivateUsers('1879048192'), { mode: 'fixed', base: 1879048192, count: USERNS_RANGE });
    assert.deepEqual(parsePrivateUsers('65536:10'), { mode: 'fixed', base: 65536, count: 10 });
  });
  it('refuses what is not a range', () => {
    for (const v of ['12345', '65536:0', '65536:65537', '4294901760', 'x', '-1', '65536:']) assert.throws(() => parsePrivateUsers(v), UserError, v);
  });
});

describe('the user namespace of a start', () => {
  const owned = (uid: number, fsType = EXT4) => ({ uid, gid: uid, fsType });
  it('-U picks from a hint derived from the name, idmapped where the file system can', () => {
    const p = userNamespacePlan({ privateUsers: { mode: 'pick' }, privateUsersOwnership: 'auto' }, owned(0), 'web', '/t');
    assert.deepEqual(p, { mode: 'pick', base: pickHint('web'), count: USERNS_RANGE, idmapRoot: true });
    assert.equal(pickHint('web'), pickHint('web'));
    assert.ok(pickHint('web') >= PICK_MIN && pickHint('web') < PICK_MAX && pickHint('web') % USERNS_RANGE === 0);
  });
  it("keeps a tree already chowned to a range in that range, without idmapping", () => {
    assert.deepEqual(userNamespacePlan({ privateUsers: { mode: 'pick' }, privateUsersOwnership: 'auto' }, owned(0x10000000), 'web', '/t'), {
      mode: 'fixed',
      base: 0x10000000,
      count: USERNS_RANGE,
      idmapRoot: false,
    });
  });
  it('refuses map on a file system without idmapped mounts, and chown (not implemented), naming the way out', () => {
    assert.throws(() => userNamespacePlan({ privateUsers: { mode: 'pick' }, privateUsersOwnership: 'auto' }, owned(0, NFS), 'web', '/t'), /no idmapped mounts/);
    assert.throws(() => userNamespacePlan({ privateUsers: { mode: 'pick' }, privateUsersOwnership: 'chown' }, owned(0), 'web', '/t'), /does not chown/);
    assert.ok(IDMAP_FILESYSTEMS.has(EXT4));
  });
  it('identity needs no idmapping; yes takes the range of the tree owner and refuses root', () => {
    assert.deepEqual(userNamespacePlan({ privateUsers: { mode: 'identity' }, privateUsersOwnership: 'auto' }, owned(0), 'w', '/t'), { mode: 'fixed', base: 0, count: USERNS_RANGE, idmapRoot: false });
    assert.deepEqual(userNamespacePlan({ privateUsers: { mode: 'yes' }, privateUsersOwnership: 'auto' }, owned(0x20000), 'w', '/t'), { mode: 'fixed', base: 0x20000, count: USERNS_RANGE, idmapRoot: false });
    assert.throws(() => userNamespacePlan({ privateUsers: { mode: 'yes' }, privateUsersOwnership: 'auto' }, owned(0), 'w', '/t'), /owned by root/);
  });
});

describe('setup steps inside and outside the user namespace', () => {
  const ops: MountOp[] = [
    { kind: 'mount', fstype: 'proc', target: '/proc', flags: [], data: '' },
    { kind: 'mount', fstype: 'tmpfs', target: '/dev', flags: [], data: '' },
    { kind: 'mount', fstype: 'devpts', target: '/dev/pts', flags: [], data: '' },
    { kind: 'write', path: '/run/staging', mode: 0o444, content: 'x' },
    { kind: 'bind-inner', source: '/run/staging', target: '/proc/sys/kernel/random/boot_id', flags: [] },
    { kind: 'unlink', path: '/run/staging', flags: [] },
    { kind: 'unlink', path: '/etc/localtime', flags: ['optional'] },
    { kind: 'symlink', target: '../usr/share/zoneinfo/UTC', path: '/etc/localtime' },
    { kind: 'mount', fstype: 'sysfs', target: '/sys', flags: [], data: '' },
    { kind: 'mount', fstype: 'cgroup2', target: '/sys/fs/cgroup', flags: [], data: '' },
  ];
  const kinds = (l: MountOp[]): string[] => l.map((o) => (o.kind === 'symlink' || !('target' in o) ? o.path : o.target));
  it('proc, devpts, cgroups and unlinks of what was bound inside go in, in order; the rest (host binds, nodes, /etc) stays out', () => {
    const { ops: out, innerFrom } = splitForUserNamespace(ops, false);
    assert.deepEqual(kinds(out.slice(0, innerFrom)), ['/dev', '/run/staging', '/etc/localtime', '/etc/localtime', '/sys']);
    assert.deepEqual(kinds(out.slice(innerFrom)), ['/proc', '/dev/pts', '/proc/sys/kernel/random/boot_id', '/run/staging', '/sys/fs/cgroup']);
  });
  it("with a network namespace of its own, sysfs is mounted inside (the kernel wants the namespace's owner)", () => {
    const { ops: out, innerFrom } = splitForUserNamespace(ops, true);
    assert.ok(kinds(out.slice(innerFrom)).includes('/sys'));
  });
});
