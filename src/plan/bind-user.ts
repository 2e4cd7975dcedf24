/**
 * --bind-user=NAME, as systemd-nspawn's (nspawn-bind-user.c, 252 and 257):
 * a host user with a group of its own gets a uid (and the same gid) of the
 * container from 60514..60577 that its tree does not use; the container's
 * user namespace maps that one id to the host user's (a hole in the
 * 0..65535 -> BASE.. map, so files keep their owners both ways); its home
 * is bound at /run/host/home/NAME; and JSON user and group records in
 * /run/host/userdb, which nss-systemd (systemd 249 and later) reads, make
 * the name known inside. Pure: the host's and the tree's databases come
 * from src/runtime/bind-user.ts.
 */
import { refuse } from '../util/errors.js';
import type { MountOp } from './types.js';

/** nspawn's MAP_UID_MIN / MAP_UID_MAX: the container ids a bound user may get. */
export const BIND_USER_MIN = 60514;
export const BIND_USER_MAX = 60577;

export const BIND_USER_HOME_DIR = '/run/host/home';
export const BIND_USER_DB_DIR = '/run/host/userdb';

/** A host user as the host's user database has it. */
export interface HostAccount {
  name: string;
  uid: number;
  gid: number;
  home: string;
  /** Its primary group's name. */
  groupName: string;
  /** From the shadow database; absent when the host has none for it. */
  hashedPassword?: string;
}

/** What a bound user is in the container. */
export interface BoundUser {
  host: HostAccount;
  /** Its uid and gid inside. */
  id: number;
  /** /run/host/home/NAME */
  home: string;
}

/** The tree's own /etc/passwd and /etc/group, for collisions. */
export interface TreeAccounts {
  users: Array<{ name: string; uid: number }>;
  groups: Array<{ name: string; gid: number }>;
}

/** nspawn's checks and id allocation, in its order; count: the size of the container's range. */
export function allocateBoundUsers(accounts: readonly HostAccount[], tree: TreeAccounts, count: number): BoundUser[] {
  const out: BoundUser[] = [];
  let next = BIND_USER_MIN;
  for (const a of accounts) {
    const option = `--bind-user=${a.name}`;
    // nss-systemd comes last in nsswitch.conf: records of root or nobody could never win there.
    if (a.uid === 0 || a.name === 'root') refuse(`cannot use ${option}: binding root into a container is not supported (name another user)`);
    if (a.uid === 65534 || a.name === 'nobody') refuse(`cannot use ${option}: binding nobody into a container is not supported (name another user)`);
    if (a.groupName !== a.name)
      refuse(`cannot use ${option}: its primary group is '${a.groupName}', not a group of its own named '${a.name}' (nspawn maps only users with a private group)`);
    if (tree.users.some((u) => u.name === a.name)) refuse(`cannot use ${option}: the user '${a.name}' already exists in the tree's /etc/passwd`);
    if (tree.groups.some((g) => g.name === a.groupName)) refuse(`cannot use ${option}: the group '${a.groupName}' already exists in the tree's /etc/group`);
    while (next <= BIND_USER_MAX && next < count && (tree.users.some((u) => u.uid === next) || tree.groups.some((g) => g.gid === next))) next++;
    if (next > BIND_USER_MAX || next >= count)
      refuse(`cannot use ${option}: no free id in ${BIND_USER_MIN}..${BIND_USER_MAX} inside the container's range (the tree uses them, or the range is smaller)`);
    out.push({ host: a, id: next, home: `${BIND_USER_HOME_DIR}/${a.name}` });
    next++;
  }
  return out;
}

/** The record files nspawn writes: NAME.user (and its UID.user link), NAME.group, and the -privileged parts, mode 0600. */
export function bindUserRecords(u: BoundUser): Array<{ file: string; link: string; mode: number; json: object }> {
  const { name } = u.host;
  const files: Array<{ file: string; link: string; mode: number; json: object }> = [];
  files.push({ file: `${u.host.groupName}.group`, link: `${u.id}.group`, mode: 0o644, json: { groupName: u.host.groupName, gid: u.id, service: 'io.systemd.NSpawn' } });
  if (u.host.hashedPassword !== undefined)
    files.push({ file: `${name}.user-privileged`, link: `${u.id}.user-privileged`, mode: 0o600, json: { privileged: { hashedPassword: [u.host.hashedPassword] } } });
  files.push({ file: `${name}.user`, link: `${u.id}.user`, mode: 0o644, json: { userName: name, uid: u.id, gid: u.id, homeDirectory: u.home, service: 'io.systemd.NSpawn' } });
  return files;
}

/** The setup steps: the directories and records in /run/host (a tmpfs of the manager's), then each home bound at its place. */
export function bindUserOps(users: readonly BoundUser[]): { records: MountOp[]; homes: MountOp[] } {
  if (users.length === 0) return { records: [], homes: [] };
  const records: MountOp[] = [
    { kind: 'mkdir', path: BIND_USER_HOME_DIR, mode: 0o755 },
    { kind: 'mkdir', path: BIND_USER_DB_DIR, mode: 0o755 },
  ];
  for (const u of users)
    for (const r of bindUserRecords(u)) {
      records.push({ kind: 'write', path: `${BIND_USER_DB_DIR}/${r.file}`, mode: r.mode, content: `${JSON.stringify(r.json)}\n` });
      records.push({ kind: 'symlink', target: r.file, path: `${BIND_USER_DB_DIR}/${r.link}` });
    }
  // A plain bind, as nspawn's: the user namespace maps the host user's own id to the container's.
  const homes: MountOp[] = users.map((u) => ({ kind: 'bind', source: u.host.home, target: u.home, flags: ['mkdir', 'rec'] }));
  return { records, homes };
}

/** The holes in the container's 0..COUNT-1 -> BASE.. id map (plan "userns-bind-user" records). */
export function bindUserMaps(users: readonly BoundUser[]): Array<{ container: number; uid: number; gid: number }> {
  return users.map((u) => ({ container: u.id, uid: u.host.uid, gid: u.host.gid }));
}
