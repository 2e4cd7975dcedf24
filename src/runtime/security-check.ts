/**
 * The payload's security and resource settings against the host and the
 * other options, before anything is touched (nspawn's verify_arguments()
 * for --ambient-capability; the rest so a value the kernel would refuse or
 * narrow without a word is refused here with one line).
 */
import { readFileSync } from 'node:fs';
import { retainedCapabilities, PRIVATE_NETWORK_CAPS } from '../plan/capabilities.js';
import { cpuListText, parseCpuAffinity } from '../settings/security.js';
import type { Settings } from '../settings/model.js';
import { hasPrivateNetwork } from '../settings/network.js';
import { refuse } from '../util/errors.js';

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** The host's CPUs that are online (/sys/devices/system/cpu/online, the kernel's list format). */
export function onlineCpus(): number[] | undefined {
  const list = readOr('/sys/devices/system/cpu/online');
  return list ? parseCpuAffinity(list) : undefined;
}

export function checkSecuritySettings(settings: Settings): void {
  const sec = settings.security;
  if (sec.ambientCapabilities.length > 0) {
    const ambient = sec.ambientCapabilities.join(',');
    if (settings.boot) refuse(`cannot use --ambient-capability=${ambient} with --boot: an init does not pass ambient capabilities on (as nspawn, it is for a command)`);
    const retained = retainedCapabilities([...settings.addCapabilities, ...(hasPrivateNetwork(settings) ? PRIVATE_NETWORK_CAPS : [])], settings.dropCapabilities);
    const missing = sec.ambientCapabilities.filter((c) => !retained.includes(c));
    if (missing.length > 0)
      refuse(`cannot use --ambient-capability=${ambient}: ${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} not in the container's bounding set (add --capability=${missing.join(',')})`);
  }
  if (sec.cpuAffinity) {
    const online = onlineCpus();
    const absent = online ? sec.cpuAffinity.filter((c) => !online.includes(c)) : [];
    if (online && absent.length > 0)
      refuse(`cannot use --cpu-affinity=${cpuListText(sec.cpuAffinity)}: the host has no CPU ${cpuListText(absent)} online (its CPUs: ${cpuListText(online)})`);
  }
  const nofile = sec.rlimits.NOFILE?.hard;
  const nrOpen = Number(readOr('/proc/sys/fs/nr_open'));
  if (typeof nofile === 'bigint' && nrOpen > 0 && nofile > BigInt(nrOpen))
    refuse(`cannot use --rlimit=NOFILE with a hard limit of ${nofile}: the kernel allows at most ${nrOpen} open files a process (fs.nr_open); use that or less`);
  if (sec.rlimits.NOFILE?.hard === 'infinity')
    refuse('cannot use --rlimit=NOFILE with a hard limit of infinity: the kernel takes no unlimited number of open files (give a number up to fs.nr_open)');
}
