/**
 * systemd-nspawn's environment variables (systemd's docs/ENVIRONMENT.md),
 * read in one place with nspawn's meanings (src/nspawn/nspawn.c,
 * src/shared/discover-image.c of 252 and 257). They become settings like
 * options do, so the plan stays a pure function of Settings and facts.
 *
 * nspawn refuses a bad value of most of them ("Failed to parse $NAME");
 * tsnspawn refuses a bad value of every one, also where nspawn would let it
 * pass (SYSTEMD_NSPAWN_LOCK, which nspawn treats as "lock", and
 * SYSTEMD_NSPAWN_CHECK_OS_RELEASE without -b, which nspawn does not read):
 * a value we cannot read is never taken silently.
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
  /** Lock the tree as nspawn does (src/plan/tree-lock.ts). */
  lock: boolean;
}

export function defaultNspawnEnvironment(): NspawnEnvironment {
  return { cgroupNamespace: true, apiVfs: 'read-only', tmpfsTmp: true, checkOsRelease: true, lock: true };
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
    meaning: 'false: -b boots a tree without /etc/os-release or /usr/lib/os-release (e.g. an empty /etc with /usr bound in); without -b no os-release is asked for, as by nspawn',
  },
  {
    name: 'SYSTEMD_NSPAWN_LOCK',
    takes: BOOLEAN,
    apply: boolean((env, on) => (env.lock = on)),
    meaning: "false: the tree is not locked (nspawn's `.#NAME.lck` beside it and `/run/systemd/nspawn/locks/inode-DEV:INO`, exclusive, shared with --read-only, none with -x), so two containers may run it at once",
  },
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
