/**
 * One merge step: the command line's Settings and a .nspawn file's values
 * into the Settings the plan is built from, by nspawn's rules
 * (merge_settings() in nspawn.c):
 *
 * - a group the command line set is left alone (its whole group: --bind
 *   masks the file's TemporaryFileSystem= too), unless --settings=override;
 * - the file's value replaces the group's (lists too), except the
 *   capabilities, which add to and take from the set;
 * - a file that is not trusted has its privileged keys ignored, named in
 *   one warning.
 *
 * Pure: no files, no output.
 */
import type { Settings } from './model.js';
import type { FileGroup, FileValues } from './nspawn-keys.js';
import { RLIMIT_NAMES, type SecuritySettings } from './security.js';
import type { FileSettings, KeySeen } from './from-file.js';

export interface MergeOptions {
  /** Every key applies (/etc or /run, or --settings=trusted). */
  trusted: boolean;
  /** --settings=override: the file wins over the command line. */
  override: boolean;
}

export interface Merged {
  settings: Settings;
  warnings: string[];
}

interface GroupRule {
  /** Whether the file sets the group at all (an emptied list or Parameters= alone does not, as in nspawn). */
  present: (v: FileValues) => boolean;
  /** Writes the file's values into s (a copy: arrays are replaced, never changed in place). */
  apply: (s: Settings, v: FileValues, trusted: boolean) => void;
}

/** A field of Settings.security, replaced (the object is copied, never changed in place). */
const securityField = <K extends keyof SecuritySettings & keyof FileValues>(field: K): GroupRule => ({
  present: (v) => v[field] !== undefined,
  apply: (s, v) => void (s.security = { ...s.security, [field]: v[field] }),
});

const scalar = <K extends keyof FileValues & keyof Settings>(field: K): GroupRule => ({
  present: (v) => v[field] !== undefined,
  apply: (s, v) => void ((s as unknown as Record<K, unknown>)[field] = v[field]),
});

/** nspawn's merge, group by group. */
const GROUP_RULES: Readonly<Record<FileGroup, GroupRule>> = {
  'start-mode': {
    present: (v) => v.startMode !== undefined,
    apply: (s, v) => {
      s.boot = v.startMode === 'boot';
      s.asPid2 = v.startMode === 'as-pid2';
      s.command = v.parameters ?? [];
    },
  },
  ephemeral: scalar('ephemeral'),
  environment: { present: (v) => (v.environment?.length ?? 0) > 0, apply: (s, v) => void (s.environment = v.environment!) },
  user: scalar('user'),
  'working-directory': scalar('chdir'),
  capability: {
    // As nspawn: retain |= Capability (trusted only), then retain &= ~DropCapability; ambient |= AmbientCapability (trusted only).
    present: (v) => v.addCapabilities !== undefined || v.dropCapabilities !== undefined || v.ambientCapabilities !== undefined,
    apply: (s, v, trusted) => {
      const add = trusted ? (v.addCapabilities ?? []) : [];
      s.addCapabilities = [...s.addCapabilities, ...add];
      s.dropCapabilities = [...s.dropCapabilities.filter((c) => !add.includes(c)), ...(v.dropCapabilities ?? [])];
      if (trusted && v.ambientCapabilities) s.security = { ...s.security, ambientCapabilities: [...s.security.ambientCapabilities, ...v.ambientCapabilities] };
    },
  },
  'kill-signal': scalar('killSignal'),
  'machine-id': scalar('uuid'),
  hostname: scalar('hostname'),
  'notify-ready': scalar('notifyReady'),
  'read-only': scalar('readOnly'),
  volatile: scalar('volatile'),
  'suppress-sync': scalar('suppressSync'),
  // Both lists replace the command line's (nspawn's strv_free_and_replace).
  'syscall-filter': { present: (v) => v.systemCallFilter !== undefined, apply: (s, v) => void (s.systemCallFilter = v.systemCallFilter!) },
  'pivot-root': scalar('pivotRoot'),
  'custom-mounts': {
    present: (v) => [v.binds, v.tmpfs, v.overlays, v.inaccessible].some((l) => (l?.length ?? 0) > 0),
    apply: (s, v) => {
      s.binds = v.binds ?? [];
      s.tmpfs = v.tmpfs ?? [];
      s.overlays = v.overlays ?? [];
      s.inaccessible = v.inaccessible ?? [];
    },
  },
  'bind-user': { present: (v) => (v.bindUsers?.length ?? 0) > 0, apply: (s, v) => void (s.bindUsers = v.bindUsers ?? []) },
  userns: {
    present: (v) => v.privateUsers !== undefined || v.privateUsersOwnership !== undefined,
    apply: (s, v) => {
      if (v.privateUsers) s.privateUsers = v.privateUsers;
      if (v.privateUsersOwnership) s.privateUsersOwnership = v.privateUsersOwnership;
    },
  },
  // As nspawn: a file that sets any [Network] link key sets them all (unset ones to their defaults).
  network: {
    present: (v) => [v.privateNetwork, v.networkVeth, v.networkBridge, v.networkZone, v.networkVethExtra, v.networkInterfaces, v.networkMacvlan, v.networkIpvlan].some((x) => x !== undefined),
    apply: (s, v) => {
      s.privateNetwork = v.privateNetwork ?? false;
      s.networkVeth = v.networkVeth ?? false;
      s.networkVethExtra = v.networkVethExtra ?? [];
      s.networkInterfaces = v.networkInterfaces ?? [];
      s.networkMacvlan = v.networkMacvlan ?? [];
      s.networkIpvlan = v.networkIpvlan ?? [];
      s.networkNamespacePath = undefined;
      s.networkBridge = v.networkBridge;
      s.networkZone = v.networkZone;
    },
  },
  'expose-ports': { present: (v) => (v.ports?.length ?? 0) > 0, apply: (s, v) => void (s.ports = v.ports ?? []) },
  'resolv-conf': scalar('resolvConf'),
  timezone: scalar('timezone'),
  'link-journal': scalar('linkJournal'),
  'no-new-privileges': securityField('noNewPrivileges'),
  'oom-score-adjust': securityField('oomScoreAdjust'),
  'cpu-affinity': securityField('cpuAffinity'),
  personality: securityField('personality'),
  // One group a limit (nspawn's SETTING_RLIMIT_FIRST << NAME): --rlimit=NOFILE=... leaves the file's LimitNPROC= alone.
  ...(Object.fromEntries(
    RLIMIT_NAMES.map((name): [FileGroup, GroupRule] => [
      `rlimit-${name}`,
      {
        present: (v) => v.rlimits?.[name] !== undefined,
        apply: (s, v) => void (s.security = { ...s.security, rlimits: { ...s.security.rlimits, [name]: v.rlimits![name] } }),
      },
    ]),
  ) as Record<`rlimit-${(typeof RLIMIT_NAMES)[number]}`, GroupRule>),
};

export function mergeSettings(cmdline: Settings, file: FileSettings, opts: MergeOptions): Merged {
  const s: Settings = { ...cmdline, setByFile: new Set() };
  const ignored: KeySeen[] = [];
  for (const [group, rule] of Object.entries(GROUP_RULES) as [FileGroup, GroupRule][]) {
    if (!rule.present(file.values)) continue;
    if (cmdline.setOnCommandLine.has(group) && !opts.override) continue;
    const keys = file.seen.filter((k) => k.group === group);
    const applies = keys.filter((k) => opts.trusted || !k.privileged);
    if (!opts.trusted) ignored.push(...keys.filter((k) => k.privileged));
    if (applies.length === 0) continue;
    rule.apply(s, file.values, opts.trusted);
    s.setByFile.add(group);
  }
  // Named once each, in the order the file has them.
  const names = [...new Set(ignored.sort((a, b) => a.line - b.line).map((k) => `${k.key}=`))];
  const warnings =
    names.length === 0
      ? []
      : [
          `${file.path} is not trusted (only /etc/systemd/nspawn and /run/systemd/nspawn are): ignoring ${names.join(', ')} ` +
            '(they could give the container more privileges or access to the host; --settings=trusted applies them)',
        ];
  return { settings: s, warnings };
}
