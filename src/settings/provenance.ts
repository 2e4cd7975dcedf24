/**
 * Who set what: nspawn's SettingsMask. Each group is one bit of nspawn's
 * mask; a command line option that sets a group masks the whole group in a
 * .nspawn file (e.g. any --bind drops the file's Bind=, TemporaryFileSystem=
 * and Overlay= together, as nspawn replaces its list of custom mounts whole).
 */

export const SETTING_GROUPS = [
  'start-mode', // -b, -a, a COMMAND; Boot=, ProcessTwo=, Parameters=
  'ephemeral', // -x; Ephemeral=
  'environment', // -E; Environment=
  'user', // -u; User=
  'working-directory', // --chdir; WorkingDirectory=
  'capability', // --capability, --drop-capability, --ambient-capability; Capability=, DropCapability=, AmbientCapability=
  'kill-signal', // --kill-signal; KillSignal=
  'machine-id', // --uuid; MachineID=
  'hostname', // --hostname; Hostname=
  'notify-ready', // --notify-ready; NotifyReady=
  'read-only', // --read-only; ReadOnly=
  'volatile', // --volatile; Volatile=
  'custom-mounts', // --bind, --bind-ro, --tmpfs, --overlay, --overlay-ro; Bind=, ... Overlay=
  'network', // --private-network, -n, --network-veth-extra, --network-bridge, --network-zone; Private=, VirtualEthernet=, ...
  'expose-ports', // -p; Port=
  'resolv-conf', // --resolv-conf; ResolvConf=
  'timezone', // --timezone; Timezone=
  'link-journal', // --link-journal; LinkJournal=
  'userns', // -U, --private-users, --private-users-ownership; PrivateUsers=, PrivateUsersOwnership=
  'bind-user', // --bind-user; BindUser=
  'no-new-privileges', // --no-new-privileges; NoNewPrivileges=
  'oom-score-adjust', // --oom-score-adjust; OOMScoreAdjust=
  'cpu-affinity', // --cpu-affinity; CPUAffinity=
  'personality', // --personality; Personality=
  'suppress-sync', // --suppress-sync; SuppressSync=
  'syscall-filter', // --system-call-filter; SystemCallFilter=
  'pivot-root', // --pivot-root; PivotRoot=
  // --rlimit=NAME=...; LimitNAME=: one group a limit, as nspawn's SETTING_RLIMIT_FIRST << NAME.
  'rlimit-CPU', 'rlimit-FSIZE', 'rlimit-DATA', 'rlimit-STACK', 'rlimit-CORE', 'rlimit-RSS', 'rlimit-NOFILE', 'rlimit-AS',
  'rlimit-NPROC', 'rlimit-MEMLOCK', 'rlimit-LOCKS', 'rlimit-SIGPENDING', 'rlimit-MSGQUEUE', 'rlimit-NICE', 'rlimit-RTPRIO', 'rlimit-RTTIME',
  // Set only on the command line (no .nspawn key), recorded all the same.
  'directory',
  'console',
  'slice',
  'credentials',
] as const;

export type SettingGroup = (typeof SETTING_GROUPS)[number];

/**
 * --settings=: yes (default: read the file, trust it by where it is, the
 * command line wins), no (no file), override (the file wins), trusted (every
 * key applies wherever the file is).
 */
export const SETTINGS_FILE_MODES = ['yes', 'no', 'override', 'trusted'] as const;
export type SettingsFileMode = (typeof SETTINGS_FILE_MODES)[number];
