/**
 * Network options with systemd-nspawn's syntax and rules: -n/--network-veth,
 * --network-veth-extra=, --network-bridge=, --network-zone=, -p/--port=,
 * --network-interface=, --network-macvlan=, --network-ipvlan=,
 * --network-namespace-path=.
 * Each parser returns the value or refuses with one line naming the option.
 */
import { isAbsolute, resolve } from 'node:path';
import { refuse } from '../util/errors.js';
import type { Settings } from './model.js';

export interface VethExtraSpec {
  /** The host side's name, and the container side's (default: the same). */
  host: string;
  container: string;
}

export interface PortSpec {
  protocol: 'tcp' | 'udp';
  hostPort: number;
  containerPort: number;
}

/** The kernel's rule for a link name (systemd's ifname_valid): 1 to 15 bytes, no '/', ':', '%' or white space, not "." or "..". */
export function isValidIfname(name: string): boolean {
  return Buffer.byteLength(name) > 0 && Buffer.byteLength(name) < 16 && !/[\s/:%]/.test(name) && name !== '.' && name !== '..' && !/[^\x21-\x7e]/.test(name);
}

export function parseBridgeName(value: string, option = '--network-bridge'): string {
  if (!isValidIfname(value)) refuse(`invalid ${option}=${value}: a link name has 1 to 15 characters, none of them '/', ':', '%' or white space`);
  return value;
}

/** A zone's bridge is vz-ZONE, so the zone name has at most 12 characters. */
export function parseZoneName(value: string, option = '--network-zone'): string {
  if (!isValidIfname(`vz-${value}`) || value.length === 0) refuse(`invalid ${option}=${value}: the zone's bridge vz-${value} must be a valid link name (1 to 12 characters, none of them '/', ':', '%' or white space)`);
  return value;
}

/** --network-interface=IF, Interface=: a link name (the link must exist when the container starts). */
export function parseInterfaceName(value: string, option = '--network-interface'): string {
  if (!isValidIfname(value)) refuse(`invalid ${option}=${value}: a link name has 1 to 15 characters, none of them '/', ':', '%' or white space`);
  return value;
}

/**
 * --network-macvlan=IF, --network-ipvlan=IF (MACVLAN=, IPVLAN=): the host
 * link the new link sits on (nspawn 252's syntax; 257's IF:NAME, naming the
 * link inside, is refused rather than taken for a link name).
 */
export function parseVlanParent(value: string, option: '--network-macvlan' | '--network-ipvlan' | 'MACVLAN' | 'IPVLAN'): string {
  if (value.includes(':')) refuse(`invalid ${option}=${value}: give the host link alone (naming the link inside the container, IF:NAME, is not supported)`);
  if (!isValidIfname(value)) refuse(`invalid ${option}=${value}: a link name has 1 to 15 characters, none of them '/', ':', '%' or white space`);
  return value;
}

/** --network-namespace-path=PATH: made absolute from the working directory, as nspawn's parse_path_argument. */
export function parseNetnsPath(value: string): string {
  if (value === '') refuse('invalid --network-namespace-path=: give the path of a network namespace (e.g. /run/netns/NAME)');
  return isAbsolute(value) ? resolve(value) : resolve(process.cwd(), value);
}

/** HOSTIF[:CONTAINERIF] */
export function parseVethExtra(value: string, option = '--network-veth-extra'): VethExtraSpec {
  const [host = '', container = host, ...rest] = value.split(':');
  if (rest.length > 0 || !isValidIfname(host) || !isValidIfname(container))
    refuse(`invalid ${option}=${value}: use HOSTIF[:CONTAINERIF], link names of 1 to 15 characters without '/', ':', '%' or white space`);
  return { host, container };
}

function portNumber(text: string, value: string, option: string): number {
  const n = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!(n >= 1 && n <= 65535)) refuse(`invalid ${option}=${value}: '${text}' is not a port number (1 to 65535)`);
  return n;
}

/** [tcp|udp:]HOST[:CONTAINER] (nspawn's expose_port_parse). */
export function parsePort(value: string, option = '--port'): PortSpec {
  let protocol: PortSpec['protocol'] = 'tcp';
  let rest = value;
  const m = /^(tcp|udp):(.*)$/.exec(value);
  if (m) {
    protocol = m[1] as PortSpec['protocol'];
    rest = m[2] ?? '';
  }
  const parts = rest.split(':');
  if (parts.length > 2) refuse(`invalid ${option}=${value}: use [tcp|udp:]HOSTPORT[:CONTAINERPORT]`);
  const hostPort = portNumber(parts[0] ?? '', value, option);
  const containerPort = parts[1] === undefined ? hostPort : portNumber(parts[1], value, option);
  return { protocol, hostPort, containerPort };
}

/** A port forwarded twice is refused (nspawn: "Duplicate port specification"). */
export function addPort(list: PortSpec[], p: PortSpec, option = '--port'): void {
  if (list.some((q) => q.protocol === p.protocol && q.hostPort === p.hostPort)) refuse(`invalid ${option}: ${p.protocol} port ${p.hostPort} is forwarded twice`);
  list.push(p);
}

/**
 * Any of the network options: the container has a network namespace of its
 * own (and CAP_NET_ADMIN in it). --network-namespace-path alone is not one
 * (nspawn keeps no CAP_NET_ADMIN and /proc/sys/net read-only in a joined
 * namespace unless --private-network is given too).
 */
export function hasPrivateNetwork(s: Settings): boolean {
  return (
    s.privateNetwork || s.networkVeth || s.networkBridge !== undefined || s.networkZone !== undefined || s.networkVethExtra.length > 0 ||
    s.networkInterfaces.length > 0 || s.networkMacvlan.length > 0 || s.networkIpvlan.length > 0
  );
}

/** The container makes a network namespace of its own (rather than joining one, or keeping the host's). */
export function makesNetworkNamespace(s: Settings): boolean {
  return hasPrivateNetwork(s) && s.networkNamespacePath === undefined;
}

/** The options that give the container links of its own: none of them goes with --network-namespace-path (nspawn's rule). */
function linkOptionsGiven(s: Settings): string[] {
  return [
    ...(s.networkVeth ? ['--network-veth'] : []),
    ...(s.networkBridge !== undefined ? ['--network-bridge'] : []),
    ...(s.networkZone !== undefined ? ['--network-zone'] : []),
    ...(s.networkVethExtra.length > 0 ? ['--network-veth-extra'] : []),
    ...(s.networkInterfaces.length > 0 ? ['--network-interface'] : []),
    ...(s.networkMacvlan.length > 0 ? ['--network-macvlan'] : []),
    ...(s.networkIpvlan.length > 0 ? ['--network-ipvlan'] : []),
  ];
}

/** nspawn's cross-option rules, checked once the command line and the .nspawn file are merged. */
export function checkNetworkSettings(s: Settings): void {
  const withPath = linkOptionsGiven(s);
  if (s.networkNamespacePath !== undefined && withPath.length > 0)
    refuse(`cannot combine --network-namespace-path with ${withPath[0]}: a joined namespace keeps the links it has (set them up in it beforehand)`);
  if (s.networkBridge !== undefined && s.networkZone !== undefined) refuse('cannot combine --network-bridge with --network-zone: choose one');
  for (const [list, option] of [[s.networkMacvlan, '--network-macvlan'], [s.networkIpvlan, '--network-ipvlan']] as const) {
    const twice = list.find((n, i) => list.indexOf(n) !== i);
    if (twice !== undefined) refuse(`invalid ${option}: the link ${twice} is named twice (each gives one link inside)`);
  }
  if (s.ports.length > 0 && !(s.networkVeth || s.networkBridge !== undefined || s.networkZone !== undefined))
    refuse('cannot use --port without a virtual Ethernet link: add -n (--network-veth), --network-bridge= or --network-zone=');
  const hostNames = s.networkVethExtra.map((x) => x.host);
  const dup = hostNames.find((n, i) => hostNames.indexOf(n) !== i);
  if (dup !== undefined) refuse(`invalid --network-veth-extra: the host link ${dup} is named twice`);
  const moved = s.networkInterfaces.find((n, i) => s.networkInterfaces.indexOf(n) !== i);
  if (moved !== undefined) refuse(`invalid --network-interface: the link ${moved} is named twice`);
  const inside = s.networkVethExtra.map((x) => x.container);
  if (inside.includes('host0') && (s.networkVeth || s.networkBridge !== undefined || s.networkZone !== undefined))
    refuse('invalid --network-veth-extra: host0 is the name of the -n link inside the container (name the extra link otherwise)');
}

/** Links the monitor makes (a private network alone has only loopback). */
export function hasVethLinks(s: Settings): boolean {
  return s.networkVeth || s.networkBridge !== undefined || s.networkZone !== undefined || s.networkVethExtra.length > 0;
}

/** Links the monitor makes or moves in: the container's network needs the monitor's work. */
export function hasMonitorLinks(s: Settings): boolean {
  return hasVethLinks(s) || s.networkInterfaces.length > 0 || s.networkMacvlan.length > 0 || s.networkIpvlan.length > 0;
}

/** Links whose MAC addresses derive from the host's machine id (veth pairs, macvlan). */
export function hasDerivedMacs(s: Settings): boolean {
  return hasVethLinks(s) || s.networkMacvlan.length > 0;
}

/** The option that asked for links, for messages. */
export function networkOptionName(s: Settings): string {
  return s.networkBridge !== undefined
    ? '--network-bridge'
    : s.networkZone !== undefined
      ? '--network-zone'
      : s.networkVeth
        ? '--network-veth'
        : s.networkVethExtra.length > 0
          ? '--network-veth-extra'
          : '--network-macvlan';
}
