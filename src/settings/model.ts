/**
 * Settings: everything the user asked for, from the command line and a
 * .nspawn file (merged by merge.ts). Pure data; validated and turned into a
 * LaunchPlan by src/plan/build.ts.
 */

import type { PivotRootSpec } from './pivot-root.js';
import type { LinkJournalMode, ResolvConfMode, TimezoneMode } from '../plan/host-files.js';
import type { UnitProperty } from './unit-properties.js';
import type { MountFlag } from '../plan/types.js';
import type { SystemCallFilterWords } from '../plan/syscall-filter.js';
import { DEFAULT_MANAGER_NAME, type ManagerName } from '../plan/environment.js';
import type { SettingGroup, SettingsFileMode } from './provenance.js';
import type { PortSpec, VethExtraSpec } from './network.js';
import { defaultNspawnEnvironment, type NspawnEnvironment } from './nspawn-environment.js';
import { defaultSecuritySettings, type SecuritySettings } from './security.js';

/** option: how messages name it (the option and the ID, never the value). value: bytes; path: absolute, or a name in our $CREDENTIALS_DIRECTORY. */
export type CredentialSpec = { id: string; value: Buffer; option: string } | { id: string; path: string; option: string };

export type ConsoleMode = 'interactive' | 'read-only' | 'passive' | 'pipe' | 'autopipe';
export type RegisterMode = 'yes' | 'no' | 'auto';
export type VolatileMode = 'no' | 'yes' | 'state' | 'overlay';

export type BindIdmap = 'idmap' | 'rootidmap' | 'owneridmap';

export interface BindSpec {
  /** Host path (absolute), or '+' and a path inside the container's tree. */
  source: string;
  /** Path inside the container (absolute). */
  destination: string;
  readOnly: boolean;
  /** nspawn's "rbind" (default) or "norbind". */
  recursive: boolean;
  /**
   * -U only; absent: noidmap. nspawn's "idmap": the source's owners as the
   * container's (host 0 is the container's root); "rootidmap": the source's
   * owner as the container's root, nobody else mapped; "owneridmap": the
   * source's owner as the destination's owner inside, nobody else mapped.
   */
  idmap?: BindIdmap;
  /** The option spelling as the user gave it, for error messages. */
  option: string;
}

/** --overlay/--overlay-ro: host trees stacked (lowest first) at a path inside. */
export interface OverlaySpec {
  /** Host paths, or '+' and a path inside the container's tree; lowest first. */
  lowers: string[];
  /** Directory taking the writes (host, or '+' inside the tree); '' for a throwaway tmpfs; undefined for --overlay-ro. */
  upper?: string;
  destination: string;
  option: string;
}

export interface TmpfsSpec {
  destination: string;
  /** The tmpfs's own options (data: default "mode=0755"), without the flag words. */
  options: string;
  /** Mount flags (nosuid and nodev unless the options say suid or dev; src/settings/mount-options.ts). */
  flags: MountFlag[];
  option: string;
}

/** --inaccessible: a path inside made unreachable (an inaccessible node of its type bound over it, read-only). */
export interface InaccessibleSpec {
  path: string;
  option: string;
}

export interface Settings {
  directory?: string;
  /** --tarball: run an ephemeral overlay of this archive's (cached) tree. */
  tarball?: string;
  /** The machine name was derived from the --tarball file name (gets the ephemeral suffix). */
  machineFromTarball?: boolean;
  machine?: string;
  hostname?: string;
  uuid?: string;
  /** NAME=VALUE pairs from -E/--setenv, in order. */
  environment: string[];
  user?: string;
  chdir?: string;
  binds: BindSpec[];
  tmpfs: TmpfsSpec[];
  overlays: OverlaySpec[];
  inaccessible: InaccessibleSpec[];
  /** -i/--image: a disk image (GPT, or one file system) to run instead of a directory (src/image/disk-image.ts). */
  image?: string;
  /** --template: the tree -D (or -M's directory) is made from when it does not exist (src/image/template.ts). */
  template?: string;
  /** --suppress-sync: sync(2), fsync(2) and their kin succeed without doing anything (nspawn's seccomp rules). */
  suppressSync: boolean;
  /** --pivot-root: the directory inside the tree that becomes the root, and where the old root goes (src/settings/pivot-root.ts). */
  pivotRoot?: PivotRootSpec;
  readOnly: boolean;
  /** -x: a throwaway overlay over the tree (upper layer on a tmpfs of the container's own). */
  ephemeral: boolean;
  volatile: VolatileMode;
  console?: ConsoleMode;
  pipe: boolean;
  quiet: boolean;
  register: RegisterMode;
  keepUnit: boolean;
  boot: boolean;
  /** --notify-ready: READY=1 to our service manager only once the guest said READY=1. */
  notifyReady: boolean;
  /** --events=FD: JSON lines of what happens to the container (src/runtime/event-stream.ts). */
  eventsFd?: number;
  timezone: TimezoneMode;
  resolvConf: ResolvConfMode;
  linkJournal: LinkJournalMode;
  /** Signal number; undefined means nspawn's default (SIGRTMIN+3 with -b, else SIGKILL). */
  killSignal?: number;
  /** COMMAND and its arguments (or init's arguments with -b). */
  command: string[];
  /** --slice and --property: for the scope machined makes (not with --keep-unit or --register=no). */
  unitProperties: UnitProperty[];
  /** --set-credential (value given) and --load-credential (read from a host file at start), in order. */
  credentials: CredentialSpec[];
  /** -a/--as-pid2: a stub init as PID 1 reaps and handles halt signals; the command runs as PID 2. */
  asPid2: boolean;
  /** --private-network: a network namespace of its own with only loopback (up). */
  privateNetwork: boolean;
  /** -U/--private-users: a user namespace (src/plan/userns.ts). */
  privateUsers: PrivateUsers;
  /** --bind-user=NAME: host users bound in, each once, in order (src/plan/bind-user.ts; needs -U). */
  bindUsers: string[];
  /** --private-users-ownership: how the tree's files get the container's ids. */
  privateUsersOwnership: PrivateUsersOwnership;
  /** -n/--network-veth: a veth pair, host0 inside, ve-NAME outside (src/plan/network.ts). */
  networkVeth: boolean;
  /** --network-bridge: the veth's host side (vb-NAME) on this existing bridge. */
  networkBridge?: string;
  /** --network-zone: the veth's host side (vb-NAME) on the bridge vz-ZONE, made on demand. */
  networkZone?: string;
  /** --network-veth-extra: more veth pairs, HOST outside, CONTAINER inside. */
  networkVethExtra: VethExtraSpec[];
  /** --network-interface: existing host links moved into the container, and back out at exit. */
  networkInterfaces: string[];
  /** --network-macvlan: a macvlan link (bridge mode) on each of these host links, mv-PARENT inside. */
  networkMacvlan: string[];
  /** --network-ipvlan: an ipvlan link (L2 mode) on each of these host links, iv-PARENT inside. */
  networkIpvlan: string[];
  /** --network-namespace-path: the container joins this existing network namespace instead of making one. */
  networkNamespacePath?: string;
  /** -p/--port: forwarded from the host to the container (nftables). */
  ports: PortSpec[];
  /** --capability: kept on top of nspawn's default set (canonical names). */
  addCapabilities: string[];
  /** --drop-capability: taken away from the set. */
  dropCapabilities: string[];
  /** nspawn's system call filter; off with SYSTEMD_SECCOMP=0 in the environment, as for nspawn. */
  syscallFilter: boolean;
  /** --system-call-filter: calls and @groups allowed on top of the filter, and ones refused (src/plan/syscall-filter.ts). */
  systemCallFilter: SystemCallFilterWords;
  /** --no-new-privileges, --oom-score-adjust, --cpu-affinity, --rlimit, --personality, --ambient-capability (security.ts). */
  security: SecuritySettings;
  /** --container-name: $container and /run/host/container-manager (src/plan/environment.ts). */
  managerName: ManagerName;
  /** --settings: whether and how a .nspawn file is read. */
  settingsFile: SettingsFileMode;
  /** The groups the command line set (nspawn's SettingsMask): a .nspawn file does not change them unless --settings=override. */
  setOnCommandLine: Set<SettingGroup>;
  /** The groups a .nspawn file set (after trust and precedence): the rest are the command line's or defaults. */
  setByFile: Set<SettingGroup>;
  /** What nspawn's environment variables set (SYSTEMD_NSPAWN_*; src/settings/nspawn-environment.ts). */
  nspawnEnvironment: NspawnEnvironment;
}

/**
 * nspawn's --private-users: no; identity (0-65535 as themselves); yes (the
 * range of the tree's owner); pick (a free range, chosen at start); a fixed
 * BASE with COUNT ids.
 */
export type PrivateUsers =
  | { mode: 'no' }
  | { mode: 'identity' }
  | { mode: 'yes' }
  | { mode: 'pick' }
  | { mode: 'fixed'; base: number; count: number };

/** off: as on disk; chown: the tree is chowned to the range; map: idmapped mounts; auto: map where the file system can, else chown. */
export const PRIVATE_USERS_OWNERSHIP = ['off', 'chown', 'map', 'auto'] as const;
export type PrivateUsersOwnership = (typeof PRIVATE_USERS_OWNERSHIP)[number];

export function defaultSettings(): Settings {
  return {
    unitProperties: [],
    credentials: [],
    asPid2: false,
    privateNetwork: false,
    privateUsers: { mode: 'no' },
    privateUsersOwnership: 'auto',
    networkVeth: false,
    networkVethExtra: [],
    networkInterfaces: [],
    networkMacvlan: [],
    networkIpvlan: [],
    ports: [],
    addCapabilities: [],
    dropCapabilities: [],
    syscallFilter: true,
    systemCallFilter: { allow: [], deny: [] },
    security: defaultSecuritySettings(),
    environment: [],
    binds: [],
    bindUsers: [],
    tmpfs: [],
    overlays: [],
    inaccessible: [],
    suppressSync: false,
    readOnly: false,
    ephemeral: false,
    volatile: 'no',
    pipe: false,
    quiet: false,
    register: 'auto',
    keepUnit: false,
    boot: false,
    notifyReady: false,
    timezone: 'auto',
    resolvConf: 'auto',
    linkJournal: 'auto',
    command: [],
    settingsFile: 'yes',
    managerName: DEFAULT_MANAGER_NAME,
    setOnCommandLine: new Set(),
    setByFile: new Set(),
    nspawnEnvironment: defaultNspawnEnvironment(),
  };
}
