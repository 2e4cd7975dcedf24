/**
 * What the helper registers, and with whom (native/bus-register.c does it
 * over its own bus connection, holds it as the scope's D-Bus controller
 * and lets go of it once init is gone):
 * - --register=yes/auto: systemd-machined. CreateMachine (machined makes a
 *   machine-NAME.scope with Delegate=yes around init) or, with
 *   --keep-unit, RegisterMachine (the unit tsnspawn runs in). auto: only
 *   when a system bus is there, and no error when machined is not.
 * - --register=no without --keep-unit, under systemd: as systemd-nspawn,
 *   a scope from systemd itself, NAME.scope in machine.slice (or --slice),
 *   delegated, holding init; without a system bus, none.
 * Pure: the decisions and the scope's properties, pinned by unit tests.
 */
import type { HelperRegistration, RegistrationProperty } from '../plan/types.js';
import type { Settings } from '../settings/model.js';
import type { UnitProperty } from '../settings/unit-properties.js';
import { refuse } from '../util/errors.js';

export const SERVICE_NAME = 'tsnspawn';

export interface RegistrationFacts {
  machineName: string;
  /** 32 hex digits. */
  uuid: string;
  root: string;
  /** The signal systemd sends to init when it stops the scope itself (SIGRTMIN+3 with -b). */
  killSignal?: number;
  /** The system bus's unix socket ("@NAME": abstract), if there is one. */
  busSocket?: string;
  /** Started again after a guest reboot: the last boot's machine or scope may still be going. */
  resumed: boolean;
}

const prop = (name: string, signature: RegistrationProperty['signature'], ...values: string[]): RegistrationProperty => ({ name, signature, values });

const userProperty = (p: UnitProperty): RegistrationProperty => prop(p.name, p.signature, String(p.value));

/**
 * Properties of a container's scope (nspawn's list), whether machined
 * makes it or systemd does. The helper adds Controller (itself) and, for
 * systemd's scope, PIDs. The user's --slice/--property come last: later
 * entries of a name win.
 */
export function scopeProperties(name: string, killSignal: number | undefined, user: readonly UnitProperty[]): RegistrationProperty[] {
  return [
    prop('Description', 's', `Container ${name}`),
    prop('DevicePolicy', 's', 'closed'),
    prop('DeviceAllow', 'a(ss)', '/dev/net/tun', 'rwm', 'char-pts', 'rw'),
    ...(killSignal !== undefined ? [prop('KillSignal', 'i', String(killSignal)), prop('KillMode', 's', 'mixed')] : []),
    ...user.map(userProperty),
  ];
}

/** systemd's own scope (--register=no): what machined would set itself, then the container's list. */
function systemdScopeProperties(f: RegistrationFacts, user: readonly UnitProperty[]): RegistrationProperty[] {
  return [
    prop('Slice', 's', 'machine.slice'),
    prop('Delegate', 'b', 'true'),
    prop('CollectMode', 's', 'inactive-or-failed'),
    prop('AddRef', 'b', 'true'),
    ...scopeProperties(f.machineName, f.killSignal, user),
  ];
}

/** The registration for this run, or undefined; refuses what cannot work before anything starts. */
export function planRegistration(s: Settings, f: RegistrationFacts): HelperRegistration | undefined {
  const user = s.unitProperties;
  // --slice/--property need the scope machined makes: then auto means yes.
  const mode = user.length > 0 && s.register === 'auto' ? 'yes' : s.register;
  const retry = f.resumed;
  if (mode === 'no') {
    if (s.keepUnit) return undefined;
    if (!f.busSocket) {
      if (user.length > 0) refuse('cannot use --slice/--property: there is no system bus to ask systemd for a scope (drop --slice/--property, or run under systemd)');
      return undefined;
    }
    // A machine name is a valid unit name prefix as it is (letters, digits, '-', '.').
    return { bus: f.busSocket, kind: 'scope', mode: user.length > 0 ? 'yes' : 'auto', retry, unit: `${f.machineName}.scope`, properties: systemdScopeProperties(f, user) };
  }
  if (!f.busSocket) {
    if (mode === 'yes') refuse(`cannot register with systemd-machined: there is no system bus here (${process.env.DBUS_SYSTEM_BUS_ADDRESS ? `$DBUS_SYSTEM_BUS_ADDRESS names no unix socket` : 'no /run/dbus/system_bus_socket'}; start systemd-machined, or use --register=no)`);
    return undefined;
  }
  const machine = { name: f.machineName, id: f.uuid, service: s.nspawnEnvironment.containerService ?? SERVICE_NAME, root: f.root };
  if (s.keepUnit) return { bus: f.busSocket, kind: 'unit', mode, retry, machine, properties: [] };
  return { bus: f.busSocket, kind: 'machine', mode, retry, machine, properties: scopeProperties(f.machineName, f.killSignal, user) };
}
