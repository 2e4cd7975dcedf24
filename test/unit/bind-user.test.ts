/** --bind-user's pure part: nspawn's checks, the ids it hands out, the records and setup steps (src/plan/bind-user.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allocateBoundUsers, BIND_USER_MAX, BIND_USER_MIN, bindUserMaps, bindUserOps, type HostAccount } from '../../src/plan/bind-user.js';

const alice: HostAccount = { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice', groupName: 'alice', hashedPassword: '$y$j9T$salt$hash' };
const bob: HostAccount = { name: 'bob', uid: 1001, gid: 1001, home: '/home/bob', groupName: 'bob' };
const emptyTree = { users: [{ name: 'root', uid: 0 }], groups: [{ name: 'root', gid: 0 }] };

describe('--bind-user', () => {
  it('hands out ids from 60514 that the tree uses neither as a uid nor as a gid, in order', () => {
    const tree = { users: [...emptyTree.users, { name: 'x', uid: BIND_USER_MIN }], groups: [...emptyTree.groups, { name: 'y', gid: BIND_USER_MIN + 1 }] };
    const bound = allocateBoundUsers([alice, bob], tree, 65536);
    assert.deepEqual(bound.map((b) => [b.host.name, b.id, b.home]), [['alice', BIND_USER_MIN + 2, '/run/host/home/alice'], ['bob', BIND_USER_MIN + 3, '/run/host/home/bob']]);
    assert.deepEqual(bindUserMaps(bound), [{ container: BIND_USER_MIN + 2, uid: 1000, gid: 1000 }, { container: BIND_USER_MIN + 3, uid: 1001, gid: 1001 }]);
  });

  it("refuses what nspawn refuses: root, nobody, a user without a group of its own, a name the tree has, no free id", () => {
    assert.throws(() => allocateBoundUsers([{ ...alice, name: 'root', groupName: 'root', uid: 0 }], { users: [], groups: [] }, 65536), /binding root/);
    assert.throws(() => allocateBoundUsers([{ ...alice, name: 'nobody', groupName: 'nobody', uid: 65534 }], { users: [], groups: [] }, 65536), /binding nobody/);
    assert.throws(() => allocateBoundUsers([{ ...alice, groupName: 'users', gid: 100 }], emptyTree, 65536), /primary group is 'users'/);
    assert.throws(() => allocateBoundUsers([alice], { users: [{ name: 'alice', uid: 1000 }], groups: [] }, 65536), /'alice' already exists in the tree's \/etc\/passwd/);
    assert.throws(() => allocateBoundUsers([alice], { users: [], groups: [{ name: 'alice', gid: 5 }] }, 65536), /group 'alice' already exists/);
    const full = { users: Array.from({ length: BIND_USER_MAX - BIND_USER_MIN + 1 }, (_, i) => ({ name: `u${i}`, uid: BIND_USER_MIN + i })), groups: [] };
    assert.throws(() => allocateBoundUsers([alice], full, 65536), /no free id in 60514\.\.60577/);
    assert.throws(() => allocateBoundUsers([alice], emptyTree, 60000), /no free id/);
  });

  it("writes nspawn's records: NAME.user and NAME.group with UID/GID links, the password hash apart and 0600", () => {
    const [a] = allocateBoundUsers([alice], emptyTree, 65536);
    const { records, homes } = bindUserOps([a!]);
    const writes = Object.fromEntries(records.flatMap((o) => (o.kind === 'write' ? [[o.path, { mode: o.mode, json: JSON.parse(String(o.content)) }]] : [])));
    assert.deepEqual(writes['/run/host/userdb/alice.user'], {
      mode: 0o644,
      json: { userName: 'alice', uid: BIND_USER_MIN, gid: BIND_USER_MIN, homeDirectory: '/run/host/home/alice', service: 'io.systemd.NSpawn' },
    });
    assert.deepEqual(writes['/run/host/userdb/alice.group'], { mode: 0o644, json: { groupName: 'alice', gid: BIND_USER_MIN, service: 'io.systemd.NSpawn' } });
    assert.deepEqual(writes['/run/host/userdb/alice.user-privileged'], { mode: 0o600, json: { privileged: { hashedPassword: ['$y$j9T$salt$hash'] } } });
    const links = records.flatMap((o) => (o.kind === 'symlink' ? [`${o.path} -> ${o.target}`] : []));
    assert.deepEqual(links.sort(), [
      `/run/host/userdb/${BIND_USER_MIN}.group -> alice.group`,
      `/run/host/userdb/${BIND_USER_MIN}.user -> alice.user`,
      `/run/host/userdb/${BIND_USER_MIN}.user-privileged -> alice.user-privileged`,
    ]);
    assert.deepEqual(homes, [{ kind: 'bind', source: '/home/alice', target: '/run/host/home/alice', flags: ['mkdir', 'rec'] }]);
    // Without a shadow entry there is no privileged part.
    assert.ok(!bindUserOps(allocateBoundUsers([bob], emptyTree, 65536)).records.some((o) => o.kind === 'write' && o.path.endsWith('-privileged')));
  });
});
