/**
 * Registration with systemd-machined (org.freedesktop.machine1), as
 * systemd-nspawn does it: CreateMachineWithNetwork (machined makes a
 * machine-NAME.scope with Delegate=yes and puts the leader in it) or, with
 * --keep-unit, RegisterMachineWithNetwork (the unit tsnspawn runs in).
 * Without network interfaces of our own, the ifindex list is empty.
 */
import type { SystemBus } from './bus.js';
import type { UnitProperty } from '../settings/unit-properties.js';

const MACHINED = { destination: 'org.freedesktop.machine1', path: '/org/freedesktop/machine1', interface: 'org.freedesktop.machine1.Manager' };

export const SERVICE_NAME = 'tsnspawn';

export interface Registration {
  name: string;
  /** 16 bytes. */
  id: Buffer;
  leader: number;
  rootDirectory: string;
  keepUnit: boolean;
  /** For the scope: SIGRTMIN+3 with -b, so systemd stops the guest cleanly. */
  killSignal?: number;
  /** --slice and --property, already typed. */
  properties: readonly UnitProperty[];
  /** The scope's D-Bus controller (the helper's unique name): systemd sends it RequestStop. */
  controller?: string;
}

/**
 * Properties of a container's scope (nspawn's list), whether machined makes
 * it or systemd does (--register=no, src/machined/scope.ts). The user's
 * --slice/--property come last: later entries of a name win.
 */
export function scopeProperties(bus: SystemBus, r: Pick<Registration, 'name' | 'killSignal' | 'properties' | 'controller'>): unknown[] {
  const props: unknown[] = [
    ['Description', bus.variant('s', `Container ${r.name}`)],
    ['DevicePolicy', bus.variant('s', 'closed')],
    ['DeviceAllow', bus.variant('a(ss)', [['/dev/net/tun', 'rwm'], ['char-pts', 'rw']])],
  ];
  // systemd asks the controller to stop the scope (RequestStop) instead of killing it.
  if (r.controller) props.push(['Controller', bus.variant('s', r.controller)]);
  if (r.killSignal !== undefined) {
    props.push(['KillSignal', bus.variant('i', r.killSignal)]);
    props.push(['KillMode', bus.variant('s', 'mixed')]);
  }
  for (const p of r.properties) props.push([p.name, bus.variant(p.signature, p.value)]);
  return props;
}

export async function registerMachine(bus: SystemBus, r: Registration): Promise<void> {
  if (r.keepUnit)
    await bus.call({
      ...MACHINED,
      member: 'RegisterMachineWithNetwork',
      signature: 'sayssusai',
      body: [r.name, r.id, SERVICE_NAME, 'container', r.leader, r.rootDirectory, []],
    });
  else
    await bus.call({
      ...MACHINED,
      member: 'CreateMachineWithNetwork',
      signature: 'sayssusaia(sv)',
      body: [r.name, r.id, SERVICE_NAME, 'container', r.leader, r.rootDirectory, [], scopeProperties(bus, r)],
    });
}

export async function unregisterMachine(bus: SystemBus, name: string): Promise<void> {
  try {
    await bus.call({ ...MACHINED, member: 'UnregisterMachine', signature: 's', body: [name] });
  } catch {
    // Already gone with its scope: that is the usual case.
  }
}

/** True when machined knows a machine of this name. */
export async function machineExists(bus: SystemBus, name: string): Promise<boolean> {
  try {
    await bus.call({ ...MACHINED, member: 'GetMachine', signature: 's', body: [name] });
    return true;
  } catch (e) {
    if (/NoSuchMachine|No machine/.test(String((e as Error).message ?? e)) || (e as { type?: string }).type === 'org.freedesktop.machine1.NoSuchMachine')
      return false;
    throw e;
  }
}

/** systemd's object path of a unit: bus_label_escape of the unit name. */
export function unitObjectPath(unit: string): string {
  let out = '';
  for (let i = 0; i < unit.length; i++) {
    const c = unit[i]!;
    if (/[A-Za-z]/.test(c) || (/[0-9]/.test(c) && i > 0)) out += c;
    else out += '_' + c.charCodeAt(0).toString(16).padStart(2, '0');
  }
  return `/org/freedesktop/systemd1/unit/${out}`;
}

/** systemd's unit name escaping (unit_name_from_string-like) for "machine-NAME.scope". */
export function machineScopeName(name: string): string {
  const escaped = name.replace(/[^A-Za-z0-9:_.]/g, (c) => (c === '/' ? '-' : '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')));
  return `machine-${escaped}.scope`;
}
