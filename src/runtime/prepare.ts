/**
 * From Settings to a LaunchPlan: locate the tree, check every input against
 * it, gather facts about the host. Nothing is touched here; every refusal
 * happens before the helper starts.
 */
import { closeSync, constants, existsSync, fstatSync, openSync, readSync, statfsSync, statSync } from 'node:fs';
import type { Credential } from '../plan/credentials.js';
import { locateTree } from '../image/locate.js';
import type { DiskImage } from '../image/disk-image.js';
import { checkOsTree, hostOsReleasePath, readHostOsRelease, readTreeMachineId } from '../image/os-tree.js';
import { lookupUser } from '../image/users.js';
import { defaultShell, resolveCommand } from '../image/command.js';
import { buildPlan, treeLockOfFacts } from '../plan/build.js';
import type { TreeLock } from '../plan/tree-lock.js';
import { userNamespacePlan } from '../plan/userns.js';
import { bindUserMaps } from '../plan/bind-user.js';
import { bootOps } from '../plan/boot.js';
import { journalPlan, resolvConfOps, timezoneOps, type JournalPlan } from '../plan/host-files.js';
import { hostFileFacts, hostMachineId, journalFacts } from './host-file-facts.js';
import { findInit } from '../image/init.js';
import { prepareCgroup, type ContainerCgroup } from './cgroup.js';
import { cgroupMounts, containerLayout, ownMembership } from './cgroup-layout.js';
import { checkNspawnEnvironment } from './nspawn-environment-checks.js';
import type { LaunchPlan, PlanConsole } from '../plan/types.js';
import type { Settings } from '../settings/model.js';
import { isInContainer, machineNameFromDirectory, parseMachineName, sourcePathOf } from '../settings/values.js';
import { machineIdToUuid, parseUuidOption, randomUuid, type MachineUuid } from '../settings/uuid.js';
import { checkSecuritySettings } from './security-check.js';
import { refuse, UserError } from '../util/errors.js';
import { DEFAULT_PATH } from '../plan/environment.js';
import { pivotView, plainView, resolveInGuest, type GuestView } from '../image/pivot-view.js';
import { takeRebootState } from './handover.js';
import { inheritedListenFds } from './socket-activation.js';
import { withSettingsFile } from './with-settings-file.js';
import { nftPath, removeStalePortTables } from './port-tables.js';
import { checkNetworkSettings, hasDerivedMacs, hasPrivateNetwork, networkOptionName } from '../settings/network.js';
import { propagateDirOf } from './propagate.js';

function isDirectoryInTree(view: GuestView, inner: string): boolean {
  return resolveInGuest(view, inner)?.stat.isDirectory() ?? false;
}

export interface Prepared {
  /** A fresh plan for each (re)boot: the boot id changes every time. */
  makePlan: () => LaunchPlan;
  /** The lock files the monitor takes (none with -x or SYSTEMD_NSPAWN_LOCK=0), recorded so that a SIGKILL's are swept. */
  treeLock?: TreeLock;
  cgroup: ContainerCgroup;
  /** Host-side work for --link-journal, done right before the start. */
  journal: JournalPlan;
  machineName: string;
  uuid: MachineUuid;
  root: string;
  console: PlanConsole;
  settings: Settings;
  /** Started again by the supervisor after a guest reboot: the last boot's registration may still be on its way out. */
  resumed: boolean;
}

/** nspawn's choice of console mode: interactive on a terminal, else read-only. */
export function resolveConsole(settings: Settings, stdinTty: boolean, stdoutTty: boolean): PlanConsole {
  const mode = settings.console;
  switch (mode) {
    case undefined:
      return stdinTty && stdoutTty ? 'interactive' : 'read-only';
    case 'autopipe':
      return stdinTty && stdoutTty ? 'interactive' : 'pipe';
    case 'interactive':
      if (!stdinTty || !stdoutTty) refuse('cannot use --console=interactive: stdin and stdout must be terminals (use --console=read-only or pipe)');
      return 'interactive';
    default:
      return mode;
  }
}

/**
 * Sources of --bind/--overlay exist (on the host, or with '+' in the tree,
 * resolved as the container will see it; the helper resolves them again in
 * the kernel). A host upper must exist as nspawn's would; a '+' upper is
 * created in the tree, as nspawn does.
 */
function checkBinds(settings: Settings, view: GuestView): void {
  const where = (source: string): string => (isInContainer(source) ? "in the container's tree" : 'on the host');
  const exists = (source: string): boolean => (isInContainer(source) ? resolveInGuest(view, sourcePathOf(source)) !== undefined : existsSync(source));
  const isDirectory = (source: string): boolean => {
    if (isInContainer(source)) return isDirectoryInTree(view, sourcePathOf(source));
    try {
      return statSync(source).isDirectory();
    } catch {
      return false;
    }
  };
  for (const b of settings.binds) {
    if (!exists(b.source)) refuse(`cannot ${b.option}: the source ${sourcePathOf(b.source)} does not exist ${where(b.source)} (create it or fix the path)`);
    if (b.destination === '/') refuse(`cannot ${b.option}: the destination must not be the container's root`);
  }
  for (const t of settings.tmpfs) if (t.destination === '/') refuse(`cannot ${t.option}: the path must not be the container's root`);
  for (const o of settings.overlays) {
    const mustExist = [...o.lowers, ...(o.upper && !isInContainer(o.upper) ? [o.upper] : [])];
    for (const dir of mustExist) if (!isDirectory(dir)) refuse(`cannot ${o.option}: ${sourcePathOf(dir)} is not a directory ${where(dir)} (create it or fix the path)`);
    if (o.destination === '/') refuse(`cannot ${o.option}: the destination must not be the container's root (use -x or --volatile=overlay)`);
    // The root goes read-only only after the mounts: the upper would be made and written in the tree.
    if (o.upper && isInContainer(o.upper) && (settings.readOnly || settings.volatile === 'state'))
      refuse(`cannot ${o.option} with a read-only root: the upper tree ${sourcePathOf(o.upper)} would be written in the tree (give a host directory, or leave it empty for a throwaway one)`);
  }
}

/** The PATH the payload gets (and the helper searches): -E PATH=... wins over the default. */
function containerPath(settings: Settings): string {
  const set = settings.environment.filter((e) => e.startsWith('PATH=')).pop();
  return set ? set.slice('PATH='.length) : DEFAULT_PATH;
}

/** systemd's CREDENTIAL_SIZE_MAX: a credential larger than this is no credential. */
const CREDENTIAL_SIZE_MAX = 1024 * 1024;

/**
 * The credentials' values: --set-credential as given, --load-credential read
 * now from the host (a bare name from our own $CREDENTIALS_DIRECTORY, as
 * nspawn in a service with LoadCredential=). A name given twice is refused.
 * Messages name the option and the ID, never the value.
 */
function loadCredentials(settings: Settings): Credential[] {
  const seen = new Set<string>();
  return settings.credentials.map((c) => {
    if (seen.has(c.id)) refuse(`cannot use ${c.option}: the credential ${c.id} is given twice`);
    seen.add(c.id);
    if ('value' in c) return { id: c.id, value: c.value };
    const dir = process.env.CREDENTIALS_DIRECTORY;
    if (!c.path.startsWith('/') && !dir) refuse(`cannot use ${c.option}: '${c.path}' is a credential name, but tsnspawn has no $CREDENTIALS_DIRECTORY (give a path)`);
    const file = c.path.startsWith('/') ? c.path : `${dir}/${c.path}`;
    let value: Buffer;
    // Opened once and checked through the descriptor: a name swapped after
    // the check cannot make us read a FIFO (which would block) or /dev/zero.
    let fd: number | undefined;
    try {
      fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
      const st = fstatSync(fd);
      if (!st.isFile()) refuse(`cannot use ${c.option}: ${file} is not a regular file`);
      if (st.size > CREDENTIAL_SIZE_MAX) refuse(`cannot use ${c.option}: ${file} is larger than a credential may be (1 MiB)`);
      const buf = Buffer.alloc(CREDENTIAL_SIZE_MAX + 1);
      let n = 0;
      for (let got; n < buf.length && (got = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += got;
      if (n > CREDENTIAL_SIZE_MAX) refuse(`cannot use ${c.option}: ${file} is larger than a credential may be (1 MiB)`);
      value = buf.subarray(0, n);
    } catch (e) {
      if (e instanceof UserError) throw e;
      refuse(`cannot use ${c.option}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
    if (value.includes(0)) refuse(`cannot use ${c.option}: ${file} has a NUL byte (tsnspawn cannot pass those)`);
    return { id: c.id, value };
  });
}

/** Where the user's --bind/--overlay/--tmpfs mounts cover the tree. */
function userMountPoints(settings: Settings): string[] {
  return [...settings.binds, ...settings.overlays, ...settings.tmpfs].map((m) => m.destination);
}

/** --uuid, else the tree's machine id, else random (systemd then initialises an empty /etc/machine-id from it). */
function chooseUuid(settings: Settings, root: string): MachineUuid {
  if (settings.uuid !== undefined) return parseUuidOption(settings.uuid);
  const fromTree = readTreeMachineId(root);
  return (fromTree && machineIdToUuid(fromTree)) || randomUuid();
}

/** Whether this kernel has cgroup namespaces. */
function hasCgroupNamespace(): boolean {
  try {
    statSync('/proc/self/ns/cgroup');
    return true;
  } catch {
    return false;
  }
}

/** The tree's owner and file system, for -U (userns.ts). */
function treeOwnership(root: string): { uid: number; gid: number; fsType: number } {
  const st = statSync(root);
  return { uid: st.uid, gid: st.gid, fsType: Number(statfsSync(root).type) };
}

/** --template (src/image/template.ts): makes -D (or -M's directory) from the template if it does not exist yet. */
async function treeFromTemplate(cmdline: Settings, template: string): Promise<void> {
  if (cmdline.ephemeral) refuse(`cannot combine --template=${template} with --ephemeral: an ephemeral run leaves no tree to make (choose one)`);
  if (cmdline.tarball !== undefined) refuse(`cannot combine --template=${template} with --tarball: choose one`);
  const { populateFromTemplate, templateTarget } = await import('../image/template.js');
  const target = templateTarget(cmdline.directory, cmdline.machine, template);
  populateFromTemplate(template, target);
  cmdline.directory ??= target;
}

/** -i: refuses what nspawn refuses with it, then attaches and mounts the image (src/image/disk-image.ts). */
async function diskImage(settings: Settings): Promise<DiskImage> {
  const option = `--image=${settings.image}`;
  if (settings.directory !== undefined) refuse(`cannot combine ${option} with --directory: choose one`);
  if (settings.tarball !== undefined) refuse(`cannot combine ${option} with --tarball: choose one`);
  if (settings.template !== undefined) refuse(`cannot combine ${option} with --template: choose one`);
  // Nothing writes to the image in these modes: attached read-only, as systemd-nspawn does with --read-only.
  const readOnly = settings.readOnly || settings.ephemeral || settings.volatile === 'overlay';
  // Loaded only for -i: it brings node:child_process, which a plain start never loads (a few ms of every start).
  const { attachDiskImage } = await import('../image/disk-image.js');
  const image = await attachDiskImage(settings.image!, settings.machine, readOnly);
  // A file we may not write, or a root partition flagged read-only, gives a read-only root.
  if (image.rootReadOnly && !settings.ephemeral && settings.volatile !== 'overlay') settings.readOnly = true;
  return image;
}

export async function prepare(cmdline: Settings, tty: { stdin: boolean; stdout: boolean }): Promise<Prepared> {
  // --template first: the tree it makes is where NAME.nspawn is looked for.
  if (cmdline.template !== undefined) await treeFromTemplate(cmdline, cmdline.template);
  // NAME.nspawn first: every check below is of the merged settings.
  const settings = await withSettingsFile(cmdline);
  // Every option value is already parsed; now check them against the world.
  if (settings.uuid !== undefined) parseUuidOption(settings.uuid);
  if (settings.tarball !== undefined) {
    if (settings.directory !== undefined) refuse('cannot combine --tarball with --directory: choose one');
    if (settings.volatile !== 'no') refuse('cannot combine --tarball with --volatile: --tarball runs are already ephemeral');
    const { treeForTarball } = await import('../image/tarball-cache.js');
    const { nameFromArchive } = await import('../image/import/import-tar.js');
    settings.directory = await treeForTarball(settings.tarball, settings.quiet);
    settings.ephemeral = true;
    if (settings.machine === undefined) settings.machine = parseMachineName(machineNameFromDirectory(nameFromArchive(settings.tarball)));
    settings.machineFromTarball = true;
  }
  // After a guest reboot the supervisor ran us again: the same machine.
  const resumed = takeRebootState();
  // -i: the image's partitions, mounted where only the holder (then the monitor and the container) sees them.
  const image = settings.image !== undefined ? await diskImage(settings) : undefined;
  const located = image?.located ?? locateTree(settings.directory, settings.machine);
  // --pivot-root: the container's root is a directory of the tree; the checks of the OS (as nspawn's) and of the payload look there.
  const view = settings.pivotRoot ? pivotView(located.root, settings.pivotRoot) : plainView(located.root);
  const guestRoot = view.root;
  // As nspawn: an os-release is asked of a tree to boot only (and not with SYSTEMD_NSPAWN_CHECK_OS_RELEASE=0).
  checkOsTree(guestRoot, settings.pivotRoot ? '--pivot-root' : located.option, settings.boot && settings.nspawnEnvironment.checkOsRelease);
  // An ephemeral machine gets a random suffix, so many can run at once (as nspawn).
  const baseName = settings.machine ?? parseMachineName(image ? image.machineName : machineNameFromDirectory(located.root));
  const randomSuffix = settings.ephemeral && (!settings.machine || settings.machineFromTarball);
  const machineName = resumed?.machineName ?? (randomSuffix ? `${baseName.slice(0, 47)}-${randomUuid().plain.slice(0, 16)}` : baseName);
  if (settings.ephemeral && settings.volatile !== 'no') refuse('cannot combine --ephemeral with --volatile: choose one');
  checkBinds(settings, view);
  if (settings.asPid2 && settings.boot) refuse('cannot combine --as-pid2 with --boot: an init is PID 1 itself (choose one)');
  if (settings.unitProperties.length > 0 && settings.keepUnit)
    refuse('cannot use --slice/--property with --keep-unit (the unit tsnspawn runs in is used as it is)');
  const console = resolveConsole(settings, tty.stdin, tty.stdout);
  const user = lookupUser(guestRoot, settings.user);
  const init = settings.boot ? findInit(guestRoot) : undefined;
  const payload = init
    ? { exec: init, argv: [init, ...settings.command] }
    : settings.command.length > 0
      ? resolveCommand(guestRoot, settings.command, containerPath(settings), userMountPoints(settings))
      : defaultShell(guestRoot, user.shell);
  if (settings.boot && user.uid !== 0)
    refuse(`cannot combine --boot with --user=${settings.user}: init must run as root`);
  const uuid = resumed ? parseUuidOption(resumed.uuid) : chooseUuid(settings, guestRoot);
  // /etc can be written when the root is writable or a throwaway layer.
  const fileFacts = hostFileFacts(guestRoot, !settings.readOnly || settings.ephemeral || settings.volatile === 'overlay' || settings.volatile === 'yes', hasPrivateNetwork(settings));
  const hostFileOps = [...timezoneOps(settings.timezone, fileFacts), ...resolvConfOps(settings.resolvConf, fileFacts)];
  if (settings.linkJournal !== 'no' && uuid.plain === hostMachineId())
    refuse(`cannot use --link-journal=${settings.linkJournal}: the container's machine id ${uuid.plain} is the host's (give another --uuid, or --link-journal=no)`);
  const journal = journalPlan(settings.linkJournal, journalFacts(guestRoot, uuid.plain));
  if (journal === 'refuse')
    refuse(`cannot use --link-journal=${settings.linkJournal}: the host has no /var/log/journal, or /var/log/journal/${uuid.plain} is in the way (use try-${settings.linkJournal} or no)`);
  const plainUserns = settings.privateUsers.mode === 'no' ? undefined : userNamespacePlan(settings, treeOwnership(located.root), machineName, located.root);
  // --bind-user: the host users, checked against the tree and the range; their ids become holes in the map.
  // Loaded only then: it brings node:child_process (getent), which a plain start never loads.
  const bindUsers = settings.bindUsers.length > 0 ? (await import('./bind-user.js')).resolveBindUsers(settings.bindUsers, located.root, plainUserns) : [];
  const userns = plainUserns && bindUsers.length > 0 ? { ...plainUserns, bindUsers: bindUserMaps(bindUsers) } : plainUserns;
  checkNetworkSettings(settings);
  checkSecuritySettings(settings);
  const hostId = hostMachineId();
  if (hasDerivedMacs(settings) && !/^[0-9a-f]{32}$/.test(hostId ?? ''))
    refuse(`cannot use ${networkOptionName(settings)}: the links' MAC addresses derive from the host's machine id, and /etc/machine-id ${hostId === undefined ? 'is missing' : 'is not 32 hex digits'} (systemd-machine-id-setup makes one)`);
  if (settings.ports.length > 0) {
    if (!nftPath()) refuse('cannot use --port: nft is not installed (apt-get install nftables)');
    // A table left by a SIGKILLed tsnspawn (of this name or another) goes first.
    await removeStalePortTables();
  }
  checkNspawnEnvironment(settings);
  const cgroup = prepareCgroup(machineName);
  // $SYSTEMD_NSPAWN_USE_CGNS=0, or a kernel without them (as nspawn: then the variable changes nothing).
  const cgroupNamespace = settings.nspawnEnvironment.cgroupNamespace && hasCgroupNamespace();
  const cgroupOps = cgroupMounts(containerLayout(cgroup.layout, settings.nspawnEnvironment.cgroupLayout), ownMembership().controllers.keys(), cgroupNamespace);
  const facts = {
    root: image?.root ?? located.root,
    ...(image ? { imageHolder: image.holderPid, lockTarget: image.lockTarget } : {}),
    rootId: located.id,
    machineName,
    uuid: uuid.dashed,
    user,
    exec: payload.exec,
    argv: payload.argv,
    console,
    defaultCwd: settings.command.length === 0 && !settings.boot && isDirectoryInTree(view, user.home) ? user.home : '/',
    hostOsReleasePath: hostOsReleasePath(),
    hostOsRelease: readHostOsRelease(),
    hostTerm: process.env.TERM,
    cgroupNamespace,
    cgroupOps,
    hostFileOps: [...hostFileOps, ...journal.ops],
    credentials: loadCredentials(settings),
    listenFds: inheritedListenFds(process.env, process.pid),
    userns,
    ...(bindUsers.length > 0 ? { bindUsers } : {}),
    ...(hostId ? { hostMachineId: hostId } : {}),
    propagateDir: propagateDirOf(machineName),
  };
  const makePlan = (): LaunchPlan => buildPlan(settings, { ...facts, bootOps: settings.boot ? bootOps(randomUuid().dashed) : [] });
  const treeLock = treeLockOfFacts(settings, facts);
  return { makePlan, ...(treeLock ? { treeLock } : {}), cgroup, journal, machineName, uuid, root: image?.root ?? located.root, console, settings, resumed: resumed !== undefined };
}
