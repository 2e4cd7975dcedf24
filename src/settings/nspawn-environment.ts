/**
 * systemd-nspawn's environment variables (systemd's docs/ENVIRONMENT.md),
 * read in one place with nspawn's meanings (src/nspawn/nspawn.c,
 * src/shared/discover-image.c of 252 and 257). They become settings like
 * options do, so the plan stays a pure function of Settings and facts.
 *
 * Every variable nspawn 252 or 257 reads is in the table: implemented with
 * nspawn's meaning, refused when set to what tsnspawn cannot do (the
 * SHARE_* ones), or taken with a warning where nspawn's extra does not
 * change what runs (SYSTEMD_NSPAWN_LOCK=1, SYSTEMD_LOG_SECCOMP=1).
 * (SYSTEMD_STATIC_DESTRUCT, a memory-debugging switch of nspawn's own
 * process, is not read.)
 *
 * nspawn refuses a bad value of most of them ("Failed to parse $NAME");
 * tsnspawn refuses a bad value of every one, also where nspawn would let it
 * pass (SYSTEMD_NSPAWN_LOCK, which nspawn treats as "lock",
 * SYSTEMD_NSPAWN_CHECK_OS_RELEASE without -b, which nspawn does not read,
 * SYSTEMD_SUPPRESS_SYNC and SYSTEMD_SECCOMP, which nspawn ignores, or takes
 * as "on"): a value we cannot read is never taken silently.
 */
import { refuse } from '../util/errors.js';
import { parseBooleanWord } from './values.js';

/** What /sys, /proc/sys and the /proc masks look like inside (nspawn's MOUNT_APPLY_APIVFS_RO and _NETNS). */
export type ApiVfsMode = 'read-only' | 'writable' | 'network-writable';

export interface NspawnEnvironment {
  /** The container's cgroup layout: undefined follows the host's (hybrid on a hybrid host). */
  cgroupLayout?: 'unified' | 'legacy';
  /** A cgroup namespace (where the kernel has them). */
  cgroupNamespace: boolean;
  /** read-only: /sys and /proc/sys read-only (with a private network /proc/sys/net writable); writable: all of it writable, no /proc masks; network-writable: only /proc/sys/net writable. */
  apiVfs: ApiVfsMode;
  /** A fresh tmpfs on /tmp; false leaves the tree's /tmp. */
  tmpfsTmp: boolean;
  /** -b refuses a tree without os-release. */
  checkOsRelease: boolean;
  /** nspawn's system call filter (false: SYSTEMD_SECCOMP=0). */
  seccomp: boolean;
  /** The service name given to machined (unset: tsnspawn's own). */
  containerService?: string;
  /** The container side's MAC address of the veth (host0), lower-case with colons; unset: derived as nspawn's. */
  networkMac?: string;
  /** SYSTEMD_SUPPRESS_SYNC: over --suppress-sync (nspawn reads it after the command line). */
  suppressSync?: boolean;
  /** Lock the tree as nspawn does (src/plan/tree-lock.ts). */
  lock: boolean;
  /** Set to something tsnspawn does not do but runs without: one warning each at the start. */
  ignored: string[];
}

export function defaultNspawnEnvironment(): NspawnEnvironment {
  return { cgroupNamespace: true, apiVfs: 'read-only', tmpfsTmp: true, checkOsRelease: true, seccomp: true, lock: true, ignored: [] };
}

interface Variable {
  name: string;
  /** Other names nspawn reads when this one is unset (older spellings). */
  aliases?: readonly string[];
  /** What a valid value is, for the error line. */
  takes: string;
  /** nspawn reads an empty value as unset (only UNIFIED_HIERARCHY; for the others "" is a bad boolean). */
  emptyIsUnset?: boolean;
  /** Sets the field from the value; undefined: not a valid value. */
  apply: (env: NspawnEnvironment, value: string) => true | undefined;
  /** For the README: what each value does. */
  meaning: string;
}

const BOOLEAN = 'a boolean (1, yes, true, on or 0, no, false, off)';

/** Runs set with the boolean, or says the value is bad. */
const boolean =
  (set: (env: NspawnEnvironment, on: boolean) => void) =>
  (env: NspawnEnvironment, value: string): true | undefined => {
    const b = parseBooleanWord(value);
    if (b === undefined) return undefined;
    set(env, b);
    return true;
  };

/** A namespace nspawn can leave shared with the host and tsnspawn cannot: true is refused, false is the default. */
const unshared =
  (name: string, what: string) =>
  (_env: NspawnEnvironment, value: string): true | undefined => {
    const on = parseBooleanWord(value);
    if (on) refuse(`cannot use ${name}=${value}: tsnspawn always gives the container ${what} of its own (unset it)`);
    return on === undefined ? undefined : true;
  };

/** nspawn's parse_ether_addr forms with ':' or '-' between the six bytes. */
function parseMac(value: string): string | undefined {
  const m = /^([0-9a-f]{2})([:-])([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})\2([0-9a-f]{2})$/i.exec(value);
  return m ? [m[1], m[3], m[4], m[5], m[6], m[7]].join(':').toLowerCase() : undefined;
}

export const NSPAWN_VARIABLES: readonly Variable[] = [
  {
    name: 'SYSTEMD_NSPAWN_UNIFIED_HIERARCHY',
    aliases: ['UNIFIED_CGROUP_HIERARCHY'],
    takes: BOOLEAN,
    emptyIsUnset: true,
    apply: boolean((env, on) => (env.cgroupLayout = on ? 'unified' : 'legacy')),
    meaning: "the container's cgroup layout: true: unified (cgroup2 at /sys/fs/cgroup); false: legacy (v1 controllers and name=systemd, no cgroup2); unset: the host's (hybrid on a hybrid host)",
  },
  {
    name: 'SYSTEMD_NSPAWN_USE_CGNS',
    takes: BOOLEAN,
    apply: boolean((env, on) => (env.cgroupNamespace = on)),
    meaning: "false: no cgroup namespace; the hierarchies are mounted whole, read-only but for the container's own cgroup, and /proc/self/cgroup shows the host's paths",
  },
  {
    name: 'SYSTEMD_NSPAWN_API_VFS_WRITABLE',
    takes: `network, or ${BOOLEAN}`,
    apply: (env, value) => {
      if (value === 'network') env.apiVfs = 'network-writable';
      else {
        const b = parseBooleanWord(value);
        if (b === undefined) return undefined;
        env.apiVfs = b ? 'writable' : 'read-only';
      }
      return true;
    },
    meaning: '`yes`: /sys, /proc/sys writable, and no /proc files masked or directories made read-only; `network`: /proc/sys/net writable (also without a private network: the host\'s), the rest read-only; `no`: the default',
  },
  {
    name: 'SYSTEMD_NSPAWN_TMPFS_TMP',
    takes: BOOLEAN,
    apply: boolean((env, on) => (env.tmpfsTmp = on)),
    meaning: "false: no tmpfs on /tmp; the tree's /tmp is used",
  },
  {
    name: 'SYSTEMD_NSPAWN_CHECK_OS_RELEASE',
    takes: BOOLEAN,
    apply: boolean((env, on) => (env.checkOsRelease = on)),
    meaning: '(257; 252 always checks) false: -b boots a tree without /etc/os-release or /usr/lib/os-release (e.g. an empty /etc with /usr bound in); without -b no os-release is asked for, as by nspawn',
  },
  {
    name: 'SYSTEMD_NSPAWN_LOCK',
    takes: BOOLEAN,
    apply: boolean((env, on) => (env.lock = on)),
    meaning: "false: the tree is not locked (nspawn's `.#NAME.lck` beside it and `/run/systemd/nspawn/locks/inode-DEV:INO`, exclusive, shared with --read-only, none with -x), so two containers may run it at once",
  },
  {
    name: 'SYSTEMD_NSPAWN_CONTAINER_SERVICE',
    takes: 'any text',
    apply: (env, value) => ((env.containerService = value), true),
    meaning: 'the service name registered with systemd-machined (`machinectl show -p Service`); unset: `tsnspawn` (nspawn\'s is `nspawn`)',
  },
  {
    name: 'SYSTEMD_NSPAWN_NETWORK_MAC',
    takes: 'a MAC address (six pairs of hex digits between `:` or `-`), not a multicast one',
    apply: (env, value) => {
      const mac = parseMac(value);
      // The low bit of the first byte marks a group address, which no link may have.
      if (mac === undefined || (parseInt(mac.slice(0, 2), 16) & 1) === 1) return undefined;
      // All zeros: nspawn derives one, as when unset.
      if (mac !== '00:00:00:00:00:00') env.networkMac = mac;
      return true;
    },
    meaning: "(257) the MAC address of the container's side of the veth (`host0`) with `-n`, `--network-bridge=`, `--network-zone=`; unset or all zeros: derived from the host's machine id and the name, as nspawn's",
  },
  {
    name: 'SYSTEMD_SUPPRESS_SYNC',
    takes: BOOLEAN,
    apply: boolean((env, on) => (env.suppressSync = on)),
    meaning: '`--suppress-sync=`, over the command line\'s (as nspawn, which reads it after); a `SuppressSync=` of a `.nspawn` file still applies when the command line has none',
  },
  {
    name: 'SYSTEMD_SECCOMP',
    takes: BOOLEAN,
    apply: boolean((env, on) => (env.seccomp = on)),
    meaning: "false: no system call filter (nspawn's allow list); `--suppress-sync=yes` rules are then the whole filter",
  },
  {
    name: 'SYSTEMD_LOG_SECCOMP',
    takes: BOOLEAN,
    apply: boolean((env, on) => {
      if (on) env.ignored.push('SYSTEMD_LOG_SECCOMP asks for an audit log of refused system calls, but tsnspawn does not log them');
    }),
    meaning: 'not implemented: refused system calls are not logged to the audit log; true is warned about',
  },
  // nspawn: true leaves the namespace the host's (SHARE_SYSTEM: all three).
  ...(
    [
      ['SYSTEMD_NSPAWN_SHARE_NS_IPC', 'an IPC namespace'],
      ['SYSTEMD_NSPAWN_SHARE_NS_PID', 'a PID namespace'],
      ['SYSTEMD_NSPAWN_SHARE_NS_UTS', 'a UTS namespace'],
      ['SYSTEMD_NSPAWN_SHARE_SYSTEM', 'IPC, PID and UTS namespaces'],
    ] as const
  ).map(([name, what]) => ({
    name,
    takes: BOOLEAN,
    apply: unshared(name, what),
    meaning: `not supported: true (nspawn: the host's instead of ${what} of the container's own) is refused; false is the default`,
  })),
];

/** The variables' settings from an environment (process.env); a bad value is refused naming the variable. */
export function readNspawnEnvironment(source: Readonly<Record<string, string | undefined>>): NspawnEnvironment {
  const env = defaultNspawnEnvironment();
  for (const v of NSPAWN_VARIABLES) {
    for (const name of [v.name, ...(v.aliases ?? [])]) {
      const value = source[name];
      if (value === undefined) continue;
      // nspawn: an empty UNIFIED_HIERARCHY is unset, and then the old name is not read either.
      if (value === '' && v.emptyIsUnset) break;
      if (!v.apply(env, value))
        refuse(`invalid value '${value}' of $${name}: it takes ${v.takes} (fix or unset it)`);
      break;
    }
  }
  return env;
}

/** The README's table of the variables (a unit test keeps README.md equal to it). */
export function environmentTableMarkdown(): string {
  const rows = NSPAWN_VARIABLES.map((v) => {
    const names = [v.name, ...(v.aliases ?? [])].map((n) => `\`${n}\``).join(', ');
    return `| ${names} | ${v.takes} | ${v.meaning.replace(/\|/g, '\\|')} |`;
  });
  return ['| variable | takes | what it sets |', '|---|---|---|', ...rows, ''].join('\n');
}
