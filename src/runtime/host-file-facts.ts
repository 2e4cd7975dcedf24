/** Facts for --timezone, --resolv-conf and --link-journal, read from the host and the tree. */
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { resolveInRoot } from '../image/in-root.js';
import { RESOLV_CONF_SOURCES, type HostFileFacts, type JournalFacts } from '../plan/host-files.js';

function lexists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** The zone the host's /etc/localtime names ("Europe/Berlin"), 'file', or undefined. */
export function hostZone(): string | 'file' | undefined {
  try {
    const target = readlinkSync('/etc/localtime');
    const m = target.match(/(?:^|\/)zoneinfo\/(.+)$/);
    return m ? m[1] : 'file';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EINVAL' ? 'file' : undefined;
  }
}

export function hostFileFacts(root: string, writable: boolean, privateNetwork: boolean): HostFileFacts {
  const zone = hostZone();
  const localtime = `${root}/etc/localtime`;
  let localtimeIsSymlink = false;
  try {
    localtimeIsSymlink = lstatSync(localtime).isSymbolicLink();
  } catch {
    /* absent */
  }
  const sources = new Set(Object.entries(RESOLV_CONF_SOURCES).filter(([, p]) => existsSync(p)).map(([k]) => k));
  return {
    writable,
    hostZone: zone,
    treeHasZone: zone !== undefined && zone !== 'file' && resolveInRoot(root, `/usr/share/zoneinfo/${zone}`)?.stat.isFile() === true,
    treeHasLocaltime: lexists(localtime),
    treeLocaltimeIsSymlink: localtimeIsSymlink,
    hostResolvSources: sources,
    treeHasResolvConf: lexists(`${root}/etc/resolv.conf`),
    privateNetwork,
  };
}

export function journalFacts(root: string, machineId: string): JournalFacts {
  const hostPath = `/var/log/journal/${machineId}`;
  let hostEntry: JournalFacts['hostEntry'] = 'missing';
  try {
    const st = lstatSync(hostPath);
    if (st.isDirectory()) hostEntry = 'directory';
    else if (st.isSymbolicLink() && readlinkSync(hostPath) === `${root}${hostPath}`) hostEntry = 'symlink-to-guest';
    else hostEntry = 'other';
  } catch {
    /* missing */
  }
  let hostHasJournal = false;
  try {
    hostHasJournal = statSync('/var/log/journal').isDirectory();
  } catch {
    /* none */
  }
  return { machineId, root, hostHasJournal, hostEntry };
}

export function hostMachineId(): string | undefined {
  try {
    return readFileSync('/etc/machine-id', 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
