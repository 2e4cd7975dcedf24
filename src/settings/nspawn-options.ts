/**
 * Every option of systemd-nspawn 252 (Debian 12) and 257 (Debian 13), with
 * what tsnspawn does with it: implemented (with nspawn's meaning), or refused
 * (one line saying why). The command line refuses the ones not implemented from here,
 * and the README's option table is printed from it (`node
 * dist/tools/option-table.js`; a unit test keeps the two equal).
 */

import { NSPAWN_KEYS, NSPAWN_KEYS_NOT_SUPPORTED } from './nspawn-keys.js';

export type Support =
  | { kind: 'implemented'; note?: string }
  | { kind: 'refused'; why: string };

export interface NspawnOption {
  /** As nspawn's manual spells them, e.g. "-D, --directory=". */
  names: string;
  /** The first of the two versions that has it. */
  since: 252 | 257;
  support: Support;
}

const yes = (note?: string): Support => ({ kind: 'implemented', ...(note ? { note } : {}) });
const no = (why: string): Support => ({ kind: 'refused', why });

const IMAGE_ONLY = no('not implemented: image policies and dm-verity (tsnspawn refuses images with verity partitions)');

export const NSPAWN_OPTIONS: readonly NspawnOption[] = [
  { names: '-h, --help', since: 252, support: yes() },
  { names: '--version', since: 252, support: yes() },
  { names: '-q, --quiet', since: 252, support: yes() },
  { names: '--no-pager', since: 252, support: yes('accepted; tsnspawn never starts a pager') },
  { names: '--no-ask-password', since: 257, support: yes('accepted; tsnspawn never asks for a password') },
  { names: '--settings=', since: 252, support: yes() },
  { names: '--cleanup', since: 257, support: no('tsnspawn leaves no mounts to clean up; a SIGKILLed run\'s record, cgroups and propagation directory are swept at the next start') },
  // Image
  { names: '-D, --directory=', since: 252, support: yes() },
  { names: '--template=', since: 252, support: yes('always a copy (reflinks where the file system can), never a btrfs snapshot') },
  { names: '-x, --ephemeral', since: 252, support: yes('an overlay on a tmpfs, never a copy') },
  { names: '-i, --image=', since: 252, support: yes('GPT images (root, /usr, /home, /srv, /var, /var/tmp partitions of this architecture) and plain file system images; LUKS and verity are refused') },
  { names: '--image-policy=', since: 257, support: IMAGE_ONLY },
  { names: '--oci-bundle=', since: 252, support: no('OCI bundles: tsnspawn runs whole OS trees (use runc or crun)') },
  { names: '--read-only', since: 252, support: yes() },
  { names: '--volatile[=MODE]', since: 252, support: yes('bare means yes') },
  { names: '--root-hash=', since: 252, support: IMAGE_ONLY },
  { names: '--root-hash-sig=', since: 252, support: IMAGE_ONLY },
  { names: '--verity-data=', since: 252, support: IMAGE_ONLY },
  { names: '--pivot-root=', since: 252, support: yes('also with -U, -x and --volatile (-x overlays the whole tree, then pivots, as nspawn\'s copy; --volatile applies to the new root)') },
  // Execution
  { names: '-a, --as-pid2', since: 252, support: yes() },
  { names: '-b, --boot', since: 252, support: yes() },
  { names: '--chdir=', since: 252, support: yes() },
  { names: '-E, --setenv=', since: 252, support: yes() },
  { names: '-u, --user=', since: 252, support: yes() },
  { names: '--kill-signal=', since: 252, support: yes() },
  { names: '--notify-ready=', since: 252, support: yes() },
  { names: '--suppress-sync=', since: 252, support: yes('also with SYSTEMD_SECCOMP=0 (then its rules are the whole filter)') },
  // System identity
  { names: '-M, --machine=', since: 252, support: yes() },
  { names: '--hostname=', since: 252, support: yes() },
  { names: '--uuid=', since: 252, support: yes() },
  // Properties
  { names: '-S, --slice=', since: 252, support: yes() },
  { names: '--property=', since: 252, support: yes('resource settings (MemoryMax, TasksMax, CPUQuota, ...)') },
  { names: '--register=', since: 252, support: yes() },
  { names: '--keep-unit', since: 252, support: yes() },
  // User namespacing
  { names: '--private-users[=MODE]', since: 252, support: yes('no, yes, identity, pick, UID[:COUNT]; bare means yes') },
  { names: '--private-users-ownership=', since: 252, support: yes('off, chown, map, auto (map: idmapped mounts; chown: the tree shifted on disk once, setuid bits, capabilities and ACLs kept; auto: map where the file system can, chown for a tree already shifted or on one without idmapped mounts) as nspawn') },
  { names: '--private-users-chown', since: 252, support: yes('as --private-users-ownership=chown') },
  { names: '-U', since: 252, support: yes('pick and auto: a free 64K range (first the one a chowned tree is owned by), the tree idmapped') },
  // Networking
  { names: '--private-network', since: 252, support: yes() },
  { names: '--network-interface=', since: 252, support: yes('moved back out when the container ends') },
  { names: '--network-macvlan=', since: 252, support: yes('bridge mode, mv-IF inside, MAC address from the machine name as nspawn\'s; IF:NAME (257) is refused') },
  { names: '--network-ipvlan=', since: 252, support: yes('L2 mode, iv-IF inside; IF:NAME (257) is refused') },
  { names: '-n, --network-veth', since: 252, support: yes() },
  { names: '--network-veth-extra=', since: 252, support: yes() },
  { names: '--network-bridge=', since: 252, support: yes() },
  { names: '--network-zone=', since: 252, support: yes() },
  { names: '--network-namespace-path=', since: 252, support: yes('with --private-network too: CAP_NET_ADMIN and a writable /proc/sys/net, as nspawn') },
  { names: '-p, --port=', since: 252, support: yes('nftables; IPv4 and IPv6, from other machines, the host\'s addresses and loopback (::1 too)') },
  // Security
  { names: '--capability=', since: 252, support: yes() },
  { names: '--drop-capability=', since: 252, support: yes() },
  { names: '--ambient-capability=', since: 252, support: yes('only capabilities in the bounding set; not with -b') },
  { names: '--no-new-privileges=', since: 252, support: yes() },
  { names: '--system-call-filter=', since: 252, support: yes('systemd 257\'s groups; an unknown call or group is refused, not skipped; =help lists the groups; x86-64 only') },
  { names: '-Z, --selinux-context=', since: 252, support: no('SELinux labels: not supported') },
  { names: '-L, --selinux-apifs-context=', since: 252, support: no('SELinux labels: not supported') },
  // Resources
  { names: '--rlimit=', since: 252, support: yes('a hard limit above tsnspawn\'s own is raised for -U as well') },
  { names: '--oom-score-adjust=', since: 252, support: yes('a negative score works with -U too') },
  { names: '--cpu-affinity=', since: 252, support: yes('CPUs the host does not have online, or the cgroup does not allow, are refused') },
  { names: '--personality=', since: 252, support: yes('the host\'s architecture or its 32-bit one (x86-64 and x86, arm64 and arm)') },
  // Integration
  { names: '--resolv-conf=', since: 252, support: yes() },
  { names: '--timezone=', since: 252, support: yes() },
  { names: '--link-journal=', since: 252, support: yes() },
  { names: '-j', since: 252, support: yes('--link-journal=try-guest') },
  // Mounts
  { names: '--bind=, --bind-ro=', since: 252, support: yes("options rbind, norbind, idmap, noidmap, rootidmap, owneridmap (the idmaps with -U; rootidmap: the source's owner is the container's root, owneridmap: the destination's owner, nobody else mapped, as nspawn 257, its gid mapped from the source's gid)") },
  { names: '--bind-user=', since: 252, support: yes("with -U: the home at /run/host/home/NAME, the host ids mapped to one of 60514..60577 in the user namespace's map, user and group records in /run/host/userdb for nss-systemd, as nspawn") },
  { names: '--inaccessible=', since: 252, support: yes() },
  { names: '--tmpfs=', since: 252, support: yes('options split into mount flags and tmpfs data, as nspawn') },
  { names: '--overlay=, --overlay-ro=', since: 252, support: yes() },
  // Input/output
  { names: '--console=', since: 252, support: yes() },
  { names: '-P, --pipe', since: 252, support: yes() },
  { names: '--background=', since: 257, support: no('not implemented: a terminal background colour') },
  // Credentials
  { names: '--load-credential=, --set-credential=', since: 252, support: yes('text only') },
];

export interface OptionName {
  short?: string;
  long?: string;
}

/** "-D, --directory=" and "--bind=, --bind-ro=" into their names. */
export function namesOf(entry: NspawnOption): OptionName[] {
  return entry.names.split(', ').reduce<OptionName[]>((out, part) => {
    const short = /^-([A-Za-z])$/.exec(part)?.[1];
    const long = /^--([a-z][a-z0-9-]*)/.exec(part)?.[1];
    if (short && out.length === 0) out.push({ short });
    else if (long && out.length === 1 && out[0]!.short && !out[0]!.long) out[0]!.long = long;
    else if (long) out.push({ long });
    else if (short) out.push({ short });
    return out;
  }, []);
}

/** The entry for a long option name (no dashes), or a short letter. */
export function findNspawnOption(name: { long?: string; short?: string }): NspawnOption | undefined {
  return NSPAWN_OPTIONS.find((o) => namesOf(o).some((n) => (name.long !== undefined && n.long === name.long) || (name.short !== undefined && n.short === name.short)));
}

/** The one line for an option tsnspawn does not take (undefined: implemented). */
export function refusalOf(entry: NspawnOption, spelled: string): string | undefined {
  const s = entry.support;
  if (s.kind === 'implemented') return undefined;
  return `${spelled} is not supported: ${s.why}`;
}

const statusText = (s: Support): string =>
  s.kind === 'implemented' ? `implemented${s.note ? `: ${s.note}` : ''}` : `refused: ${s.why}`;

/** What an untrusted file does with a key (nspawn's rules). */
const trustNote = (privileged: boolean | ((...a: never[]) => boolean)): string =>
  typeof privileged === 'function' ? ' (ignored in an untrusted file when it allows calls, as nspawn)' : privileged ? ' (ignored in an untrusted file, as nspawn)' : '';

/**
 * The README's tables: one row an option, then one a .nspawn key (a key
 * tsnspawn does not read has its option's status; a file using it gets a
 * warning naming it, and the rest of the file applies).
 */
export function optionTableMarkdown(): string {
  const options = NSPAWN_OPTIONS.map((o) => `| \`${o.names}\` | ${o.since === 252 ? '252, 257' : '257'} | ${statusText(o.support)} |`);
  const keys = [
    ...NSPAWN_KEYS.map((k) => `| \`[${k.name.replace('.', '] ')}=\` | implemented${trustNote(k.privileged)} |`),
    ...Object.entries(NSPAWN_KEYS_NOT_SUPPORTED).map(([key, option]) => {
      const entry = findNspawnOption({ long: option.replace(/^--/, '') });
      return `| \`[${key.replace('.', '] ')}=\` | ${entry ? statusText(entry.support) : 'not read'} (as \`${option}\`) |`;
    }),
  ];
  return [
    '| nspawn option | in nspawn | tsnspawn |',
    '|---|---|---|',
    ...options,
    '',
    '| .nspawn key | tsnspawn |',
    '|---|---|',
    ...keys,
  ].join('\n') + '\n';
}
