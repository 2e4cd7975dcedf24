/**
 * The container's network links, named and addressed as systemd-nspawn
 * does (src/nspawn/nspawn-network.c), so systemd-networkd's stock
 * 80-container-host0.network (inside) and 80-container-ve.network /
 * 80-container-vb.network / 80-container-vz.network (outside) match, and a
 * machine keeps its MAC addresses from one run to the next. Pure: the host's
 * machine id comes in as a fact. The helper's monitor makes the links
 * (native/network.c).
 */
import { siphash24 } from './siphash.js';
import type { PlanNetwork, PlanVeth, PlanVlan } from './types.js';
import type { Settings } from '../settings/model.js';
import { hasMonitorLinks } from '../settings/network.js';

/** nspawn's fixed, once randomly chosen, hash keys. */
const HASH_KEYS = {
  host: '1a376fc746ec450bada3d53106605db1',
  container: 'c3c4f919b557b21ce6cf1427039ceea2',
  vethExtraHost: '48c7f6b7ea9d4c9eb728d4de91d5bf66',
  vethExtraContainer: 'af501761cef94d35840d2b2054bece59',
  macvlan: '00136dbc66834481bb0cf9511f24a66f',
  shortenIfname: 'e190a404a8ef4b518cccc33a9f11fca2',
} as const;

/** The kernel's IFNAMSIZ: names have at most 15 bytes. */
export const IFNAMSIZ = 16;

const key = (hex: string): Uint8Array => Buffer.from(hex, 'hex');

const URLSAFE_BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * A name too long for IFNAMSIZ keeps its first 11 bytes and gets 4
 * characters of its hash (nspawn's NAMING_NSPAWN_LONG_HASH, systemd 250 on);
 * the full name becomes the link's alternative name.
 */
export function shortenIfname(name: string): string {
  const bytes = Buffer.from(name);
  if (bytes.length < IFNAMSIZ) return name;
  const h = siphash24(bytes, key(HASH_KEYS.shortenIfname));
  const c = (shift: bigint): string => URLSAFE_BASE64[Number((h >> shift) & 63n)] ?? '';
  return bytes.subarray(0, IFNAMSIZ - 5).toString('latin1') + c(18n) + c(12n) + c(6n) + c(0n);
}

/**
 * generate_mac(): siphash24 of the host's machine id (16 bytes), the
 * machine name and, for an extra link, its index (little-endian 64 bits),
 * the low six bytes of the result, marked locally administered and unicast.
 */
export function containerMac(hostMachineId: string, machineName: string, hashKey: keyof typeof HASH_KEYS, index = 0): string {
  const parts = [Buffer.from(hostMachineId, 'hex'), Buffer.from(machineName)];
  if (index > 0) {
    const idx = Buffer.alloc(8);
    idx.writeBigUInt64LE(BigInt(index));
    parts.push(idx);
  }
  const h = siphash24(Buffer.concat(parts), key(HASH_KEYS[hashKey]));
  const le = Buffer.alloc(8);
  le.writeBigUInt64LE(h);
  const mac = [...le.subarray(0, 6)];
  mac[0] = ((mac[0] ?? 0) & 0xfe) | 0x02;
  return mac.map((b) => b.toString(16).padStart(2, '0')).join(':');
}

export interface NetworkFacts {
  machineName: string;
  /** The host's /etc/machine-id (32 hex digits). */
  hostMachineId: string;
}

/**
 * setup_macvlan()/setup_ipvlan(): "mv-"/"iv-" and the parent's name
 * (shortened as a veth's host side when too long); a macvlan's MAC is
 * generate_mac() with the macvlan key and its index among the
 * --network-macvlan links (0, the first, adds no index bytes).
 */
export function planVlans(settings: Settings, f: NetworkFacts): PlanVlan[] {
  const named = (kind: PlanVlan['kind'], parent: string): PlanVlan => {
    const full = `${kind === 'macvlan' ? 'mv-' : 'iv-'}${parent}`;
    const name = shortenIfname(full);
    return { kind, parent, name, ...(name !== full ? { altName: full } : {}) };
  };
  return [
    ...settings.networkMacvlan.map((parent, i) => ({ ...named('macvlan', parent), mac: containerMac(f.hostMachineId, f.machineName, 'macvlan', i) })),
    ...settings.networkIpvlan.map((parent) => named('ipvlan', parent)),
  ];
}

/**
 * The links and forwarded ports of this run, or the namespace to join; or
 * undefined with neither (a private network has only loopback).
 */
export function planNetwork(settings: Settings, f: NetworkFacts): PlanNetwork | undefined {
  if (settings.networkNamespacePath !== undefined) return { links: [], moved: [], vlans: [], ports: [], join: settings.networkNamespacePath };
  if (!hasMonitorLinks(settings)) return undefined;
  const links: PlanVeth[] = [];
  if (settings.networkVeth || settings.networkBridge !== undefined || settings.networkZone !== undefined) {
    // A veth on a bridge or zone is "vb-", a plain one "ve-".
    const full = `${settings.networkBridge !== undefined || settings.networkZone !== undefined ? 'vb-' : 've-'}${f.machineName}`;
    const host = shortenIfname(full);
    links.push({
      host,
      ...(host !== full ? { altName: full } : {}),
      hostMac: containerMac(f.hostMachineId, f.machineName, 'host'),
      container: 'host0',
      containerMac: settings.nspawnEnvironment.networkMac ?? containerMac(f.hostMachineId, f.machineName, 'container'),
      ...(settings.networkBridge !== undefined ? { attach: { kind: 'bridge' as const, bridge: settings.networkBridge } } : {}),
      ...(settings.networkZone !== undefined ? { attach: { kind: 'zone' as const, bridge: zoneBridge(settings.networkZone) } } : {}),
      register: true,
    });
  }
  settings.networkVethExtra.forEach((x, i) =>
    links.push({
      host: x.host,
      hostMac: containerMac(f.hostMachineId, f.machineName, 'vethExtraHost', i),
      container: x.container,
      containerMac: containerMac(f.hostMachineId, f.machineName, 'vethExtraContainer', i),
      register: false,
    }),
  );
  const ports = settings.ports.map((p) => ({ ...p }));
  return { links, moved: [...settings.networkInterfaces], vlans: planVlans(settings, f), ports, ...(ports.length > 0 ? { table: portTable(f.machineName) } : {}) };
}

/** The nftables table of a container's --port rules (inet family): found by this name after a SIGKILL (src/runtime/port-tables.ts). */
export const PORT_TABLE_PREFIX = 'tsnspawn-';
export const portTable = (machineName: string): string => `${PORT_TABLE_PREFIX}${machineName}`;

export const zoneBridge = (zone: string): string => `vz-${zone}`;

