/**
 * --bind-user=NAME: the host's side. Looks the users up in the host's
 * user database (getent: NSS, as nspawn's userdb lookup finds them; the
 * shadow entry for the password hash nspawn passes on), reads the tree's
 * /etc/passwd and /etc/group, and hands both to src/plan/bind-user.ts.
 * Nothing is touched: the helper makes the records and binds.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { readLines } from '../image/users.js';
import { allocateBoundUsers, type BoundUser, type HostAccount, type TreeAccounts } from '../plan/bind-user.js';
import type { UserNamespacePlan } from '../plan/userns.js';
import { refuse } from '../util/errors.js';

/** One getent line split into fields, or undefined when the database has no such entry. */
function getent(database: string, key: string): string[] | undefined {
  const r = spawnSync('getent', [database, key], { encoding: 'utf8' });
  if (r.error) refuse(`cannot use --bind-user=${key}: cannot run getent to look the user up (${r.error.message})`);
  if (r.status !== 0) return undefined;
  return r.stdout.split('\n')[0]?.split(':');
}

function hostAccount(name: string): HostAccount {
  const option = `--bind-user=${name}`;
  // A name, not a number: nspawn resolves by name. getent would also take a uid.
  if (!/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(name) || name.length > 256) refuse(`invalid ${option}: not a user name`);
  const pw = getent('passwd', name);
  if (!pw || pw.length < 7 || pw[0] !== name) refuse(`cannot use ${option}: no such user on the host`);
  const uid = Number(pw[2]);
  const gid = Number(pw[3]);
  const home = pw[5] ?? '';
  const gr = getent('group', String(gid));
  if (!gr || gr.length < 3) refuse(`cannot use ${option}: its primary group ${gid} is not in the host's group database`);
  if (!home.startsWith('/')) refuse(`cannot use ${option}: its home directory '${home}' is not an absolute path`);
  let isDir = false;
  try {
    isDir = statSync(home).isDirectory();
  } catch {
    // refused below
  }
  if (!isDir) refuse(`cannot use ${option}: its home directory ${home} does not exist on the host (create it, e.g. mkhomedir_helper ${name})`);
  const sp = getent('shadow', name);
  return { name, uid, gid, home, groupName: gr[0]!, ...(sp && sp[1] ? { hashedPassword: sp[1] } : {}) };
}

function treeAccounts(root: string): TreeAccounts {
  const num = (x: string | undefined): number => (x !== undefined && /^\d+$/.test(x) ? Number(x) : -1);
  return {
    users: readLines(root, '/etc/passwd').map((f) => ({ name: f[0] ?? '', uid: num(f[2]) })),
    groups: readLines(root, '/etc/group').map((f) => ({ name: f[0] ?? '', gid: num(f[2]) })),
  };
}

/**
 * The bound users of a start (nspawn's bind_user_prepare). Needs the user
 * namespace: with a range already known (fixed), a host id inside it is
 * refused here; with pick the helper skips such ranges.
 */
export function resolveBindUsers(names: readonly string[], root: string, userns: UserNamespacePlan | undefined): BoundUser[] {
  if (names.length === 0) return [];
  if (!userns) refuse(`cannot use --bind-user=${names[0]}: it needs a user namespace (add -U or --private-users=)`);
  const accounts = names.map(hostAccount);
  if (userns.mode === 'fixed')
    for (const a of accounts)
      for (const [what, id] of [['uid', a.uid], ['gid', a.gid]] as const)
        if (id >= userns.base && id < userns.base + userns.count)
          refuse(`cannot use --bind-user=${a.name}: its ${what} ${id} is inside the container's range ${userns.base}..${userns.base + userns.count - 1} (use another --private-users= range)`);
  return allocateBoundUsers(accounts, treeAccounts(root), userns.count);
}
