/** The environment of the container's PID 1 (systemd's Container Interface). */

/**
 * What the guest is told its manager is ($container, /run/host/container-manager):
 * systemd-nspawn by default, because the guest sees nspawn's interface
 * (/run/host, the notify socket, machinectl bind's path, the same mounts),
 * and guest units and tools key on the name (ConditionVirtualization=
 * systemd-nspawn, systemd-detect-virt, networkd's container .network files);
 * --container-name=tsnspawn says tsnspawn (systemd-detect-virt: container-other).
 */
export const MANAGER_NAMES = ['systemd-nspawn', 'tsnspawn'] as const;
export type ManagerName = (typeof MANAGER_NAMES)[number];
export const DEFAULT_MANAGER_NAME: ManagerName = 'systemd-nspawn';
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const NOTIFY_SOCKET_PATH = '/run/host/notify';

/** os-release fields passed on as $container_host_<field lowercased> (nspawn passes these four). */
export const HOST_OS_RELEASE_FIELDS: readonly string[] = ['ID', 'VERSION_ID', 'BUILD_ID', 'VARIANT_ID'];

export interface EnvironmentInput {
  /** $container. */
  managerName: ManagerName;
  uuid: string;
  user: { name: string; home: string };
  /** $TERM for the payload: the host's for an interactive console, else a safe default. */
  term: string;
  /** Booting an init: no LANG (the guest's locale settings apply), as in nspawn. */
  boot: boolean;
  hostOsRelease: Record<string, string>;
  /** -E assignments, applied last so they win. */
  extra: readonly string[];
}

export function buildEnvironment(input: EnvironmentInput): string[] {
  const env = new Map<string, string>([
    ['PATH', DEFAULT_PATH],
    ['container', input.managerName],
    ['container_uuid', input.uuid],
    ['HOME', input.user.home],
    ['USER', input.user.name],
    ['LOGNAME', input.user.name],
    ['TERM', input.term],
    ['NOTIFY_SOCKET', NOTIFY_SOCKET_PATH],
  ]);
  if (!input.boot) env.set('LANG', 'C.UTF-8');
  for (const field of HOST_OS_RELEASE_FIELDS) {
    const v = input.hostOsRelease[field];
    if (v !== undefined) env.set(`container_host_${field.toLowerCase()}`, v);
  }
  for (const assignment of input.extra) {
    const eq = assignment.indexOf('=');
    env.set(assignment.slice(0, eq), assignment.slice(eq + 1));
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/** $TERM for the payload: the host's, as nspawn passes it on; vt220 (a pty's usual type) or dumb without one. */
export function payloadTerm(console: string, hostTerm: string | undefined): string {
  if (hostTerm) return hostTerm;
  return console === 'pipe' ? 'dumb' : 'vt220';
}
