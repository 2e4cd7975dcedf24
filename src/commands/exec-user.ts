/**
 * The user a command runs as inside the container, from the container's own
 * /etc/passwd and /etc/group (pure: the texts are read elsewhere). A name
 * must be there; a number may be missing, as with nspawn's --user and
 * `docker exec -u`, and then runs with its own number as group, home /.
 */
import { UserError } from '../util/errors.js';
import { EXIT_EXEC_FAILED } from './exec-args.js';

export interface ContainerUser {
  name: string;
  uid: number;
  gid: number;
  /** Supplementary groups, from /etc/group (the primary one first). */
  groups: number[];
  home: string;
  shell: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

const ID = /^\d{1,10}$/;
const MAX_ID = 0xfffffffe; // (uid_t) -1 means "unchanged" to setresuid

function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    // name:password:uid:gid:gecos:home:shell; NIS "+" lines and comments are not users.
    if (f.length < 7 || !f[0] || f[0].startsWith('+') || f[0].startsWith('-') || f[0].startsWith('#')) continue;
    if (!ID.test(f[2]!) || !ID.test(f[3]!)) continue;
    out.push({ name: f[0], uid: Number(f[2]), gid: Number(f[3]), home: f[5] || '/', shell: f[6] || '/bin/sh' });
  }
  return out;
}

/** The groups that list NAME as a member, in the file's order. */
function memberGroups(groupText: string, name: string): number[] {
  const out: number[] = [];
  for (const line of groupText.split('\n')) {
    const f = line.split(':');
    if (f.length < 4 || !ID.test(f[2]!)) continue;
    if (f[3]!.split(',').includes(name)) out.push(Number(f[2]));
  }
  return out;
}

/**
 * SPEC (undefined: root) in the container's passwd; passwdText undefined:
 * the tree has none (root is still root, at /root with /bin/sh).
 */
export function resolveUser(spec: string | undefined, passwdText: string | undefined, groupText: string | undefined, machine: string): ContainerUser {
  const want = spec ?? 'root';
  const entries = parsePasswd(passwdText ?? '');
  const numeric = ID.test(want);
  if (numeric && Number(want) > MAX_ID) throw new UserError(`invalid -u ${want}: not a user number`, EXIT_EXEC_FAILED);
  let e = entries.find((x) => (numeric ? x.uid === Number(want) : x.name === want));
  if (!e && want === 'root') e = { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/sh' };
  if (!e && numeric) e = { name: want, uid: Number(want), gid: Number(want), home: '/', shell: '/bin/sh' };
  if (!e) throw new UserError(`no user '${want}' in container ${machine} (its /etc/passwd)`, EXIT_EXEC_FAILED);
  const groups = [e.gid, ...memberGroups(groupText ?? '', e.name).filter((g) => g !== e.gid)];
  return { ...e, groups: [...new Set(groups)] };
}
