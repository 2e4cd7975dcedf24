/**
 * Settings + facts about the image and the host -> LaunchPlan. Pure: no file
 * system access, so unit tests pin the plan for each scenario without root.
 */
import { capabilityMask, PRIVATE_NETWORK_CAPS, retainedCapabilities } from './capabilities.js';
import { buildEnvironment, payloadTerm } from './environment.js';
import { defaultMounts, FINAL_READ_ONLY, INACCESSIBLE_DIR, TMPFS_LIMITS } from './mount-table.js';
import { credentialEnvironment, credentialOps, type Credential } from './credentials.js';
import type { LaunchPlan, MountFlag, MountOp, PlanConsole } from './types.js';
import { listenEnvironment, type ListenFds } from '../runtime/socket-activation.js';
import type { Settings } from '../settings/model.js';
import { refuse } from '../util/errors.js';
import { isInContainer, sourcePathOf } from '../settings/values.js';
import { splitForUserNamespace, type UserNamespacePlan } from './userns.js';
import { bindUserOps, type BoundUser } from './bind-user.js';
import { hasPrivateNetwork, makesNetworkNamespace } from '../settings/network.js';
import { planNetwork } from './network.js';
import { planProcess } from './security.js';
import { syscallRules } from './syscall-filter.js';
import { treeLockOf, type TreeLock } from './tree-lock.js';

export interface PlanFacts {
  /** Canonical host path of the tree. */
  root: string;
  /** Its device and inode when inspected. */
  rootId: { dev: string; ino: string };
  /** -i: the image holder whose mount namespace the monitor joins (src/image/disk-image.ts). */
  imageHolder?: number;
  /** -i: the image file, which the tree lock is taken on (as nspawn); otherwise root and rootId. */
  lockTarget?: { path: string; id: { dev: string; ino: string } };
  machineName: string;
  uuid: string;
  user: { name: string; uid: number; gid: number; home: string; shell: string; groups: number[] };
  /** The payload: path inside the tree (or a name for a PATH search) and argv. */
  exec: string;
  argv: string[];
  console: PlanConsole;
  /** Without --chdir: "/" for a COMMAND or init, the user's home for the login shell (as nspawn). */
  defaultCwd: string;
  hostOsReleasePath?: string;
  hostOsRelease: Record<string, string>;
  hostTerm?: string;
  cgroupNamespace: boolean;
  cgroupOps: MountOp[];
  /** Extra ops of the boot (boot id, /proc/kmsg), inserted before user mounts. */
  bootOps?: MountOp[];
  /** /etc/localtime, /etc/resolv.conf and the journal link, before user mounts. */
  hostFileOps?: MountOp[];
  /** --set-credential/--load-credential, with their values. */
  credentials?: Credential[];
  /** Sockets systemd passed to tsnspawn, passed on to PID 1. */
  listenFds?: ListenFds;
  /** -U: the user namespace (userns.ts). */
  userns?: UserNamespacePlan;
  /** --bind-user: the host users bound in (bind-user.ts). */
  bindUsers?: BoundUser[];
  /** The host's /etc/machine-id, from which the veth MAC addresses derive (needed with -n and the like). */
  hostMachineId?: string;
  /** The host's propagation directory for machinectl bind (src/runtime/propagate.ts). */
  propagateDir?: string;
}

/** --bind, --overlay, --tmpfs and --inaccessible mounts, parent paths first (as nspawn sorts them) so none hides another. */
function userMounts(settings: Settings, facts: PlanFacts): MountOp[] {
  const ops: Array<{ target: string; op: MountOp }> = [];
  for (const b of settings.binds) {
    const flags: MountFlag[] = ['mkdir'];
    if (b.recursive) flags.push('rec');
    if (b.readOnly) flags.push('ro');
    if (b.idmap) {
      if (!facts.userns) refuse(`cannot use ${b.option}: the ${b.idmap} option needs a user namespace (-U)`);
      flags.push(b.idmap);
    }
    // A '+' source is opened inside the tree (resolved in the root, never
    // leaving the tree's own mount: not onto /proc or a host file bound in), a host one on the host.
    const kind = isInContainer(b.source) ? 'bind-inner' : 'bind';
    if (isInContainer(b.source)) flags.push('tree');
    ops.push({ target: b.destination, op: { kind, source: sourcePathOf(b.source), target: b.destination, flags } });
  }
  // Overlay layers keep their '+': the helper resolves those in the tree.
  for (const o of settings.overlays) {
    let { lowers, upper } = o;
    if (upper && isInContainer(upper) && rootModeOf(settings) === 'overlay') {
      // The root is itself an overlayfs, which cannot be an upper layer. Its
      // writes are thrown away anyway: the '+' upper becomes the top lower
      // layer under a throwaway tmpfs (same view, same fate); optional, as
      // a missing upper would only have been made empty.
      lowers = [...lowers, `${OPTIONAL_LAYER}${upper}`];
      upper = '';
    }
    if (lowers.length > OVERLAY_MAX_LOWERS)
      refuse(`cannot use ${o.option} for ${o.destination}: ${lowers.length} lower layers, and the kernel's overlayfs stacks at most ${OVERLAY_MAX_LOWERS}`);
    ops.push({
      target: o.destination,
      op: { kind: 'overlay', target: o.destination, upper: upper ?? '-', lowers },
    });
  }
  for (const t of settings.tmpfs)
    ops.push({ target: t.destination, op: { kind: 'mount', fstype: 'tmpfs', target: t.destination, flags: [...t.flags, 'mkdir'], data: t.options } });
  // Last among equals, as nspawn's custom_mount_compare (CUSTOM_MOUNT_INACCESSIBLE after the others); the
  // helper reads the target's type where it resolves it and binds the node of that type, read-only.
  for (const i of settings.inaccessible)
    ops.push({ target: i.path, op: { kind: 'bind-inner', source: INACCESSIBLE_DIR, target: i.path, flags: ['ro', 'by-type'] } });
  // --bind-user's homes, sorted with the user's mounts as nspawn appends them to its custom mounts.
  for (const op of bindUserOps(facts.bindUsers ?? []).homes) if (op.kind === 'bind') ops.push({ target: op.target, op });
  // A stable sort by depth keeps the command line's order among equals.
  const depth = (p: string): number => p.split('/').filter(Boolean).length;
  return ops.sort((a, b) => depth(a.target) - depth(b.target)).map((x) => x.op);
}

/** The kernel's OVL_MAX_STACK; the helper's OVERLAY_MAX_LOWERS (native/plan.h) is the same. */
export const OVERLAY_MAX_LOWERS = 500;

/** Marks an overlay layer the helper skips when it does not exist. */
export const OPTIONAL_LAYER = '?';

/** How the root is mounted: the tree itself, the tree under a throwaway upper layer, or a tmpfs with the tree's /usr. */
export function rootModeOf(settings: Settings): LaunchPlan['rootMode'] {
  return settings.ephemeral || settings.volatile === 'overlay' ? 'overlay' : settings.volatile === 'yes' ? 'volatile' : 'plain';
}

/** The tree's lock files (none with -x or SYSTEMD_NSPAWN_LOCK=0): on the image file with -i, else on the tree. The plan and the runtime record both take it from here. */
export function treeLockOfFacts(settings: Settings, facts: Pick<PlanFacts, 'root' | 'rootId' | 'lockTarget'>): TreeLock | undefined {
  return treeLockOf(settings, facts.lockTarget?.path ?? facts.root, facts.lockTarget?.id ?? facts.rootId);
}

function treeLockField(settings: Settings, facts: PlanFacts): { treeLock?: TreeLock } {
  const lock = treeLockOfFacts(settings, facts);
  return lock ? { treeLock: lock } : {};
}

export function buildPlan(settings: Settings, facts: PlanFacts): LaunchPlan {
  const privateNetwork = hasPrivateNetwork(settings);
  const network = planNetwork(settings, { machineName: facts.machineName, hostMachineId: facts.hostMachineId ?? '' });
  // nspawn: a private network brings CAP_NET_ADMIN (it is the container's own network); --drop-capability still wins.
  const caps = retainedCapabilities([...settings.addCapabilities, ...(privateNetwork ? PRIVATE_NETWORK_CAPS : [])], settings.dropCapabilities);

  const allOps: MountOp[] = [
    ...defaultMounts({
      hostOsRelease: facts.hostOsReleasePath,
      managerName: settings.managerName,
      uuid: facts.uuid,
      console: facts.console !== 'pipe',
      cgroupOps: facts.cgroupOps,
      privateNetwork,
      propagateDir: facts.propagateDir,
      apiVfs: settings.nspawnEnvironment.apiVfs,
      tmpfsTmp: settings.nspawnEnvironment.tmpfsTmp,
    }),
    ...(facts.bootOps ?? []),
    ...(facts.hostFileOps ?? []),
    ...credentialOps(facts.credentials ?? []),
    ...bindUserOps(facts.bindUsers ?? []).records,
    ...(settings.volatile === 'state'
      ? [{ kind: 'mount', fstype: 'tmpfs', target: '/var', flags: ['nosuid', 'nodev', 'strictatime', 'mkdir'], data: `mode=0755,${TMPFS_LIMITS.volatile}` } as MountOp]
      : []),
    ...userMounts(settings, facts),
    ...FINAL_READ_ONLY.map((target): MountOp => ({ kind: 'remount-ro', target, flags: ['nosuid', 'nodev', 'noexec'] })),
  ];
  const processSettings = planProcess(settings.security);
  const syscallRuleList = syscallRules(settings.systemCallFilter, caps);
  // A joined namespace belongs to the host's user namespace: -U's init cannot mount a sysfs for it, the setup's real root does.
  const split = facts.userns ? splitForUserNamespace(allOps, makesNetworkNamespace(settings)) : undefined;
  const ops = split?.ops ?? allOps;

  const env = buildEnvironment({
    managerName: settings.managerName,
    uuid: facts.uuid,
    user: facts.user,
    term: payloadTerm(facts.console, facts.hostTerm),
    hostOsRelease: facts.hostOsRelease,
    boot: settings.boot,
    extra: [
      ...credentialEnvironment(facts.credentials ?? []),
      ...(facts.listenFds ? listenEnvironment(facts.listenFds, settings.asPid2) : []),
      ...settings.environment,
    ],
  });

  return {
    root: facts.root,
    rootId: facts.rootId,
    ...(facts.imageHolder ? { imageHolder: facts.imageHolder } : {}),
    hostname: settings.hostname ?? facts.machineName,
    // --network-namespace-path: joined (network.join), not made.
    namespaces: { uts: true, ipc: true, cgroup: facts.cgroupNamespace, net: makesNetworkNamespace(settings) },
    console: facts.console,
    // volatile=state: the tree read-only, /var a tmpfs (nspawn's meaning).
    readOnlyRoot: settings.readOnly || settings.volatile === 'state',
    syscallFilter: settings.syscallFilter,
    ...(settings.suppressSync ? { suppressSync: true } : {}),
    // With SYSTEMD_SECCOMP=0 there is no filter to change, as for nspawn.
    ...(settings.syscallFilter && syscallRuleList?.length ? { syscallRules: syscallRuleList } : {}),
    asPid2: settings.asPid2,
    rootMode: rootModeOf(settings),
    ...(settings.pivotRoot ? { pivotRoot: { ...settings.pivotRoot, order: settings.ephemeral ? ('last' as const) : ('first' as const) } } : {}),
    ...treeLockField(settings, facts),
    cwd: settings.chdir ?? facts.defaultCwd,
    uid: facts.user.uid,
    gid: facts.user.gid,
    groups: facts.user.groups,
    capsRetain: capabilityMask(caps).toString(16),
    exec: facts.exec,
    argv: facts.argv,
    env,
    ops,
    ...(facts.listenFds ? { listenFds: facts.listenFds.count } : {}),
    ...(facts.userns && split ? { userns: { ...facts.userns, innerOpsFrom: split.innerFrom } } : {}),
    ...(network ? { network } : {}),
    ...(processSettings ? { process: processSettings } : {}),
  };
}
