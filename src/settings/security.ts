/**
 * nspawn's security and resource options for the payload, with its names
 * and value syntax (systemd 252: nspawn.c, rlimit-util.c, cpu-set-util.c,
 * process-util.c): --no-new-privileges, --oom-score-adjust,
 * --cpu-affinity, --rlimit, --personality, --ambient-capability. Parsers
 * throw a UserError with the reason alone; the caller says which option
 * or key (inOption below, or the .nspawn warning).
 */
import { refuse, UserError } from '../util/errors.js';
import { parseCapabilityNames } from '../plan/capabilities.js';

/** The kernel's resource limits, by nspawn's names (rlimit_table), and how each value is read. */
export const RLIMITS = {
  CPU: 'seconds',
  FSIZE: 'bytes',
  DATA: 'bytes',
  STACK: 'bytes',
  CORE: 'bytes',
  RSS: 'bytes',
  NOFILE: 'count',
  AS: 'bytes',
  NPROC: 'count',
  MEMLOCK: 'bytes',
  LOCKS: 'count',
  SIGPENDING: 'count',
  MSGQUEUE: 'bytes',
  NICE: 'nice',
  RTPRIO: 'count',
  RTTIME: 'microseconds',
} as const;
export type RlimitName = keyof typeof RLIMITS;
export const RLIMIT_NAMES = Object.keys(RLIMITS) as RlimitName[];

/** A limit's value: a number (decimal, 64-bit) or no limit. */
export type RlimitValue = bigint | 'infinity';
export interface RlimitSpec {
  soft: RlimitValue;
  hard: RlimitValue;
}

/** The architectures --personality takes on this host: its own (PER_LINUX) and the 32-bit one it can run (PER_LINUX32), as nspawn's personality_from_string. */
export const PERSONALITIES: Readonly<Record<string, Record<string, 'linux' | 'linux32'>>> = {
  x64: { 'x86-64': 'linux', x86: 'linux32' },
  arm64: { arm64: 'linux', arm: 'linux32' },
};
export type PersonalityWord = string;

/** The settings of this file's options (Settings.security). */
export interface SecuritySettings {
  /** --no-new-privileges: PR_SET_NO_NEW_PRIVS for the payload. */
  noNewPrivileges: boolean;
  /** --oom-score-adjust: init's oom_score_adj (-1000..1000); undefined: inherited. */
  oomScoreAdjust?: number;
  /** --cpu-affinity: the CPUs the payload may run on, ascending; undefined: inherited. */
  cpuAffinity?: number[];
  /** --rlimit: by name; the others are inherited. */
  rlimits: Partial<Record<RlimitName, RlimitSpec>>;
  /** --personality: an architecture word of PERSONALITIES. */
  personality?: PersonalityWord;
  /** --ambient-capability: canonical names, raised into the payload's ambient set. */
  ambientCapabilities: string[];
}

export function defaultSecuritySettings(): SecuritySettings {
  return { noNewPrivileges: false, rlimits: {}, ambientCapabilities: [] };
}

/** Runs a parser and puts "invalid OPTION=VALUE: " before its reason. */
export function inOption<T>(option: string, value: string, parse: (v: string) => T): T {
  try {
    return parse(value);
  } catch (e) {
    if (e instanceof UserError) refuse(`invalid ${option}=${value}: ${e.message}`);
    throw e;
  }
}

/** nspawn's parse_oom_score_adjust: an integer from -1000 to 1000. */
export function parseOomScoreAdjust(value: string): number {
  if (!/^[+-]?\d{1,5}$/.test(value.trim()) || Math.abs(Number(value)) > 1000) refuse('use a whole number from -1000 to 1000');
  return Number(value);
}

/** The largest CPU number the kernel knows (NR_CPUS is at most 8192). */
export const CPU_MAX = 8191;

/** nspawn's parse_cpu_set: CPU numbers and ranges (0-3), separated by commas or blanks. */
export function parseCpuAffinity(value: string): number[] {
  const cpus = new Set<number>();
  const words = value.split(/[\s,]+/).filter(Boolean);
  if (words.length === 0) refuse('give CPU numbers or ranges, e.g. 0-3,5');
  for (const word of words) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(word);
    if (!m) refuse(`'${word}' is not a CPU number or range (e.g. 0-3,5)`);
    const from = Number(m[1]);
    const to = m[2] === undefined ? from : Number(m[2]);
    if (to < from) refuse(`the range ${word} runs backwards`);
    if (to > CPU_MAX) refuse(`CPU ${to} is beyond the largest the kernel can have (${CPU_MAX})`);
    for (let c = from; c <= to; c++) cpus.add(c);
  }
  return [...cpus].sort((a, b) => a - b);
}

/** CPU numbers as ranges: [0,1,2,5] -> "0-2,5" (the kernel's list format). */
export function cpuListText(cpus: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < cpus.length; i++) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    parts.push(i === j ? String(cpus[i]) : `${cpus[i]}-${cpus[j]}`);
    i = j;
  }
  return parts.join(',');
}

/** rlimit_from_string_harder: NOFILE, RLIMIT_NOFILE or LimitNOFILE. */
export function rlimitName(word: string): RlimitName {
  const bare = word.replace(/^RLIMIT_/, '').replace(/^Limit/, '');
  if (!(bare in RLIMITS)) refuse(`unknown resource limit '${word}' (use one of ${RLIMIT_NAMES.join(', ')}, with or without RLIMIT_)`);
  return bare as RlimitName;
}

const U64_INFINITY = (1n << 64n) - 1n;

/** parse_size with base 1024: a number with an optional fraction and suffix B, K, M, G, T, P, E. */
function parseBytes(text: string): bigint {
  const m = /^(\d+)(?:\.(\d+))?\s*([KMGTPE]?)B?$/.exec(text);
  if (!m) refuse(`'${text}' is not a size (e.g. 512K, 8M, 1G)`);
  const factor = 1024n ** BigInt(' KMGTPE'.indexOf(m[3] || ' '));
  const frac = m[2] ? (BigInt(m[2]) * factor) / 10n ** BigInt(m[2].length) : 0n;
  return BigInt(m[1]!) * factor + frac;
}

/** Time spans as systemd writes them (parse_sec/parse_time): a number of the default unit, or with usec, ms, s, min, h, d, w. */
const USEC_PER: Readonly<Record<string, bigint>> = {
  us: 1n, usec: 1n, ms: 1000n, msec: 1000n, s: 1_000_000n, sec: 1_000_000n, m: 60_000_000n, min: 60_000_000n,
  h: 3_600_000_000n, hr: 3_600_000_000n, d: 86_400_000_000n, w: 604_800_000_000n,
};

function parseMicroseconds(text: string, defaultUnit: bigint): bigint {
  const m = /^(\d+)\s*([a-z]*)$/.exec(text);
  const unit = m ? (m[2] === '' ? defaultUnit : USEC_PER[m[2]!]) : undefined;
  if (!m || unit === undefined) refuse(`'${text}' is not a time span (e.g. 30, 30s, 5min)`);
  return BigInt(m[1]!) * unit;
}

/** One value of a limit, read as its resource's unit (rlimit_parse_table). */
function parseRlimitValue(name: RlimitName, text: string): RlimitValue {
  if (text === 'infinity') return 'infinity';
  let v: bigint;
  switch (RLIMITS[name]) {
    case 'count':
      if (!/^\d+$/.test(text)) refuse(`'${text}' is not a whole number or "infinity"`);
      v = BigInt(text);
      break;
    case 'bytes':
      v = parseBytes(text);
      break;
    case 'seconds':
      // Whole seconds, rounded up.
      v = (parseMicroseconds(text, 1_000_000n) + 999_999n) / 1_000_000n;
      break;
    case 'microseconds':
      v = parseMicroseconds(text, 1n);
      break;
    case 'nice': {
      // +N / -N: a nice level (19 .. -20, as 1 .. 40); bare: the kernel's raw value 0..40.
      const m = /^([+-]?)(\d+)$/.exec(text);
      if (!m) refuse(`'${text}' is not a nice level (-20..19, with its sign) or a raw value (0..40)`);
      const n = Number(m[2]);
      const max = m[1] === '+' ? 19 : m[1] === '-' ? 20 : 40;
      if (n > max) refuse(`'${text}' is out of range (nice levels -20..+19, raw 0..40)`);
      v = BigInt(m[1] === '+' ? 20 - n : m[1] === '-' ? 20 + n : n);
      break;
    }
  }
  if (v >= U64_INFINITY) refuse(`'${text}' is too large (use "infinity")`);
  return v;
}

const le = (a: RlimitValue, b: RlimitValue): boolean => b === 'infinity' || (a !== 'infinity' && a <= b);

/** rlimit_parse: SOFT[:HARD]; without HARD both are SOFT; SOFT may not exceed HARD. */
export function parseRlimitValues(name: RlimitName, value: string): RlimitSpec {
  const parts = value.split(':');
  if (parts.length > 2 || parts[0] === '') refuse('use SOFT or SOFT:HARD (numbers or "infinity")');
  const soft = parseRlimitValue(name, parts[0]!);
  const hard = parts.length === 2 ? parseRlimitValue(name, parts[1]!) : soft;
  if (!le(soft, hard)) refuse('the soft limit is above the hard one');
  return { soft, hard };
}

/** --rlimit=NAME=SOFT[:HARD] */
export function parseRlimit(value: string): { name: RlimitName; spec: RlimitSpec } {
  const eq = value.indexOf('=');
  if (eq < 0) refuse('use NAME=SOFT[:HARD], e.g. NOFILE=1024:4096');
  const name = rlimitName(value.slice(0, eq));
  return { name, spec: parseRlimitValues(name, value.slice(eq + 1)) };
}

/** The text of a limit value on the wire and in messages. */
export const rlimitText = (v: RlimitValue): string => (v === 'infinity' ? 'infinity' : v.toString());

/** --personality: an architecture this host runs (nspawn refuses others as "unknown or unsupported"). */
export function parsePersonality(value: string, arch: string = process.arch): PersonalityWord {
  const words = PERSONALITIES[arch] ?? {};
  if (!(value in words))
    refuse(Object.keys(words).length ? `this host runs ${Object.keys(words).join(' and ')} only` : `tsnspawn knows no personalities for this host's architecture (${arch})`);
  return value;
}

/** --ambient-capability: names as --capability takes them, but not "all" (nspawn refuses it too). */
export function parseAmbientCapabilities(value: string): string[] {
  if (value.split(',').some((w) => w.trim().toLowerCase() === 'all')) refuse('"all" is not allowed for ambient capabilities (name them)');
  const r = parseCapabilityNames(value);
  if ('unknown' in r) refuse(`unknown capability '${r.unknown}' (use names such as CAP_NET_BIND_SERVICE, see capabilities(7))`);
  return r.names;
}
