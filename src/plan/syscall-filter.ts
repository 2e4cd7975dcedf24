/**
 * --system-call-filter=[~]LIST (and SystemCallFilter=) with nspawn's
 * meaning: system call names and systemd's @groups, space-separated; without
 * '~' they are allowed on top of the default filter, with '~' refused with
 * EPERM. Names resolve to numbers here, per ABI of the x86-64 family
 * (x86-64, x32, x86), and go to the helper as numbers (native/syscall-rules.h).
 *
 * nspawn (nspawn-seccomp.c, systemd 252 to 257) builds an allow list: its
 * default items below (some only with a capability), then the user's allow
 * words; every item is expanded through the groups, and any item, call or
 * @group, whose name is among the deny words is skipped wherever it turns
 * up (libseccomp's exclude list is matched by name). Whatever else is known
 * fails with EPERM. So "~@clock" refuses @clock's calls only where the
 * allow list reached them through "@clock" itself (with CAP_SYS_TIME), and a
 * denied call still named by another allowed group stays allowed.
 *
 * tsnspawn's default filter is a deny list (native/seccomp-list.h) of what
 * nspawn's allow list leaves out. The same outcome follows from three sets
 * of numbers per ABI: A0, what nspawn's default allows (for the kept
 * capabilities); A1, what it allows with the user's words; E, the deny
 * words' calls. Then the calls allowed beyond the default are A1 \ A0, and
 * the calls refused beyond it (A0 ∪ E) \ A1 (E's calls are refused by nspawn
 * unless A1 allows them, also where tsnspawn's deny list would not refuse
 * them by itself).
 *
 * The group table is systemd 257's (syscall-groups.ts); systemd 252's
 * differs only in lacking some newer calls and @sandbox (landlock_*,
 * seccomp), which 257 puts in @default.
 */
import { refuse } from '../util/errors.js';
import { SYSCALL_GROUPS } from './syscall-groups.js';
import { SYSCALL_ABIS, SYSCALL_NUMBERS, type SyscallAbi } from './syscall-numbers.js';

/** The user's words, as given (both lists may be empty). */
export interface SystemCallFilterWords {
  allow: string[];
  deny: string[];
}

/** For one ABI, what changes against the default filter (numbers as the ABI has them; x32 without its bit). */
export interface PlanSyscallRule {
  abi: SyscallAbi;
  allow: number[];
  deny: number[];
}

/** The most numbers one ABI takes, in the plan and in the helper (its bit maps; native/syscall-rules.h). */
export const SYSCALL_NR_LIMIT = 1024;

const GROUP_MEMBERS: ReadonlyMap<string, readonly string[]> = new Map(Object.entries(SYSCALL_GROUPS).map(([name, g]) => [name, g.members.split(' ')]));

/** For --system-call-filter=help: systemd's groups, one a line. */
export const SYSCALL_GROUP_NAMES: readonly string[] = [...GROUP_MEMBERS.keys()];

/**
 * nspawn's default allow list (add_syscall_filters in nspawn-seccomp.c,
 * systemd 252 to 256; 257 allows "seccomp" through @default's @sandbox):
 * an item and the capability it needs, if any.
 */
const NSPAWN_ALLOW: readonly (readonly [string, string?])[] = [
  ...['@aio', '@basic-io', '@chown', '@default', '@file-system', '@io-event', '@ipc', '@mount', '@network-io', '@process', '@resources', '@setuid', '@signal', '@sync', '@timer'].map(
    (g) => [g] as const,
  ),
  ['@clock', 'CAP_SYS_TIME'],
  ['@module', 'CAP_SYS_MODULE'],
  ['@raw-io', 'CAP_SYS_RAWIO'],
  ['@memlock', 'CAP_IPC_LOCK'],
  ...(
    'brk capget capset copy_file_range fadvise64 fadvise64_64 flock get_mempolicy getcpu getpriority getrandom ioctl ioprio_get kcmp madvise ' +
    'mincore mprotect mremap name_to_handle_at oldolduname olduname personality readahead readdir remap_file_pages sched_get_priority_max ' +
    'sched_get_priority_min sched_getaffinity sched_getattr sched_getparam sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 ' +
    'sched_yield seccomp sendfile sendfile64 setdomainname setfsgid setfsgid32 setfsuid setfsuid32 sethostname setpgid setsid splice sysinfo tee ' +
    'umask uname userfaultfd vmsplice'
  )
    .split(' ')
    .map((c) => [c] as const),
  ['acct', 'CAP_SYS_PACCT'],
  ['process_vm_readv', 'CAP_SYS_PTRACE'],
  ['process_vm_writev', 'CAP_SYS_PTRACE'],
  ['ptrace', 'CAP_SYS_PTRACE'],
  ['reboot', 'CAP_SYS_BOOT'],
  ['syslog', 'CAP_SYSLOG'],
  ['vhangup', 'CAP_SYS_TTY_CONFIG'],
];

/** Calls systemd knows (its groups, @known included), also ones no x86 ABI has (cacheflush, ...). */
const SYSTEMD_KNOWN: ReadonlySet<string> = new Set([...GROUP_MEMBERS.values()].flat().filter((m) => !m.startsWith('@')));

/** Checks one word: a group systemd has, or a call some ABI or systemd knows; else says which word. */
function checkWord(word: string): void {
  if (word.startsWith('@')) {
    if (!GROUP_MEMBERS.has(word)) refuse(`unknown system call group ${word} (--system-call-filter=help lists the groups)`);
  } else if (SYSCALL_NUMBERS[word] === undefined && !SYSTEMD_KNOWN.has(word)) {
    refuse(`unknown system call ${word}`);
  }
}

/**
 * One --system-call-filter= value (or SystemCallFilter= line) into its
 * words, as nspawn splits it: a leading '~' makes them deny words; words
 * are separated by blanks (no quoting). A word that is no call or group
 * is refused (nspawn would skip it), naming the word.
 */
export function parseSystemCallFilter(value: string): { deny: boolean; words: string[] } {
  const deny = value.startsWith('~');
  const words = (deny ? value.slice(1) : value).split(/[ \t\n\r]+/).filter((w) => w !== '');
  for (const w of words) checkWord(w);
  return { deny, words };
}

/** nspawn's seccomp_add_syscall_filter_item: the calls an item reaches, skipping every item named in exclude. */
function expand(item: string, exclude: ReadonlySet<string>, into: Set<string>): void {
  if (exclude.has(item)) return;
  const members = GROUP_MEMBERS.get(item);
  if (!members) into.add(item);
  else for (const m of members) expand(m, exclude, into);
}

function namesReached(items: readonly string[], exclude: ReadonlySet<string>): Set<string> {
  const into = new Set<string>();
  for (const i of items) expand(i, exclude, into);
  return into;
}

/** The default's items for the kept capabilities. */
function defaultItems(caps: readonly string[]): string[] {
  return NSPAWN_ALLOW.filter(([, cap]) => cap === undefined || caps.includes(cap)).map(([item]) => item);
}

/** The calls nspawn's filter allows by name, for the kept capabilities and the user's words (for tests, and the sets below). */
export function nspawnAllowedNames(caps: readonly string[], words: SystemCallFilterWords = { allow: [], deny: [] }): Set<string> {
  return namesReached([...defaultItems(caps), ...words.allow], new Set(words.deny));
}

/** The numbers of names on one ABI (a name the ABI lacks is skipped, as systemd does). */
function numbersOn(abiIndex: number, names: Iterable<string>): Set<number> {
  const out = new Set<number>();
  for (const n of names) {
    const nr = SYSCALL_NUMBERS[n]?.[abiIndex];
    if (nr !== undefined && nr >= 0) out.add(nr);
  }
  return out;
}

const sorted = (s: Iterable<number>): number[] => [...s].sort((a, b) => a - b);

/**
 * What the words change in the filter, per ABI, for the capabilities kept
 * (canonical names). Nothing (undefined) when there are no words. Throws a
 * UserError where the tables do not fit the host (not x86-64).
 */
export function syscallRules(words: SystemCallFilterWords, caps: readonly string[], arch: string = process.arch): PlanSyscallRule[] | undefined {
  if (words.allow.length === 0 && words.deny.length === 0) return undefined;
  if (arch !== 'x64') refuse(`--system-call-filter= works only on x86-64 for now (this is ${arch}): tsnspawn's system call tables cover its three ABIs`);
  const a0 = nspawnAllowedNames(caps);
  const a1 = nspawnAllowedNames(caps, words);
  const e = namesReached(words.deny, new Set());
  const rules = SYSCALL_ABIS.map((abi, i): PlanSyscallRule => {
    const [n0, n1, ne] = [numbersOn(i, a0), numbersOn(i, a1), numbersOn(i, e)];
    const allow = sorted([...n1].filter((n) => !n0.has(n)));
    const deny = sorted([...n0, ...ne].filter((n) => !n1.has(n)));
    for (const n of [...allow, ...deny]) if (n >= SYSCALL_NR_LIMIT) refuse(`--system-call-filter=: ${abi} call number ${n} is beyond the ${SYSCALL_NR_LIMIT} the helper takes`);
    return { abi, allow: [...new Set(allow)], deny: [...new Set(deny)] };
  });
  return rules.filter((r) => r.allow.length > 0 || r.deny.length > 0);
}
