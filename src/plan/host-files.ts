/**
 * Files the guest takes from the host, as systemd-nspawn sets them up:
 * --timezone (/etc/localtime), --resolv-conf (/etc/resolv.conf) and
 * --link-journal (/var/log/journal/MACHINE-ID). Pure: facts in, ops out;
 * host-side work for the journal (mkdir, symlink) is returned separately.
 */
import type { MountFlag, MountOp } from './types.js';

export const TIMEZONE_MODES = ['auto', 'off', 'copy', 'bind', 'symlink', 'delete'] as const;
export const RESOLV_CONF_MODES = [
  'auto', 'off', 'copy-host', 'copy-static', 'copy-uplink', 'copy-stub',
  'replace-host', 'replace-static', 'replace-uplink', 'replace-stub',
  'bind-host', 'bind-static', 'bind-uplink', 'bind-stub', 'delete',
] as const;
export const LINK_JOURNAL_MODES = ['auto', 'no', 'host', 'try-host', 'guest', 'try-guest'] as const;

export type TimezoneMode = (typeof TIMEZONE_MODES)[number];
export type ResolvConfMode = (typeof RESOLV_CONF_MODES)[number];
export type LinkJournalMode = (typeof LINK_JOURNAL_MODES)[number];

/** Host sources of resolv.conf by nspawn's names. */
export const RESOLV_CONF_SOURCES: Readonly<Record<string, string>> = {
  host: '/etc/resolv.conf',
  static: '/usr/lib/systemd/resolv.conf',
  uplink: '/run/systemd/resolve/resolv.conf',
  stub: '/run/systemd/resolve/stub-resolv.conf',
};

export interface HostFileFacts {
  /** The root (its /etc) can be written: not --read-only. */
  writable: boolean;
  /** The host's /etc/localtime: a zone name when it links into zoneinfo, 'file' for a plain file, undefined when absent. */
  hostZone?: string | 'file';
  /** The tree has /usr/share/zoneinfo/<hostZone>. */
  treeHasZone: boolean;
  /** The tree's /etc/localtime exists (as anything, a symlink included). */
  treeHasLocaltime: boolean;
  /** ... and is a symlink (a bind onto it would land on the file it names). */
  treeLocaltimeIsSymlink: boolean;
  /** Which of RESOLV_CONF_SOURCES exist on the host. */
  hostResolvSources: ReadonlySet<string>;
  /** The tree's /etc/resolv.conf exists (as anything). */
  treeHasResolvConf: boolean;
  privateNetwork: boolean;
}

const RO: MountFlag[] = ['ro', 'nosuid', 'nodev', 'mkdir'];

export function timezoneOps(mode: TimezoneMode, f: HostFileFacts): MountOp[] {
  let m: TimezoneMode = mode;
  if (m === 'auto') {
    if (f.hostZone === undefined) m = f.writable ? 'delete' : 'off';
    else if (f.hostZone === 'file') m = f.writable ? 'copy' : 'bind';
    else m = f.writable ? 'symlink' : 'bind';
  }
  if (m === 'symlink' && (f.hostZone === undefined || f.hostZone === 'file' || !f.treeHasZone)) m = f.hostZone ? 'bind' : 'off';
  switch (m) {
    case 'off':
      return [];
    case 'delete':
      return f.treeHasLocaltime ? [{ kind: 'unlink', path: '/etc/localtime', flags: ['optional'] }] : [];
    case 'symlink':
      return [
        { kind: 'unlink', path: '/etc/localtime', flags: ['optional'] },
        { kind: 'symlink', target: `../usr/share/zoneinfo/${f.hostZone}`, path: '/etc/localtime' },
      ];
    case 'copy':
      return [
        { kind: 'unlink', path: '/etc/localtime', flags: ['optional'] },
        { kind: 'copy', source: '/etc/localtime', target: '/etc/localtime', mode: 0o644, flags: [] },
      ];
    case 'bind': {
      if (f.hostZone === undefined) return [];
      const bind: MountOp = { kind: 'bind', source: '/etc/localtime', target: '/etc/localtime', flags: [...RO] };
      if (!f.treeLocaltimeIsSymlink) return [bind];
      // A bind onto a symlink would land on the zoneinfo file it names:
      // replace the link by a plain file first, or leave it on a read-only root.
      return f.writable ? [{ kind: 'unlink', path: '/etc/localtime', flags: ['optional'] }, bind] : [];
    }
    default:
      return [];
  }
}

export function resolvConfOps(mode: ResolvConfMode, f: HostFileFacts): MountOp[] {
  let m: ResolvConfMode = mode;
  if (m === 'auto') {
    if (f.privateNetwork) m = 'off';
    else if (f.hostResolvSources.has('host')) m = f.writable ? 'copy-host' : 'bind-host';
    else m = f.writable ? 'delete' : 'off';
  }
  if (m === 'off') return [];
  if (m === 'delete') return f.treeHasResolvConf ? [{ kind: 'unlink', path: '/etc/resolv.conf', flags: ['optional'] }] : [];
  const [how, which] = m.split('-') as ['copy' | 'replace' | 'bind', string];
  const source = RESOLV_CONF_SOURCES[which]!;
  if (!f.hostResolvSources.has(which)) return [];
  if (how === 'copy') return [{ kind: 'copy', source, target: '/etc/resolv.conf', mode: 0o644, flags: ['optional'] }];
  if (how === 'replace')
    return [
      { kind: 'unlink', path: '/etc/resolv.conf', flags: ['optional'] },
      { kind: 'copy', source, target: '/etc/resolv.conf', mode: 0o644, flags: [] },
    ];
  return [{ kind: 'bind', source, target: '/etc/resolv.conf', flags: [...RO] }];
}

export interface JournalPlan {
  ops: MountOp[];
  /** Host directory to create before the start (mode host/try-host). */
  hostDirectory?: string;
  /** Host symlink to create: path -> target (mode guest/try-guest). */
  hostSymlink?: { path: string; target: string };
}

export interface JournalFacts {
  machineId: string;
  root: string;
  /** The host has /var/log/journal. */
  hostHasJournal: boolean;
  /** What /var/log/journal/<id> is on the host now. */
  hostEntry: 'missing' | 'directory' | 'symlink-to-guest' | 'other';
}

export function journalPlan(mode: LinkJournalMode, f: JournalFacts): JournalPlan | 'refuse' {
  const hostPath = `/var/log/journal/${f.machineId}`;
  const guestPath = `/var/log/journal/${f.machineId}`;
  const guestDir: MountOp = { kind: 'mkdir', path: guestPath, mode: 0o2755 };
  const bind: MountOp = { kind: 'bind', source: hostPath, target: guestPath, flags: ['mkdir'] };
  switch (mode) {
    case 'no':
      return { ops: [] };
    case 'auto':
      if (f.hostEntry === 'symlink-to-guest') return { ops: [guestDir] };
      if (f.hostEntry === 'directory') return { ops: [bind] };
      return { ops: [] };
    case 'host':
    case 'try-host':
      if (!f.hostHasJournal || f.hostEntry === 'other' || f.hostEntry === 'symlink-to-guest') return mode === 'host' ? 'refuse' : { ops: [] };
      return { ops: [bind], hostDirectory: hostPath };
    case 'guest':
    case 'try-guest':
      if (!f.hostHasJournal || f.hostEntry === 'other' || f.hostEntry === 'directory') return mode === 'guest' ? 'refuse' : { ops: [] };
      return { ops: [guestDir], hostSymlink: { path: hostPath, target: `${f.root}${guestPath}` } };
  }
}
