/**
 * The keys of a .nspawn file (systemd 252's nspawn-gperf.gperf): for each,
 * the group of settings it belongs to (nspawn's SettingsMask bit), whether
 * nspawn ignores it in a file it does not trust, and how its value lands in
 * FileValues. Value syntax and checks are the command line's (values.ts).
 */
import { LINK_JOURNAL_MODES, RESOLV_CONF_MODES, TIMEZONE_MODES, type LinkJournalMode, type ResolvConfMode, type TimezoneMode } from '../plan/host-files.js';
import { parseCapabilityNames } from '../plan/capabilities.js';
import { refuse } from '../util/errors.js';
import { PRIVATE_USERS_OWNERSHIP, type BindSpec, type InaccessibleSpec, type OverlaySpec, type PrivateUsers, type PrivateUsersOwnership, type TmpfsSpec, type VolatileMode } from './model.js';
import { parsePrivateUsers } from '../plan/userns.js';
import { parseSystemCallFilter, type SystemCallFilterWords } from '../plan/syscall-filter.js';
import type { SettingGroup } from './provenance.js';
import { parseSignal } from './signals.js';
import { parsePivotRoot, type PivotRootSpec } from './pivot-root.js';
import { tryParseUuid } from './uuid.js';
import { addPort, parseBridgeName, parsePort, parseInterfaceName, parseVethExtra, parseVlanParent, parseZoneName, type PortSpec, type VethExtraSpec } from './network.js';
import { isValidHostname, parseBind, parseBooleanWord, parseChdir, parseInaccessible, parseOverlay, parseTmpfs } from './values.js';
import {
  parseAmbientCapabilities,
  parseCpuAffinity,
  parseOomScoreAdjust,
  parsePersonality,
  parseRlimitValues,
  RLIMIT_NAMES,
  type RlimitName,
  type RlimitSpec,
} from './security.js';

export const NSPAWN_SECTIONS = ['Exec', 'Files', 'Network'] as const;

/** What a file says, before trust and precedence (merge.ts). Absent: the file did not set it. */
export interface FileValues {
  /** Boot= and ProcessTwo=: nspawn's start mode. Without it, Parameters= has no effect (as in nspawn). */
  startMode?: 'command' | 'as-pid2' | 'boot';
  parameters?: string[];
  ephemeral?: boolean;
  environment?: string[];
  user?: string;
  chdir?: string;
  addCapabilities?: string[];
  dropCapabilities?: string[];
  killSignal?: number;
  uuid?: string;
  hostname?: string;
  notifyReady?: boolean;
  resolvConf?: ResolvConfMode;
  timezone?: TimezoneMode;
  linkJournal?: LinkJournalMode;
  readOnly?: boolean;
  volatile?: VolatileMode;
  binds?: BindSpec[];
  tmpfs?: TmpfsSpec[];
  overlays?: OverlaySpec[];
  inaccessible?: InaccessibleSpec[];
  privateNetwork?: boolean;
  privateUsers?: PrivateUsers;
  privateUsersOwnership?: PrivateUsersOwnership;
  bindUsers?: string[];
  networkVeth?: boolean;
  networkVethExtra?: VethExtraSpec[];
  networkInterfaces?: string[];
  networkMacvlan?: string[];
  networkIpvlan?: string[];
  networkBridge?: string;
  networkZone?: string;
  ports?: PortSpec[];
  noNewPrivileges?: boolean;
  oomScoreAdjust?: number;
  cpuAffinity?: number[];
  rlimits?: Partial<Record<RlimitName, RlimitSpec>>;
  personality?: string;
  ambientCapabilities?: string[];
  suppressSync?: boolean;
  /** SystemCallFilter=: the lines' allow and deny words together (src/plan/syscall-filter.ts). */
  systemCallFilter?: SystemCallFilterWords;
  pivotRoot?: PivotRootSpec;
}

/** The groups a file can set. */
export type FileGroup = Exclude<SettingGroup, 'directory' | 'console' | 'slice' | 'credentials'>;

/** Where a key was written, for the options that name their origin in later messages. */
export interface KeyOrigin {
  key: string;
  value: string;
  /** "FILE:LINE" */
  where: string;
}

export interface KeySpec {
  /** "Section.Key", as nspawn-gperf.gperf spells it. */
  name: string;
  group: FileGroup;
  /**
   * nspawn ignores it in an untrusted file: it could raise privileges or
   * reach host resources. A function: that depends on what the whole file
   * says (SystemCallFilter=), decided once the file is read.
   */
  privileged: boolean | ((v: FileValues) => boolean);
  /**
   * Applies one line. Throws a UserError for a bad value (the line is then
   * ignored); returns a message when only part of the value was ignored.
   */
  apply: (v: FileValues, value: string, origin: KeyOrigin) => string | void;
}

function bool(value: string): boolean {
  const b = parseBooleanWord(value);
  if (b === undefined) refuse('use yes or no');
  return b;
}

function oneOf<T extends string>(value: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) refuse(`use one of ${allowed.join(', ')}`);
  return value as T;
}

/** ResolvConf= and Timezone= take a boolean too (systemd's string table "with boolean": yes is auto, no is off). */
function modeOrBoolean<T extends string>(value: string, allowed: readonly T[]): T {
  const b = parseBooleanWord(value);
  return b === undefined ? oneOf(value, allowed) : ((b ? 'auto' : 'off') as T);
}

/**
 * systemd's config_parse_strv word splitting: words separated by blanks,
 * '...' and "..." group (the quotes go), a backslash keeps the next
 * character from being a separator or quote (and stays, as with
 * EXTRACT_RETAIN_ESCAPE).
 */
export function splitWords(value: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && i + 1 < value.length) {
      word = (word ?? '') + ch + value[++i]!;
    } else if (quote) {
      if (ch === quote) quote = undefined;
      else word = (word ?? '') + ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      word ??= '';
    } else if (/[ \t\n\r]/.test(ch)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else word = (word ?? '') + ch;
  }
  if (quote) refuse(`unbalanced ${quote} quote`);
  if (word !== undefined) words.push(word);
  return words;
}

/** A list key: each line adds, an empty value empties the list (config_parse_strv). */
function appendWords(list: string[] | undefined, value: string, check?: (word: string) => void): string[] {
  if (value === '') return [];
  const words = splitWords(value);
  for (const w of words) check?.(w);
  return [...(list ?? []), ...words];
}

/** Boot= and ProcessTwo= as config_parse_boot/config_parse_pid2: yes picks the mode, no leaves the other's alone; both yes conflict. */
function startMode(v: FileValues, value: string, mode: 'boot' | 'as-pid2'): void {
  const other = mode === 'boot' ? 'as-pid2' : 'boot';
  if (bool(value)) {
    if (v.startMode === other) refuse('conflicts with an earlier Boot= or ProcessTwo=');
    v.startMode = mode;
  } else {
    if (v.startMode === mode) refuse('conflicts with an earlier Boot= or ProcessTwo=');
    v.startMode ??= 'command';
  }
}

/** Capability=/DropCapability=: blank-separated names (any case), numbers or "all"; unknown ones are skipped, the rest apply (as nspawn). */
function capabilities(list: string[] | undefined, value: string): { list: string[]; unknown: string[] } {
  const names: string[] = [];
  const unknown: string[] = [];
  for (const word of value.split(/[ \t]+/).filter(Boolean)) {
    const r = parseCapabilityNames(word);
    if ('unknown' in r) unknown.push(word);
    else names.push(...r.names);
  }
  return { list: [...(list ?? []), ...names], unknown };
}

function capabilityKey(field: 'addCapabilities' | 'dropCapabilities'): KeySpec['apply'] {
  return (v, value) => {
    const r = capabilities(v[field], value);
    v[field] = r.list;
    return r.unknown.length > 0 ? `unknown capability ${r.unknown.join(', ')} skipped` : undefined;
  };
}

/** A host path in a file must be absolute: there is no working directory to resolve it from. */
function absoluteSources(paths: string[]): void {
  for (const p of paths) if (p !== '' && !p.startsWith('/') && !p.startsWith('+')) refuse(`'${p}' is not an absolute path`);
}

/** Splits on ':' but not '\:' (the command line's escape), for the path checks only. */
const colonParts = (value: string): string[] => value.split(/(?<!\\):/);

/** Names the file and line in later messages about the mount ("cannot Bind=/a:/b (FILE:3): ..."). */
const fromFile = (o: KeyOrigin): string => `${o.key}=${o.value} (${o.where})`;

export const NSPAWN_KEYS: readonly KeySpec[] = [
  // [Exec]
  { name: 'Exec.Boot', group: 'start-mode', privileged: false, apply: (v, x) => startMode(v, x, 'boot') },
  { name: 'Exec.ProcessTwo', group: 'start-mode', privileged: false, apply: (v, x) => startMode(v, x, 'as-pid2') },
  { name: 'Exec.Parameters', group: 'start-mode', privileged: false, apply: (v, x) => void (v.parameters = appendWords(v.parameters, x)) },
  { name: 'Exec.Ephemeral', group: 'ephemeral', privileged: true, apply: (v, x) => void (v.ephemeral = bool(x)) },
  {
    name: 'Exec.Environment',
    group: 'environment',
    privileged: false,
    apply: (v, x) =>
      void (v.environment = appendWords(v.environment, x, (w) => {
        if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(w)) refuse(`'${w}' is not NAME=VALUE`);
      })),
  },
  {
    name: 'Exec.User',
    group: 'user',
    privileged: false,
    apply: (v, x) => {
      // An empty value unsets it (config_parse_string).
      if (x === '') delete v.user;
      else if (/[\x00-\x1f\x7f]/.test(x)) refuse('control characters are not allowed');
      else v.user = x;
    },
  },
  { name: 'Exec.WorkingDirectory', group: 'working-directory', privileged: false, apply: (v, x) => void (v.chdir = parseChdir(x)) },
  // Capability= is privileged, DropCapability= applies from any file (it only takes away).
  { name: 'Exec.Capability', group: 'capability', privileged: true, apply: capabilityKey('addCapabilities') },
  { name: 'Exec.DropCapability', group: 'capability', privileged: false, apply: capabilityKey('dropCapabilities') },
  { name: 'Exec.KillSignal', group: 'kill-signal', privileged: false, apply: (v, x) => void (v.killSignal = parseSignal(x, 'KillSignal')) },
  {
    name: 'Exec.MachineID',
    group: 'machine-id',
    privileged: true,
    apply: (v, x) => {
      if (!tryParseUuid(x)) refuse('use a non-zero UUID or 32 hex digits');
      v.uuid = x;
    },
  },
  {
    name: 'Exec.Hostname',
    group: 'hostname',
    privileged: false,
    apply: (v, x) => {
      if (!isValidHostname(x)) refuse("use 1 to 64 letters, digits, '-' and '.'");
      v.hostname = x;
    },
  },
  { name: 'Exec.NotifyReady', group: 'notify-ready', privileged: false, apply: (v, x) => void (v.notifyReady = bool(x)) },
  { name: 'Exec.ResolvConf', group: 'resolv-conf', privileged: false, apply: (v, x) => void (v.resolvConf = modeOrBoolean(x, RESOLV_CONF_MODES)) },
  { name: 'Exec.Timezone', group: 'timezone', privileged: false, apply: (v, x) => void (v.timezone = modeOrBoolean(x, TIMEZONE_MODES)) },
  { name: 'Exec.LinkJournal', group: 'link-journal', privileged: true, apply: (v, x) => void (v.linkJournal = oneOf(x, LINK_JOURNAL_MODES)) },
  // The payload's security and resource settings (security.ts). As nspawn: AmbientCapability=, OOMScoreAdjust=,
  // CPUAffinity= and the Limit*= keys only from a trusted file; NoNewPrivileges= and Personality= from any.
  {
    name: 'Exec.AmbientCapability', group: 'capability', privileged: true,
    apply: (v, x) => void (v.ambientCapabilities = [...(v.ambientCapabilities ?? []), ...parseAmbientCapabilities(x.split(/[ \t]+/).filter(Boolean).join(','))]),
  },
  { name: 'Exec.NoNewPrivileges', group: 'no-new-privileges', privileged: false, apply: (v, x) => void (v.noNewPrivileges = bool(x)) },
  { name: 'Exec.OOMScoreAdjust', group: 'oom-score-adjust', privileged: true, apply: (v, x) => void (v.oomScoreAdjust = parseOomScoreAdjust(x)) },
  {
    // Lines add up; an empty one empties the set (config_parse_cpu_affinity).
    name: 'Exec.CPUAffinity', group: 'cpu-affinity', privileged: true,
    apply: (v, x) => {
      if (x === '') delete v.cpuAffinity;
      else v.cpuAffinity = [...new Set([...(v.cpuAffinity ?? []), ...parseCpuAffinity(x)])].sort((a, b) => a - b);
    },
  },
  // Not privileged in nspawn: it only makes the guest's own data less safe.
  { name: 'Exec.PivotRoot', group: 'pivot-root', privileged: false, apply: (v, x) => void (v.pivotRoot = parsePivotRoot(x, 'PivotRoot')) },
  { name: 'Exec.SuppressSync', group: 'suppress-sync', privileged: false, apply: (v, x) => void (v.suppressSync = bool(x)) },
  {
    // As nspawn: lines add up; in an untrusted file the key is ignored whole if it allows anything (refusing more is always fine).
    name: 'Exec.SystemCallFilter', group: 'syscall-filter', privileged: (v) => (v.systemCallFilter?.allow.length ?? 0) > 0,
    apply: (v, x) => {
      const { deny, words } = parseSystemCallFilter(x);
      const f = v.systemCallFilter ?? { allow: [], deny: [] };
      v.systemCallFilter = deny ? { allow: f.allow, deny: [...f.deny, ...words] } : { allow: [...f.allow, ...words], deny: f.deny };
    },
  },
  { name: 'Exec.Personality', group: 'personality', privileged: false, apply: (v, x) => void (v.personality = parsePersonality(x)) },
  ...RLIMIT_NAMES.map(
    (name): KeySpec => ({
      name: `Exec.Limit${name}`, group: `rlimit-${name}`, privileged: true,
      apply: (v, x) => void (v.rlimits = { ...v.rlimits, [name]: parseRlimitValues(name, x) }),
    }),
  ),
  // [Files]
  { name: 'Files.ReadOnly', group: 'read-only', privileged: false, apply: (v, x) => void (v.readOnly = bool(x)) },
  {
    name: 'Files.Volatile',
    group: 'volatile',
    privileged: false,
    apply: (v, x) => {
      const b = parseBooleanWord(x);
      v.volatile = b === undefined ? oneOf(x, ['no', 'yes', 'state', 'overlay'] as const) : b ? 'yes' : 'no';
    },
  },
  ...(['Bind', 'BindReadOnly'] as const).map(
    (key): KeySpec => ({
      name: `Files.${key}`,
      group: 'custom-mounts',
      privileged: true,
      apply: (v, x, o) => {
        absoluteSources(colonParts(x).slice(0, 1));
        v.binds = [...(v.binds ?? []), { ...parseBind(x, key === 'BindReadOnly'), option: fromFile(o) }];
      },
    }),
  ),
  {
    name: 'Files.TemporaryFileSystem',
    group: 'custom-mounts',
    privileged: true,
    apply: (v, x, o) => void (v.tmpfs = [...(v.tmpfs ?? []), { ...parseTmpfs(x), option: fromFile(o) }]),
  },
  ...(['Overlay', 'OverlayReadOnly'] as const).map(
    (key): KeySpec => ({
      name: `Files.${key}`,
      group: 'custom-mounts',
      privileged: true,
      apply: (v, x, o) => {
        absoluteSources(colonParts(x).slice(0, -1));
        v.overlays = [...(v.overlays ?? []), { ...parseOverlay(x, key === 'OverlayReadOnly'), option: fromFile(o) }];
      },
    }),
  ),
  // A custom mount in nspawn too (CUSTOM_MOUNT_INACCESSIBLE): trusted files only, like Bind=.
  {
    name: 'Files.Inaccessible',
    group: 'custom-mounts',
    privileged: true,
    apply: (v, x, o) => void (v.inaccessible = [...(v.inaccessible ?? []), { ...parseInaccessible(x), option: fromFile(o) }]),
  },
  // [Exec] PrivateUsers= and [Files] ownership: not privileged in nspawn either (a user namespace takes privileges away).
  { name: 'Exec.PrivateUsers', group: 'userns', privileged: false, apply: (v, x) => void (v.privateUsers = parsePrivateUsers(x)) },
  {
    name: 'Files.PrivateUsersOwnership',
    group: 'userns',
    privileged: false,
    apply: (v, x) => {
      if (!(PRIVATE_USERS_OWNERSHIP as readonly string[]).includes(x)) refuse(`invalid PrivateUsersOwnership=${x}: use one of ${PRIVATE_USERS_OWNERSHIP.join(', ')}`);
      v.privateUsersOwnership = x as PrivateUsersOwnership;
    },
  },
  { name: 'Files.PrivateUsersChown', group: 'userns', privileged: false, apply: (v, x) => void (bool(x) && (v.privateUsersOwnership = 'chown')) },
  // Trusted files only, as nspawn since 260 ("apply BindUser/Ephemeral from settings file only if trusted"): it puts a host user's home in.
  {
    name: 'Files.BindUser', group: 'bind-user', privileged: true,
    apply: (v, x) => void (v.bindUsers = x === '' ? [] : [...(v.bindUsers ?? []).filter((n) => n !== x), x]),
  },
  // [Network]
  { name: 'Network.Private', group: 'network', privileged: true, apply: (v, x) => void (v.privateNetwork = bool(x)) },
  { name: 'Network.VirtualEthernet', group: 'network', privileged: true, apply: (v, x) => void (v.networkVeth = bool(x)) },
  {
    name: 'Network.VirtualEthernetExtra', group: 'network', privileged: true,
    apply: (v, x) => void (v.networkVethExtra = [...(v.networkVethExtra ?? []), parseVethExtra(x, 'VirtualEthernetExtra')]),
  },
  {
    name: 'Network.Interface', group: 'network', privileged: true,
    apply: (v, x) => void (v.networkInterfaces = [...(v.networkInterfaces ?? []), ...x.split(/\s+/).filter(Boolean).map((i) => parseInterfaceName(i, 'Interface'))]),
  },
  {
    name: 'Network.MACVLAN', group: 'network', privileged: true,
    apply: (v, x) => void (v.networkMacvlan = [...(v.networkMacvlan ?? []), ...x.split(/\s+/).filter(Boolean).map((i) => parseVlanParent(i, 'MACVLAN'))]),
  },
  {
    name: 'Network.IPVLAN', group: 'network', privileged: true,
    apply: (v, x) => void (v.networkIpvlan = [...(v.networkIpvlan ?? []), ...x.split(/\s+/).filter(Boolean).map((i) => parseVlanParent(i, 'IPVLAN'))]),
  },
  { name: 'Network.Bridge', group: 'network', privileged: true, apply: (v, x) => void (v.networkBridge = parseBridgeName(x, 'Bridge')) },
  { name: 'Network.Zone', group: 'network', privileged: true, apply: (v, x) => void (v.networkZone = parseZoneName(x, 'Zone')) },
  {
    name: 'Network.Port', group: 'expose-ports', privileged: true,
    apply: (v, x) => {
      const list = [...(v.ports ?? [])];
      addPort(list, parsePort(x, 'Port'), 'Port');
      v.ports = list;
    },
  },
];

/**
 * Keys systemd-nspawn 252 has and tsnspawn does not implement yet, with the
 * command line option that would carry them: a file using one gets a warning
 * naming it, and the rest of the file applies.
 */
export const NSPAWN_KEYS_NOT_SUPPORTED: Readonly<Record<string, string>> = {
};

export const KEY_BY_NAME: ReadonlyMap<string, KeySpec> = new Map(NSPAWN_KEYS.map((k) => [k.name, k]));
