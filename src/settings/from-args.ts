/**
 * The command line: one table of options with nspawn's names. Every value
 * is checked here, before anything is touched. commander renders --help.
 */
import { readNspawnEnvironment } from './nspawn-environment.js';
import { UserError } from '../util/errors.js';
import { defaultSettings, PRIVATE_USERS_OWNERSHIP, type Settings } from './model.js';
import { parsePrivateUsers } from '../plan/userns.js';
import { SETTINGS_FILE_MODES, type SettingGroup } from './provenance.js';
import {
  parseBind,
  parseChdir,
  parseConsoleMode,
  parseMachineName,
  parseRegisterMode,
  parseSetenv,
  parseTmpfs,
  isValidHostname,
  parseBooleanWord,
  parseCapabilities,
  parseLoadCredential,
  parseSetCredential,
  parseOverlay,
  parseInaccessible,
  CONSOLE_MODES,
  REGISTER_MODES,
  VOLATILE_MODES,
} from './values.js';
import { parseSignal, SIGNAL_WORDS } from './signals.js';
import { parsePivotRoot } from './pivot-root.js';
import { refuse } from '../util/errors.js';
import { LINK_JOURNAL_MODES, RESOLV_CONF_MODES, TIMEZONE_MODES } from '../plan/host-files.js';
import { parseSlice, parseUnitProperty } from './unit-properties.js';
import { addPort, parseBridgeName, parseNetnsPath, parsePort, parseInterfaceName, parseVethExtra, parseVlanParent, parseZoneName } from './network.js';
import { findNspawnOption, refusalOf } from './nspawn-options.js';
import { MANAGER_NAMES } from '../plan/environment.js';
import { parseSystemCallFilter, SYSCALL_GROUP_NAMES } from '../plan/syscall-filter.js';
import { CAPABILITY_WORDS } from '../plan/capabilities.js';
import {
  inOption,
  parseAmbientCapabilities,
  parseCpuAffinity,
  parseOomScoreAdjust,
  parsePersonality,
  parseRlimit,
  RLIMIT_NAMES,
  type SecuritySettings,
} from './security.js';

export const VERSION = '0.1.0';

function oneOf<T extends string>(v: string | boolean, allowed: readonly T[], option: string): T {
  if (!allowed.includes(str(v) as T)) refuse(`invalid ${option}=${str(v)}: use one of ${allowed.join(', ')}`);
  return str(v) as T;
}

interface OptionSpec {
  /** "-D, --directory <path>"; "[mode]" for a value that may be left out (nspawn's optional_argument), "-j" for a short one alone. */
  flags: string;
  /** The fixed list of words it takes: OPTION=help prints them, one a line, as nspawn does. */
  values?: readonly string[];
  /** The group of settings the option sets (nspawn's SettingsMask bit), so a .nspawn file leaves it alone. */
  sets?: SettingGroup;
  help: string;
  /** Applies one occurrence of the option to the settings. */
  apply: (s: Settings, value: string | boolean) => void;
}

const str = (v: string | boolean): string => String(v);

/** All options, in --help order. Values are applied in command line order. */
export const OPTION_TABLE: readonly OptionSpec[] = [
  { flags: '-D, --directory <path>', sets: 'directory', help: 'root directory of the container', apply: (s, v) => (s.directory = str(v)) },
  {
    flags: '-i, --image <path>',
    help: 'a disk image to run: GPT with a root partition (systemd-repart, mkosi), or one file system',
    apply: (s, v) => {
      if (str(v) === '') refuse('invalid --image=: give the image file\'s path');
      s.image = str(v);
    },
  },
  {
    flags: '--tarball <file>',
    help: 'start from a rootfs archive: unpacked once into a cache, each run an ephemeral overlay of it',
    apply: (s, v) => (s.tarball = str(v)),
  },
  {
    flags: '--template <dir>',
    help: 'when the directory does not exist, make it first as a copy of this tree (everything kept, reflinks where possible)',
    apply: (s, v) => {
      if (str(v) === '') refuse('invalid --template=: give the template tree\'s path');
      s.template = str(v);
    },
  },
  { flags: '-M, --machine <name>', help: 'machine name (default: last component of the directory)', apply: (s, v) => (s.machine = parseMachineName(str(v))) },
  {
    flags: '--hostname <name>', sets: 'hostname',
    help: 'hostname inside the container (default: the machine name)',
    apply: (s, v) => {
      if (!isValidHostname(str(v))) refuse(`invalid --hostname=${str(v)}: use 1 to 64 letters, digits, '-' and '.'`);
      s.hostname = str(v);
    },
  },
  { flags: '--uuid <uuid>', sets: 'machine-id', help: 'machine UUID (default: the tree\'s /etc/machine-id, else random)', apply: (s, v) => (s.uuid = str(v)) },
  { flags: '-b, --boot', sets: 'start-mode', help: 'boot the tree\'s init as PID 1; arguments go to init', apply: (s) => (s.boot = true) },
  { flags: '-a, --as-pid2', sets: 'start-mode', help: 'run the command as PID 2 under a stub init that reaps and handles halt signals', apply: (s) => (s.asPid2 = true) },
  { flags: '-E, --setenv <NAME=VALUE>', sets: 'environment', help: 'set an environment variable for PID 1', apply: (s, v) => s.environment.push(parseSetenv(str(v))) },
  { flags: '-u, --user <user>', sets: 'user', help: 'run the command as this user of the tree', apply: (s, v) => (s.user = str(v)) },
  { flags: '--chdir <path>', sets: 'working-directory', help: 'working directory inside the container', apply: (s, v) => (s.chdir = parseChdir(str(v))) },
  { flags: '--bind <src[:dst[:opts]]>', sets: 'custom-mounts', help: "bind mount a host path, or with '+' one in the tree (opts: rbind, norbind)", apply: (s, v) => s.binds.push(parseBind(str(v), false)) },
  { flags: '--bind-ro <src[:dst[:opts]]>', sets: 'custom-mounts', help: "bind mount a host path (or '+' one in the tree) read-only", apply: (s, v) => s.binds.push(parseBind(str(v), true)) },
  { flags: '--overlay <paths>', sets: 'custom-mounts', help: "LOWER...:UPPER:DEST: an overlay at DEST of host trees, or '+' ones in the tree (empty UPPER: throwaway)", apply: (s, v) => s.overlays.push(parseOverlay(str(v), false)) },
  { flags: '--overlay-ro <paths>', sets: 'custom-mounts', help: "LOWER...:DEST: a read-only overlay at DEST of host trees or '+' ones in the tree", apply: (s, v) => s.overlays.push(parseOverlay(str(v), true)) },
  { flags: '--tmpfs <path[:options]>', sets: 'custom-mounts', help: 'mount an empty tmpfs at path', apply: (s, v) => s.tmpfs.push(parseTmpfs(str(v))) },
  { flags: '--inaccessible <path>', sets: 'custom-mounts', help: 'make a path inside unreachable: an inaccessible node of its type bound over it', apply: (s, v) => s.inaccessible.push(parseInaccessible(str(v))) },
  {
    flags: '--pivot-root <path[:oldroot]>', sets: 'pivot-root',
    help: 'make this directory of the tree the root; the old root goes to OLDROOT inside it (else out of sight)',
    apply: (s, v) => (s.pivotRoot = parsePivotRoot(str(v))),
  },
  { flags: '--read-only', sets: 'read-only', help: 'mount the root directory read-only', apply: (s) => (s.readOnly = true) },
  {
    flags: '-S, --slice <slice>', sets: 'slice',
    help: 'put the scope machined makes into this slice',
    apply: (s, v) => s.unitProperties.push(parseSlice(str(v))),
  },
  {
    flags: '--property <NAME=VALUE>',
    help: 'a resource setting for the scope (MemoryMax, TasksMax, CPUQuota, CPUWeight, IOWeight, ...)',
    apply: (s, v) => s.unitProperties.push(parseUnitProperty(str(v))),
  },
  {
    flags: '--set-credential <ID:VALUE>', sets: 'credentials',
    help: 'pass a systemd credential to the container (C escapes in VALUE)',
    apply: (s, v) => s.credentials.push(parseSetCredential(str(v))),
  },
  {
    flags: '--load-credential <ID:PATH>', sets: 'credentials',
    help: 'pass a host file as a systemd credential (a name alone: from our $CREDENTIALS_DIRECTORY)',
    apply: (s, v) => s.credentials.push(parseLoadCredential(str(v))),
  },
  {
    flags: '--private-network', sets: 'network',
    help: 'a network namespace of its own: only loopback, up (CAP_NET_ADMIN kept)',
    apply: (s) => (s.privateNetwork = true),
  },
  // Network links and forwarded ports (src/settings/network.ts).
  {
    flags: '-n, --network-veth', sets: 'network',
    help: 'a veth pair: host0 inside, ve-NAME on the host (systemd-networkd configures both)',
    apply: (s) => (s.networkVeth = true),
  },
  {
    flags: '--network-veth-extra <host[:container]>', sets: 'network',
    help: 'one more veth pair, named on each side',
    apply: (s, v) => s.networkVethExtra.push(parseVethExtra(str(v))),
  },
  {
    flags: '--network-interface <interface>', sets: 'network',
    help: 'an existing host link moved into the container (and back out when it ends)',
    apply: (s, v) => s.networkInterfaces.push(parseInterfaceName(str(v))),
  },
  {
    flags: '--network-macvlan <interface>', sets: 'network',
    help: 'a macvlan link (bridge mode) on this host link, mv-INTERFACE inside, its MAC address from the machine name',
    apply: (s, v) => s.networkMacvlan.push(parseVlanParent(str(v), '--network-macvlan')),
  },
  {
    flags: '--network-ipvlan <interface>', sets: 'network',
    help: 'an ipvlan link (L2 mode) on this host link, iv-INTERFACE inside',
    apply: (s, v) => s.networkIpvlan.push(parseVlanParent(str(v), '--network-ipvlan')),
  },
  {
    flags: '--network-namespace-path <path>', sets: 'network',
    help: 'join this network namespace (e.g. /run/netns/NAME) instead of making one; it stays when the container ends',
    apply: (s, v) => (s.networkNamespacePath = parseNetnsPath(str(v))),
  },
  {
    flags: '--network-bridge <bridge>', sets: 'network',
    help: 'a veth pair whose host side (vb-NAME) joins this existing bridge',
    apply: (s, v) => (s.networkBridge = parseBridgeName(str(v))),
  },
  {
    flags: '--network-zone <zone>', sets: 'network',
    help: 'a veth pair whose host side (vb-NAME) joins the bridge vz-ZONE, made on demand and removed with its last member',
    apply: (s, v) => (s.networkZone = parseZoneName(str(v))),
  },
  {
    flags: '-p, --port <[proto:]host[:container]>', sets: 'expose-ports',
    help: 'forward a tcp (default) or udp port of the host to the container (nftables; needs a veth)',
    apply: (s, v) => addPort(s.ports, parsePort(str(v))),
  },
  {
    flags: '-U', sets: 'userns',
    help: 'a user namespace with a free 64K uid range, the tree idmapped (--private-users=pick --private-users-ownership=auto)',
    apply: (s) => ((s.privateUsers = { mode: 'pick' }), (s.privateUsersOwnership = 'auto')),
  },
  {
    flags: '--private-users [mode]', sets: 'userns',
    help: 'user namespace: no, yes (the tree owner\'s range), identity, pick, or UID[:COUNT]',
    apply: (s, v) => (s.privateUsers = parsePrivateUsers(v)),
  },
  {
    flags: '--private-users-ownership <mode>', sets: 'userns',
    help: `how the tree's files get the container's ids: ${PRIVATE_USERS_OWNERSHIP.join(', ')}`,
    apply: (s, v) => (s.privateUsersOwnership = oneOf(v, PRIVATE_USERS_OWNERSHIP, '--private-users-ownership')),
  },
  {
    flags: '--private-users-chown', sets: 'userns',
    help: 'same as --private-users-ownership=chown',
    apply: (s) => (s.privateUsersOwnership = 'chown'),
  },
  {
    flags: '--bind-user <name>', sets: 'bind-user',
    help: "bind a host user's home at /run/host/home/NAME, its ids mapped to 60514.. and its records in /run/host/userdb (needs -U)",
    // Each name once, as nspawn's strv_uniq.
    apply: (s, v) => void (s.bindUsers.includes(str(v)) || s.bindUsers.push(str(v))),
  },
  {
    flags: '--capability <caps>', sets: 'capability', values: CAPABILITY_WORDS,
    help: 'keep these capabilities too (CAP_NET_ADMIN,..., or all)',
    apply: (s, v) => s.addCapabilities.push(...parseCapabilities(str(v), '--capability')),
  },
  {
    flags: '--drop-capability <caps>', sets: 'capability', values: CAPABILITY_WORDS,
    help: 'drop these capabilities from the default set (or all)',
    apply: (s, v) => s.dropCapabilities.push(...parseCapabilities(str(v), '--drop-capability')),
  },
  // The payload's security and resource settings (src/settings/security.ts); each replaces s.security, never changes it in place.
  {
    flags: '--ambient-capability <caps>', sets: 'capability', values: CAPABILITY_WORDS,
    help: 'raise these capabilities (also kept in the bounding set) into the payload\'s ambient set, for a user other than root too',
    apply: (s, v) => security(s, { ambientCapabilities: [...s.security.ambientCapabilities, ...inOption('--ambient-capability', str(v), parseAmbientCapabilities)] }),
  },
  {
    flags: '--no-new-privileges <bool>', sets: 'no-new-privileges',
    help: 'with yes, the payload and its children cannot gain privileges (setuid, file capabilities): PR_SET_NO_NEW_PRIVS',
    apply: (s, v) => {
      const b = parseBooleanWord(str(v));
      if (b === undefined) refuse(`invalid --no-new-privileges=${str(v)}: use yes or no`);
      security(s, { noNewPrivileges: b });
    },
  },
  {
    flags: '--oom-score-adjust <n>', sets: 'oom-score-adjust',
    help: 'the OOM score adjustment of the container\'s PID 1 (-1000..1000)',
    apply: (s, v) => security(s, { oomScoreAdjust: inOption('--oom-score-adjust', str(v), parseOomScoreAdjust) }),
  },
  {
    flags: '--cpu-affinity <cpus>', sets: 'cpu-affinity',
    help: 'the CPUs the container may run on: numbers and ranges, e.g. 0-3,5',
    apply: (s, v) => security(s, { cpuAffinity: inOption('--cpu-affinity', str(v), parseCpuAffinity) }),
  },
  {
    flags: '--rlimit <NAME=SOFT[:HARD]>', values: RLIMIT_NAMES,
    help: 'a resource limit of the payload (NOFILE, NPROC, AS, ...; RLIMIT_ prefix allowed; "infinity")',
    apply: (s, v) => {
      const { name, spec } = inOption('--rlimit', str(v), parseRlimit);
      security(s, { rlimits: { ...s.security.rlimits, [name]: spec } });
      s.setOnCommandLine.add(`rlimit-${name}`);
    },
  },
  {
    flags: '--personality <arch>',  sets: 'personality',
    help: 'the architecture uname reports to the payload: the host\'s, or its 32-bit one (x86 on x86-64)',
    apply: (s, v) => security(s, { personality: inOption('--personality', str(v), (x) => parsePersonality(x)) }),
  },
  {
    flags: '--suppress-sync <bool>', sets: 'suppress-sync',
    help: 'with yes, sync(2), fsync(2), fdatasync(2), syncfs(2), sync_file_range(2) and msync(2) succeed without doing anything (faster, unsafe on a crash)',
    apply: (s, v) => {
      const b = parseBooleanWord(str(v));
      if (b === undefined) refuse(`invalid --suppress-sync=${str(v)}: use yes or no`);
      s.suppressSync = b;
    },
  },
  {
    // Occurrences add up, as in nspawn; each word is checked here (src/plan/syscall-filter.ts).
    flags: '--system-call-filter <list>', sets: 'syscall-filter', values: SYSCALL_GROUP_NAMES,
    help: 'system calls and @groups to allow on top of the filter, or with a leading ~ to refuse (EPERM); space-separated',
    apply: (s, v) => {
      const { deny, words } = inOption('--system-call-filter', str(v), parseSystemCallFilter);
      const f = s.systemCallFilter;
      s.systemCallFilter = deny ? { allow: f.allow, deny: [...f.deny, ...words] } : { allow: [...f.allow, ...words], deny: f.deny };
    },
  },
  { flags: '-x, --ephemeral', sets: 'ephemeral', help: 'run on a throwaway overlay of the tree, removed at exit', apply: (s) => (s.ephemeral = true) },
  {
    flags: '--volatile [mode]', sets: 'volatile', values: VOLATILE_MODES,
    help: 'no, yes (tmpfs root with the tree\'s /usr; the default without a mode), state (tmpfs /var), overlay (tmpfs overlay over the root)',
    apply: (s, v) => {
      // Bare --volatile means yes, as nspawn.
      const b = v === true ? true : parseBooleanWord(str(v));
      s.volatile = b === true ? 'yes' : b === false ? 'no' : oneOf(v, VOLATILE_MODES, '--volatile');
    },
  },
  { flags: '--console <mode>', sets: 'console', values: CONSOLE_MODES, help: 'interactive, read-only, passive, pipe or autopipe', apply: (s, v) => (s.console = parseConsoleMode(str(v))) },
  // The later of -P and --console wins, as in nspawn.
  { flags: '-P, --pipe', sets: 'console', help: 'same as --console=pipe, and quiet', apply: (s) => ((s.pipe = true), (s.console = 'pipe')) },
  { flags: '-q, --quiet', help: 'do not show status messages', apply: (s) => (s.quiet = true) },
  // Accepted for scripts written for nspawn; they mean nothing here.
  { flags: '--no-pager', help: 'accepted for nspawn\'s sake: tsnspawn never starts a pager', apply: () => undefined },
  { flags: '--no-ask-password', help: 'accepted for nspawn\'s sake: tsnspawn never asks for a password', apply: () => undefined },
  { flags: '--kill-signal <signal>', sets: 'kill-signal', values: SIGNAL_WORDS, help: 'signal sent to init on SIGTERM/SIGINT (default: SIGRTMIN+3 with -b, else SIGKILL)', apply: (s, v) => (s.killSignal = parseSignal(str(v), '--kill-signal')) },
  { flags: '--register <mode>', values: REGISTER_MODES, help: 'register with systemd-machined: yes, no or auto', apply: (s, v) => (s.register = parseRegisterMode(str(v))) },
  {
    flags: '--container-name <name>', values: MANAGER_NAMES,
    help: 'what the guest is told its manager is ($container): systemd-nspawn (default: the guest sees its interface) or tsnspawn',
    apply: (s, v) => (s.managerName = oneOf(v, MANAGER_NAMES, '--container-name')),
  },
  { flags: '--keep-unit', help: 'use the service unit tsnspawn runs in instead of a new scope', apply: (s) => (s.keepUnit = true) },
  { flags: '--timezone <mode>', sets: 'timezone', values: TIMEZONE_MODES, help: `/etc/localtime from the host: ${TIMEZONE_MODES.join(', ')}`, apply: (s, v) => (s.timezone = oneOf(v, TIMEZONE_MODES, '--timezone')) },
  { flags: '--resolv-conf <mode>', sets: 'resolv-conf', values: RESOLV_CONF_MODES, help: `/etc/resolv.conf from the host: ${RESOLV_CONF_MODES.join(', ')}`, apply: (s, v) => (s.resolvConf = oneOf(v, RESOLV_CONF_MODES, '--resolv-conf')) },
  {
    flags: '--link-journal <mode>', sets: 'link-journal', values: LINK_JOURNAL_MODES,
    help: `make the guest's journal visible on the host: ${LINK_JOURNAL_MODES.join(', ')}`,
    // nspawn takes "yes" for auto.
    apply: (s, v) => (s.linkJournal = str(v) === 'yes' ? 'auto' : oneOf(v, LINK_JOURNAL_MODES, '--link-journal')),
  },
  { flags: '-j', sets: 'link-journal', help: 'same as --link-journal=try-guest', apply: (s) => (s.linkJournal = 'try-guest') },
  {
    flags: '--notify-ready <bool>', sets: 'notify-ready',
    help: "with yes, report READY=1 to the service manager only when the guest's init did",
    apply: (s, v) => {
      const b = parseBooleanWord(str(v));
      if (b === undefined) refuse(`invalid --notify-ready=${str(v)}: use yes or no`);
      s.notifyReady = b;
    },
  },
  {
    flags: '--events <fd>',
    help: 'write what happens to the container (started, ready, status, rebooting, exited) as JSON lines to this open descriptor',
    apply: (s, v) => {
      const fd = Number(str(v));
      if (!/^\d+$/.test(str(v)) || fd > 2 ** 31 - 1) refuse(`invalid --events=${str(v)}: give an open file descriptor number, e.g. --events=3 with 3>events.jsonl`);
      s.eventsFd = fd;
    },
  },
  {
    flags: '--settings <mode>', values: SETTINGS_FILE_MODES,
    help: 'read NAME.nspawn: yes, no, override (the file wins over the command line) or trusted (every key applies)',
    apply: (s, v) => {
      // nspawn takes a boolean too.
      const b = parseBooleanWord(str(v));
      s.settingsFile = b === true ? 'yes' : b === false ? 'no' : oneOf(v, SETTINGS_FILE_MODES, '--settings');
    },
  },
];

/** Replaces some of the security settings (a copy: Settings may be shared with a merge). */
function security(s: Settings, change: Partial<SecuritySettings>): void {
  s.security = { ...s.security, ...change };
}

/** Applies one occurrence of an option and records the group it set. */
function applyOption(spec: OptionSpec, settings: Settings, value: string | boolean): void {
  spec.apply(settings, value);
  if (spec.sets) settings.setOnCommandLine.add(spec.sets);
}

interface ParsedFlags {
  short?: string;
  long?: string;
  takesValue: boolean;
  /** The value may be left out (only "--name=value" gives one then, as getopt's optional_argument). */
  optionalValue: boolean;
}

/** "-D, --directory <path>" -> { short: "D", long: "directory", takesValue: true, optionalValue: false } */
export function parseFlags(flags: string): ParsedFlags {
  const m = flags.match(/^(?:-([A-Za-z]))?(?:, )?(?:--([a-z][a-z0-9-]*))?(?: (<[^>]+>|\[[^\]]+\]))?$/);
  if (!m || (!m[1] && !m[2])) throw new Error(`bad option spec ${flags}`);
  return { short: m[1], long: m[2], takesValue: m[3] !== undefined, optionalValue: m[3]?.startsWith('[') ?? false };
}

const PARSED = OPTION_TABLE.map((spec) => ({ spec, ...parseFlags(spec.flags) }));
const BY_LONG = new Map(PARSED.filter((p) => p.long).map((p) => [p.long!, p]));
const BY_SHORT = new Map(PARSED.filter((p) => p.short).map((p) => [p.short!, p]));

/**
 * Prints --help or --version through commander, built from the same table.
 * Loaded only then: commander costs about 14 ms of start-up, a sixth of a
 * whole container run, so the everyday path parses with the loop below.
 */
async function showHelpOrVersion(which: 'help' | 'version'): Promise<void> {
  const { Command } = await import('commander');
  const program = new Command('tsnspawn')
    .description('Spawn a command or an OS in a lightweight container (systemd-nspawn compatible)')
    .usage('[OPTIONS...] [COMMAND [ARGS...]]')
    .version(VERSION, '--version', 'show the version')
    .helpOption('-h, --help', 'show this help')
    .argument('[command...]', "command to run (default: the tree's login shell), or init's arguments with -b");
  for (const o of OPTION_TABLE) program.option(o.flags, o.help);
  if (which === 'help') process.stdout.write(program.helpInformation());
  else process.stdout.write(`tsnspawn ${VERSION}\n`);
}

/** An option tsnspawn does not take: nspawn's own ones are refused with the reason (nspawn-options.ts). */
function unknown(token: string, name: { long?: string; short?: string }): never {
  const nspawn = findNspawnOption(name);
  const refusal = nspawn && refusalOf(nspawn, token);
  throw new UserError(refusal ?? `unknown option '${token}' (see 'tsnspawn --help')`);
}

/** OPTION=help: the words it takes, one a line (nspawn's DUMP_STRING_TABLE). */
function printValues(values: readonly string[]): 'exit' {
  process.stdout.write(values.map((v) => `${v}\n`).join(''));
  return 'exit';
}

/**
 * Parses argv (without node and script) into Settings, as nspawn does:
 * options first, and everything from the first non-option on is the
 * COMMAND with its own options. Options apply in the order given (last
 * wins, lists add). Returns 'exit' after --help/--version.
 */
export async function settingsFromArgs(argv: string[]): Promise<Settings | 'exit'> {
  const settings = defaultSettings();
  let i = 0;
  for (; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--') {
      i++;
      break;
    }
    if (token === '-h' || token === '--help' || token === '--version') {
      await showHelpOrVersion(token === '--version' ? 'version' : 'help');
      return 'exit';
    }
    if (!token.startsWith('-') || token === '-') break;
    if (token.startsWith('--')) {
      const eq = token.indexOf('=');
      const name = token.slice(2, eq < 0 ? undefined : eq);
      const opt = BY_LONG.get(name) ?? unknown(eq < 0 ? token : token.slice(0, eq), { long: name });
      if (!opt.takesValue || (opt.optionalValue && eq < 0)) {
        if (eq >= 0) throw new UserError(`option '--${name}' takes no value (see 'tsnspawn --help')`);
        applyOption(opt.spec, settings, true);
        continue;
      }
      let value: string;
      if (eq >= 0) value = token.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new UserError(`option '--${name}' needs a value (see 'tsnspawn --help')`);
      if (value === 'help' && opt.spec.values) return printValues(opt.spec.values);
      applyOption(opt.spec, settings, value);
      continue;
    }
    // Short options, possibly grouped (-qP) and with an attached value (-Dtree).
    for (let j = 1; j < token.length; j++) {
      const opt = BY_SHORT.get(token[j]!) ?? unknown(`-${token[j]}`, { short: token[j] });
      if (!opt.takesValue) {
        applyOption(opt.spec, settings, true);
        continue;
      }
      let value: string;
      if (j + 1 < token.length) value = token.slice(j + 1);
      else if (i + 1 < argv.length) value = argv[++i]!;
      else throw new UserError(`option '-${opt.short}' (--${opt.long}) needs a value (see 'tsnspawn --help')`);
      if (value === 'help' && opt.spec.values) return printValues(opt.spec.values);
      applyOption(opt.spec, settings, value);
      break;
    }
  }
  settings.command = argv.slice(i);
  // A COMMAND (or init's arguments) is nspawn's start mode too: it masks the file's Parameters=.
  if (settings.command.length > 0) settings.setOnCommandLine.add('start-mode');
  settings.nspawnEnvironment = readNspawnEnvironment(process.env);
  settings.syscallFilter = settings.nspawnEnvironment.seccomp;
  // As nspawn, which reads its environment after the command line (not marked as set there: a .nspawn file's SuppressSync= still applies).
  if (settings.nspawnEnvironment.suppressSync !== undefined) settings.suppressSync = settings.nspawnEnvironment.suppressSync;
  return settings;
}
