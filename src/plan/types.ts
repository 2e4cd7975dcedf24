/**
 * The LaunchPlan: a pure, JSON-serialisable description of one container
 * start. src/plan/build.ts makes it from Settings and facts; the C helper
 * executes it (native/plan.h mirrors these types).
 */
import type { PlanSyscallRule } from './syscall-filter.js';
import type { TreeLock } from './tree-lock.js';
import type { UserNamespacePlan } from './userns.js';

/** tree: a bind-inner source from the user ('+' path), resolved on the tree's own mount only. rw: clear read-only on the new bind. */
export type MountFlag =
  | 'rec' | 'ro' | 'nosuid' | 'nodev' | 'noexec' | 'strictatime' | 'optional' | 'mkdir' | 'tree' | 'rw'
  // idmap: a bind idmapped to the container's user namespace (-U); rootidmap, owneridmap: idmapped
  // for the source's owner alone, as the container's root or as the destination's owner (native/ops.c).
  | 'idmap' | 'rootidmap' | 'owneridmap'
  // Further flags a user may give a fresh mount (--tmpfs options: src/settings/mount-options.ts).
  | 'sync' | 'dirsync' | 'noatime' | 'nodiratime' | 'relatime' | 'lazytime' | 'silent' | 'nosymfollow'
  // bind-inner of a cgroup hierarchy's mount: the helper appends its own cgroup there (no cgroup namespace: src/runtime/cgroup-layout.ts).
  | 'own-cgroup'
  // bind-inner whose source is a directory of inaccessible nodes: the helper picks the one of the target's type (--inaccessible).
  | 'by-type';

/** The closed vocabulary of setup steps. All paths are inside the tree unless named "source". */
export type MountOp =
  | { kind: 'mkdir'; path: string; mode: number }
  | { kind: 'touch'; path: string; mode: number }
  | { kind: 'bind'; source: string; target: string; flags: MountFlag[] }
  | { kind: 'bind-inner'; source: string; target: string; flags: MountFlag[] }
  | { kind: 'mount'; fstype: string; target: string; flags: MountFlag[]; data: string }
  | { kind: 'remount-ro'; target: string; flags: MountFlag[] }
  | { kind: 'symlink'; target: string; path: string }
  | { kind: 'mknod'; path: string; mode: number; major: number; minor: number }
  /** content: text, or bytes (a credential) carried byte for byte. */
  | { kind: 'write'; path: string; mode: number; content: string | Buffer }
  | { kind: 'console'; path: string }
  | { kind: 'notify-socket'; path: string }
  | { kind: 'unlink'; path: string; flags: MountFlag[] }
  | { kind: 'copy'; source: string; target: string; mode: number; flags: MountFlag[] }
  /**
   * upper: a host dir, or '+' one in the tree ('' for a tmpfs, '-' for
   * read-only); the helper makes its work directory beside it, with a random
   * name, and removes it after. lowers: lowest first.
   */
  | { kind: 'overlay'; target: string; upper: string; lowers: string[] };

export type PlanConsole = 'interactive' | 'read-only' | 'passive' | 'pipe';

export interface LaunchPlan {
  root: string;
  /** The tree's device and inode as inspected: the helper mounts that directory or none (decimal strings: 64-bit). */
  rootId: { dev: string; ino: string };
  /** -i: the image holder's pid; the monitor joins its mount namespace first (native/image-join.c). */
  imageHolder?: number;
  hostname: string;
  namespaces: { uts: boolean; ipc: boolean; cgroup: boolean; net: boolean };
  console: PlanConsole;
  readOnlyRoot: boolean;
  /** The system call filter (nspawn's default policy) on the payload. */
  syscallFilter: boolean;
  /** --suppress-sync=yes: sync(2) and its kin made to do nothing in the filter (native/seccomp.c); absent: no. */
  suppressSync?: boolean;
  /** --system-call-filter: per ABI, calls allowed and refused beyond the default filter (syscall-filter.ts); absent: none. */
  syscallRules?: PlanSyscallRule[];
  /** --as-pid2: the helper's stub init is PID 1, the payload PID 2. */
  asPid2: boolean;
  /** plain: the tree; overlay: tree + tmpfs upper layer; volatile: tmpfs with the tree's /usr. */
  rootMode: 'plain' | 'overlay' | 'volatile';
  /**
   * --pivot-root: the directory of the tree that becomes the root, and where
   * the whole tree goes inside it (none: out of sight). first: pivot, then the
   * root mode applies to the new root (nspawn's --volatile); last: the root
   * mode's mount of the whole tree first, then pivot inside it (nspawn's -x
   * pivots inside its copy of the whole tree).
   */
  pivotRoot?: { newRoot: string; oldRoot?: string; order: 'first' | 'last' };
  /** The tree's lock, taken and held by the monitor (tree-lock.ts); absent: none. */
  treeLock?: TreeLock;
  cwd: string;
  uid: number;
  gid: number;
  groups: number[];
  /** Capabilities kept in the bounding set, as a bit mask in hex. */
  capsRetain: string;
  /** What to execute: an absolute path inside the tree, or a name looked up in PATH. */
  exec: string;
  argv: string[];
  env: string[];
  ops: MountOp[];
  /**
   * Sockets passed on to PID 1 as fds 3, 4, ... (socket activation); where
   * the helper holds them is said when the plan is encoded (helper.ts).
   */
  listenFds?: number;
  /**
   * Descriptors of tsnspawn's (their numbers there) the helper holds and
   * hands to the supervisor, which has them at the same numbers: Node's
   * execve keeps only 0, 1 and 2. The sockets of listenFds first, then
   * --events=FD. Set at run time (run.ts).
   */
  carryFds?: number[];
  /** Registration with machined or systemd, made by the helper (src/machined/registration.ts). */
  registration?: HelperRegistration;
  /**
   * Host paths of the container's cgroups, made by Node, when the helper is
   * to place init in them itself (clone3 into the cgroup2 one) and open the
   * barrier at once: nothing to register first. Absent: Node does it at the
   * barrier. Set at run time (run.ts), not by buildPlan.
   */
  cgroups?: string[];
  /**
   * -U: the user namespace (src/plan/userns.ts). ops from innerOpsFrom on
   * run inside it, the ones before as the host's root (native/child.c).
   */
  userns?: UserNamespacePlan & { innerOpsFrom: number };
  /** Links the helper's monitor makes once init has its network namespace, and ports it forwards (src/plan/network.ts). */
  network?: PlanNetwork;
  /** The payload's security and resource settings (src/plan/security.ts); absent: all inherited, as before. */
  process?: PlanProcess;
}

/**
 * What the helper sets on the container's init before it runs the payload
 * (native/proc-limits.c, native/child.c). Each absent field: left as inherited.
 */
export interface PlanProcess {
  /** PR_SET_NO_NEW_PRIVS, last, after the ids and capabilities. */
  noNewPrivileges: boolean;
  /** init's oom_score_adj, -1000..1000 (written by real root, so a negative one works under -U too). */
  oomScoreAdjust?: number;
  /** sched_setaffinity: CPU numbers, ascending. */
  cpuAffinity?: number[];
  /** setrlimit, by the kernel's names (NOFILE, ...); values decimal or "infinity". */
  rlimits: Array<{ name: string; soft: string; hard: string }>;
  /** personality(2): PER_LINUX or PER_LINUX32. */
  personality?: 'linux' | 'linux32';
  /** Capabilities raised into the payload's inheritable and ambient sets, a bit mask in hex ("0": none). */
  capsAmbient: string;
}

/**
 * One veth pair: host is the host side's name (altName: the full name
 * when it was shortened to fit IFNAMSIZ), container the name inside.
 * attach: the host side joins an existing bridge, or a zone's (made on
 * demand, removed with its last member). register: its index (or its
 * bridge's) goes to machined.
 */
export interface PlanVeth {
  host: string;
  altName?: string;
  hostMac: string;
  container: string;
  containerMac: string;
  attach?: { kind: 'bridge' | 'zone'; bridge: string };
  register: boolean;
}

export interface PlanPort {
  protocol: 'tcp' | 'udp';
  hostPort: number;
  containerPort: number;
}

/**
 * --network-macvlan / --network-ipvlan: a link made on the host link
 * parent, straight into the container's namespace, named name there
 * (altName: the full name when shortened); a macvlan has a MAC address
 * derived from the machine name, an ipvlan shares its parent's.
 */
export interface PlanVlan {
  kind: 'macvlan' | 'ipvlan';
  parent: string;
  name: string;
  altName?: string;
  mac?: string;
}

export interface PlanNetwork {
  links: PlanVeth[];
  /** --network-interface: host links moved into the container's namespace, and back at exit. */
  moved: string[];
  /** --network-macvlan, --network-ipvlan, in that order. */
  vlans: PlanVlan[];
  /** --network-namespace-path: init joins this namespace instead of making one (no links then). */
  join?: string;
  ports: PlanPort[];
  /** With ports: the nftables table (family inet) that holds their rules, one a container. */
  table?: string;
}

/** A unit property as the helper writes it on the bus: its D-Bus type and value(s) as text (a(ss): pairs). */
export interface RegistrationProperty {
  name: string;
  signature: 's' | 'b' | 'i' | 'u' | 't' | 'a(ss)';
  values: string[];
}

/**
 * The container's registration, made by the helper's monitor over its own
 * system bus connection once init exists (native/registration.h):
 * machined's CreateMachine (kind machine) or RegisterMachine (unit, for
 * --keep-unit), or systemd's StartTransientUnit (scope, --register=no).
 * mode auto: nobody to register with is no error. retry: after a guest
 * reboot, the last boot's machine or scope may still be going.
 */
export interface HelperRegistration {
  bus: string;
  kind: 'machine' | 'unit' | 'scope';
  mode: 'yes' | 'auto';
  retry: boolean;
  /** kinds machine and unit; id: 32 hex digits. */
  machine?: { name: string; id: string; service: string; root: string };
  /** kind scope: the unit name. */
  unit?: string;
  properties: RegistrationProperty[];
}
