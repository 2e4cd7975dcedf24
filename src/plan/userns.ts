/**
 * -U / --private-users: which uid range the container gets, how its tree's
 * files come to belong to it, and which setup steps must run inside the
 * user namespace. Pure: the facts about the tree come from prepare.ts.
 */
import { refuse } from '../util/errors.js';
import type { PrivateUsers, PrivateUsersOwnership, Settings } from '../settings/model.js';
import type { MountOp } from './types.js';

/** A container's range: 64K ids, as nspawn (uid_t's upper 16 bits pick the range). */
export const USERNS_RANGE = 0x10000;
/** nspawn's CONTAINER_UID_BASE_MIN / MAX: where "pick" looks. */
export const PICK_MIN = 0x00080000;
export const PICK_MAX = 0x6fff0000;

/**
 * File systems that support idmapped mounts, by statfs magic (Linux 5.12+;
 * tmpfs from 6.3). Fixed knowledge: the kernel's FS_ALLOW_IDMAP list.
 */
export const IDMAP_FILESYSTEMS: ReadonlyMap<number, string> = new Map([
  [0xef53, 'ext4'],
  [0x58465342, 'xfs'],
  [0x9123683e, 'btrfs'],
  [0x01021994, 'tmpfs'],
  [0xf2f52010, 'f2fs'],
  [0x4d44, 'vfat'],
  [0x794c7630, 'overlayfs'],
  [0xe0f5e1e2, 'erofs'],
  [0x73717368, 'squashfs'],
]);

/** --private-users=VALUE (a bare --private-users is yes, as in nspawn). */
export function parsePrivateUsers(value: string | boolean): PrivateUsers {
  const v = value === true ? 'yes' : value === false ? 'no' : value;
  if (['no', 'false', 'off', '0'].includes(v)) return { mode: 'no' };
  if (['yes', 'true', 'on', '1'].includes(v)) return { mode: 'yes' };
  if (v === 'identity' || v === 'pick') return { mode: v };
  const m = /^(\d+)(?::(\d+))?$/.exec(v);
  if (!m) refuse(`invalid --private-users=${v}: use no, yes, identity, pick, or UID[:COUNT] (e.g. 1879048192:65536)`);
  const base = Number(m[1]);
  const count = m[2] === undefined ? USERNS_RANGE : Number(m[2]);
  if (count < 1 || count > USERNS_RANGE) refuse(`invalid --private-users=${v}: COUNT must be 1 to 65536`);
  if (base % USERNS_RANGE !== 0) refuse(`invalid --private-users=${v}: UID must be a multiple of 65536 (the range's first id)`);
  if (base + count > 0xffff0000) refuse(`invalid --private-users=${v}: the range must end below 4294901760`);
  return { mode: 'fixed', base, count };
}

/** What the helper gets (plan "userns" records; native/userns.c, native/userns-chown.c). */
export interface UserNamespacePlan {
  /** pick: base is the first candidate after prefer; the helper takes the first free range from there. */
  mode: 'fixed' | 'pick';
  base: number;
  count: number;
  /** Mount the tree idmapped (ownership map). */
  idmapRoot: boolean;
  /** Ownership chown: before the start the helper shifts every file of the tree into the range, unless its top directory already is the range's (nspawn's path_patch_uid). */
  chownRoot: boolean;
  /** pick: the range tried first, the one the tree's top directory is owned by (a chowned tree keeps its range while it is free, as nspawn's). */
  prefer?: number;
  /** --bind-user: container ids mapped to a host user's uid and gid instead of BASE+id (holes in the map; src/plan/bind-user.ts). */
  bindUsers?: Array<{ container: number; uid: number; gid: number }>;
}

export interface TreeOwnership {
  /** Owner of the tree's top directory. */
  uid: number;
  gid: number;
  /** statfs magic of the file system it is on. */
  fsType: number;
}

/** FNV-1a, 32 bits: spreads names well enough, and needs no crypto module at start-up (its loading costs ~10 ms). */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(text, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}

/** The first range pick tries: from the machine name, so a machine tends to get the same range (as nspawn). */
export function pickHint(machineName: string): number {
  const slots = (PICK_MAX - PICK_MIN) / USERNS_RANGE;
  return PICK_MIN + (fnv1a(machineName) % slots) * USERNS_RANGE;
}

/**
 * The range the tree's top directory belongs to, as nspawn reads it: the
 * owner's upper 16 bits (0: not shifted). nspawn refuses a tree whose uid
 * and gid are of different ranges.
 */
export function treeRange(tree: TreeOwnership, treePath: string): number {
  const range = (tree.uid & 0xffff0000) >>> 0;
  if (range !== (tree.gid & 0xffff0000) >>> 0)
    refuse(`cannot use --private-users on ${treePath}: its top directory is owned by ${tree.uid}:${tree.gid}, uid and gid of different ranges (chown it to one range, e.g. chown 0:0)`);
  return range;
}

/**
 * How the tree's files come to belong to the range: as on disk (off),
 * idmapped (map), or shifted on disk (chown). auto, as nspawn's: a tree
 * already shifted to a range stays chowned (re-shifted only if the range
 * differs); otherwise map where the file system has idmapped mounts, else chown.
 */
function resolveOwnership(want: PrivateUsersOwnership, tree: TreeOwnership, treePath: string): 'off' | 'map' | 'chown' {
  if (want === 'off' || want === 'chown') return want;
  const shifted = treeRange(tree, treePath) !== 0;
  const idmappable = IDMAP_FILESYSTEMS.has(tree.fsType);
  if (want === 'auto') return shifted || !idmappable ? 'chown' : 'map';
  if (shifted)
    refuse(`cannot use --private-users-ownership=map on ${treePath}: the tree is owned by ${tree.uid}:${tree.gid}, already shifted to a range, and an idmapped mount maps from 0 (use auto or chown)`);
  if (!idmappable)
    refuse(
      `cannot use --private-users-ownership=map on ${treePath}: its file system (statfs type 0x${tree.fsType.toString(16)}) has no idmapped mounts (use --private-users-ownership=chown or auto, or put the tree on ext4, xfs, btrfs or tmpfs)`,
    );
  return 'map';
}

/** What shifting the tree on disk would contradict: a run that must leave the tree as it is. */
type ChownContext = Pick<Settings, 'ephemeral' | 'volatile' | 'readOnly'>;

function ownershipFields(ownership: 'off' | 'map' | 'chown', ctx: ChownContext, tree: TreeOwnership, base: number | undefined, treePath: string): { idmapRoot: boolean; chownRoot: boolean } {
  // The helper leaves a tree whose top directory is already of the range alone (nspawn's quick check).
  if (ownership === 'chown' && base !== (tree.uid & 0xffff0000) >>> 0) {
    const clash = ctx.ephemeral ? '--ephemeral' : ctx.volatile !== 'no' ? `--volatile=${ctx.volatile}` : ctx.readOnly ? '--read-only' : undefined;
    if (clash)
      refuse(`cannot combine --private-users-ownership=chown with ${clash}: chowning changes ${treePath} on disk, which ${clash} keeps as it is (use map on a file system with idmapped mounts, or chown the tree once without ${clash})`);
  }
  return { idmapRoot: ownership === 'map', chownRoot: ownership === 'chown' };
}

/** The user namespace of a start, or undefined without one. */
export function userNamespacePlan(
  settings: Pick<Settings, 'privateUsers' | 'privateUsersOwnership'> & Partial<ChownContext>,
  tree: TreeOwnership,
  machineName: string,
  treePath: string,
): UserNamespacePlan | undefined {
  const pu = settings.privateUsers;
  const ctx: ChownContext = { ephemeral: settings.ephemeral ?? false, volatile: settings.volatile ?? 'no', readOnly: settings.readOnly ?? false };
  switch (pu.mode) {
    case 'no':
      return undefined;
    case 'identity':
      return { mode: 'fixed', base: 0, count: USERNS_RANGE, idmapRoot: false, chownRoot: false };
    case 'yes': {
      // nspawn: the range is the tree owner's.
      if (tree.uid % USERNS_RANGE !== 0 || tree.gid !== tree.uid)
        refuse(`cannot use --private-users=yes: ${treePath} is owned by ${tree.uid}:${tree.gid}, not the first id of a range (use pick, or chown the tree)`);
      if (tree.uid === 0) refuse(`cannot use --private-users=yes: ${treePath} is owned by root, which would map the container's root to the host's (use -U or --private-users=pick)`);
      return { mode: 'fixed', base: tree.uid, count: USERNS_RANGE, ...ownershipFields(resolveOwnership(settings.privateUsersOwnership, tree, treePath), ctx, tree, tree.uid, treePath) };
    }
    case 'fixed': {
      const ownership = resolveOwnership(settings.privateUsersOwnership, tree, treePath);
      if (ownership === 'chown' && pu.count !== USERNS_RANGE)
        refuse(`cannot use --private-users=${pu.base}:${pu.count} with chown ownership: a tree is shifted by whole 64K ranges (COUNT 65536, as nspawn)`);
      return { mode: 'fixed', base: pu.base, count: pu.count, ...ownershipFields(ownership, ctx, tree, pu.base, treePath) };
    }
    case 'pick': {
      // As nspawn's: the range the tree is already owned by comes first, while it is free.
      const range = treeRange(tree, treePath);
      const prefer = range >= PICK_MIN && range < PICK_MAX ? range : undefined;
      const ownership = resolveOwnership(settings.privateUsersOwnership, tree, treePath);
      return { mode: 'pick', base: pickHint(machineName), count: USERNS_RANGE, ...ownershipFields(ownership, ctx, tree, prefer, treePath), ...(prefer !== undefined ? { prefer } : {}) };
    }
  }
}

/** Where only the user namespace's own root can mount: its /proc, devpts, mqueue, and the cgroup file systems of its cgroup namespace. */
const INNER_PREFIXES = ['/proc', '/dev/pts', '/dev/mqueue', '/sys/fs/cgroup'];

const under = (path: string, prefix: string): boolean => path === prefix || path.startsWith(prefix + '/');

function opPath(op: MountOp): string {
  switch (op.kind) {
    case 'mkdir':
    case 'touch':
    case 'mknod':
    case 'write':
    case 'symlink':
    case 'console':
    case 'notify-socket':
    case 'unlink':
      return op.path;
    default:
      return op.target;
  }
}

/**
 * Which ops run inside the user namespace (init, root of its namespaces)
 * and which before it, as the host's root (native/child.c): the second list
 * follows the first. Inside: everything under INNER_PREFIXES, a sysfs of a
 * network namespace of its own, and the removal of a staging file once an
 * op inside has bound it (the boot id). Order within each list is kept.
 */
export function splitForUserNamespace(ops: readonly MountOp[], privateNetwork: boolean): { ops: MountOp[]; innerFrom: number } {
  const boundInside = new Set<string>();
  const outside: MountOp[] = [];
  const inside: MountOp[] = [];
  for (const op of ops) {
    const inner =
      (op.kind === 'unlink' && boundInside.has(op.path)) ||
      INNER_PREFIXES.some((p) => under(opPath(op), p)) ||
      (privateNetwork && op.kind === 'mount' && op.fstype === 'sysfs');
    if (inner && op.kind === 'bind-inner') boundInside.add(op.source);
    (inner ? inside : outside).push(op);
  }
  return { ops: [...outside, ...inside], innerFrom: outside.length };
}
