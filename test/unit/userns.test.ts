/** -U's pure parts: parsing --private-users, choosing ownership, and which setup steps run inside the user namespace. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IDMAP_FILESYSTEMS, parsePrivateUsers, PICK_MAX, PICK_MIN, pickHint, splitForUserNamespace, userNamespacePlan, USERNS_RANGE } from '../../src/plan/userns.js';
import type { MountOp } from '../../src/plan/types.js';
import { UserError } from '../../src/util/errors.js';
import { parseBind } from '../../src/settings/values.js';

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
  const pu = (mode: 'pick' | 'yes' | 'identity', ownership: 'auto' | 'map' | 'chown' | 'off', extra: object = {}) =>
    ({ privateUsers: { mode }, privateUsersOwnership: ownership, ...extra }) as Parameters<typeof userNamespacePlan>[0];
  it('-U picks from a hint derived from the name, idmapped where the file system can', () => {
    const p = userNamespacePlan(pu('pick', 'auto'), owned(0), 'web', '/t');
    assert.deepEqual(p, { mode: 'pick', base: pickHint('web'), count: USERNS_RANGE, idmapRoot: true, chownRoot: false });
    assert.equal(pickHint('web'), pickHint('web'));
    assert.ok(pickHint('web') >= PICK_MIN && pickHint('web') < PICK_MAX && pickHint('web') % USERNS_RANGE === 0);
  });
  it("auto chowns where the file system has no idmapped mounts, as nspawn's", () => {
    assert.deepEqual(userNamespacePlan(pu('pick', 'auto'), owned(0, NFS), 'web', '/t'), { mode: 'pick', base: pickHint('web'), count: USERNS_RANGE, idmapRoot: false, chownRoot: true });
    assert.deepEqual(userNamespacePlan(pu('pick', 'chown'), owned(0), 'web', '/t'), { mode: 'pick', base: pickHint('web'), count: USERNS_RANGE, idmapRoot: false, chownRoot: true });
    assert.ok(IDMAP_FILESYSTEMS.has(EXT4));
  });
  it('pick tries the range a chowned tree is owned by first, and keeps it chowned (not idmapped)', () => {
    assert.deepEqual(userNamespacePlan(pu('pick', 'auto'), owned(0x10000000), 'web', '/t'), {
      mode: 'pick',
      base: pickHint('web'),
      count: USERNS_RANGE,
      idmapRoot: false,
      chownRoot: true,
      prefer: 0x10000000,
    });
    // A tree left busy by an interrupted chown (0xFFFE0000 + low bits) is shifted again, from another range.
    assert.deepEqual(userNamespacePlan(pu('pick', 'auto'), owned(0xfffe0000), 'web', '/t'), { mode: 'pick', base: pickHint('web'), count: USERNS_RANGE, idmapRoot: false, chownRoot: true });
  });
  it('refuses what it cannot honour, naming the way out', () => {
    assert.throws(() => userNamespacePlan(pu('pick', 'map'), owned(0, NFS), 'web', '/t'), /no idmapped mounts/);
    assert.throws(() => userNamespacePlan(pu('pick', 'map'), owned(0x10000000), 'web', '/t'), /already shifted/);
    assert.throws(() => userNamespacePlan(pu('pick', 'auto'), { uid: 0x10000000, gid: 0, fsType: EXT4 }, 'web', '/t'), /different ranges/);
    // chown changes the tree on disk: not under a throwaway layer or --read-only (unless it is already of the range).
    assert.throws(() => userNamespacePlan(pu('pick', 'chown', { ephemeral: true }), owned(0), 'web', '/t'), /--ephemeral/);
    assert.throws(() => userNamespacePlan(pu('pick', 'auto', { readOnly: true }), owned(0, NFS), 'web', '/t'), /--read-only/);
    assert.throws(() => userNamespacePlan(pu('pick', 'chown', { volatile: 'state' }), owned(0), 'web', '/t'), /--volatile=state/);
    assert.equal(userNamespacePlan(pu('pick', 'auto', { ephemeral: true }), owned(0x10000000), 'web', '/t')?.chownRoot, true);
    assert.throws(() => userNamespacePlan({ privateUsers: { mode: 'fixed', base: 0x20000, count: 10 }, privateUsersOwnership: 'chown' }, owned(0), 'w', '/t'), /whole 64K ranges/);
  });
  it('identity needs no idmapping; yes takes the range of the tree owner and refuses root', () => {
    assert.deepEqual(userNamespacePlan(pu('identity', 'auto'), owned(0), 'w', '/t'), { mode: 'fixed', base: 0, count: USERNS_RANGE, idmapRoot: false, chownRoot: false });
    assert.deepEqual(userNamespacePlan(pu('yes', 'auto'), owned(0x20000), 'w', '/t'), { mode: 'fixed', base: 0x20000, count: USERNS_RANGE, idmapRoot: false, chownRoot: true });
    assert.throws(() => userNamespacePlan(pu('yes', 'auto'), owned(0), 'w', '/t'), /owned by root/);
  });
});

describe('idmapped bind options', () => {
  it("takes nspawn's idmap, noidmap, rootidmap and owneridmap, the last one winning", () => {
    assert.equal(parseBind('/a:/b:idmap', false).idmap, 'idmap');
    assert.equal(parseBind('/a:/b:rootidmap', false).idmap, 'rootidmap');
    assert.equal(parseBind('/a:/b:norbind,owneridmap', true).idmap, 'owneridmap');
    assert.equal(parseBind('/a:/b:owneridmap,idmap', false).idmap, 'idmap');
    assert.equal(parseBind('/a:/b:rootidmap,noidmap', false).idmap, undefined);
    assert.throws(() => parseBind('/a:/b:useridmap', false), /unknown bind option 'useridmap' \(use rbind, norbind, idmap, noidmap, rootidmap or owneridmap\)/);
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
