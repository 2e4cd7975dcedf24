/**
 * The combinations of nspawn's environment variables with options that
 * nspawn refuses, or that tsnspawn cannot do: refused before anything is
 * touched, naming the variable.
 */
import type { Settings } from '../settings/model.js';
import { hasPrivateNetwork } from '../settings/network.js';
import { refuse } from '../util/errors.js';
import { warn } from '../util/log.js';

export function checkNspawnEnvironment(settings: Settings): void {
  const env = settings.nspawnEnvironment;
  for (const message of env.ignored) warn(message);
  // nspawn gives it to host0 only, the veth of -n, --network-bridge= and --network-zone=.
  if (env.networkMac !== undefined && !settings.networkVeth && settings.networkBridge === undefined && settings.networkZone === undefined)
    warn('SYSTEMD_NSPAWN_NETWORK_MAC is set, but this container has no veth (-n, --network-bridge=, --network-zone=): it changes nothing');
  if (settings.privateUsers.mode === 'no') return;
  // nspawn's own rules ("Cannot combine --private-users with read-write mounts", and a sysfs of the host's network).
  if (env.apiVfs === 'writable')
    refuse('cannot combine SYSTEMD_NSPAWN_API_VFS_WRITABLE=yes with --private-users: a user namespace cannot have /sys and /proc/sys writable (unset it)');
  if (env.apiVfs === 'network-writable' && !hasPrivateNetwork(settings))
    refuse('cannot combine SYSTEMD_NSPAWN_API_VFS_WRITABLE=network with --private-users without a private network (add --private-network or -n)');
  // The cgroup file systems are mounted inside the user namespace, which may mount only those of a cgroup namespace of its own.
  if (!env.cgroupNamespace)
    refuse('cannot combine SYSTEMD_NSPAWN_USE_CGNS=0 with --private-users: tsnspawn mounts the cgroup file systems inside the user namespace, which needs a cgroup namespace (unset it)');
}
