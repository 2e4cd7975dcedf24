/**
 * The system bus, through dbus-next's plain message API (no introspection
 * round trips). dbus-next is loaded only when registration is wanted: it
 * costs start-up time, and --register=no must work without any bus.
 *
 * dbus-next 0.10.2 is unmaintained; it is pinned, and its xml2js dependency
 * is overridden to 0.6.2 (package.json "overrides") for the prototype
 * pollution fix of 0.5.0.
 */
import { existsSync } from 'node:fs';
import type { MessageBus, Message as DbusMessage } from 'dbus-next';

export interface Call {
  destination: string;
  path: string;
  interface: string;
  member: string;
  signature?: string;
  body?: unknown[];
}

export interface SystemBus {
  call(c: Call): Promise<unknown[]>;
  /**
   * Calls fn for each signal matching the rule (AddMatch on the bus). sender:
   * the well-known name that must have sent it (checked against its owner):
   * any local user may send signals on the system bus.
   */
  onSignal(match: { interface: string; member: string; path?: string; sender: string }, fn: (body: unknown[], path: string) => void): Promise<void>;
  close(): void;
  variant(signature: string, value: unknown): unknown;
}

type DbusModule = typeof import('dbus-next');

const SYSTEM_BUS_SOCKET = '/run/dbus/system_bus_socket';

/** Whether there is a system bus to try at all (cheap: no dbus-next loaded). */
export function systemBusPresent(): boolean {
  return Boolean(process.env.DBUS_SYSTEM_BUS_ADDRESS) || existsSync(SYSTEM_BUS_SOCKET);
}

/** Connects to the system bus; rejects with the reason when it is not reachable. */
export async function connectSystemBus(): Promise<SystemBus> {
  const mod = (await import('dbus-next')) as DbusModule & { default?: DbusModule };
  const dbus: DbusModule = mod.default ?? mod;
  const bus: MessageBus = dbus.systemBus();
  // Until the Hello round trip finishes, a failed connect only shows as 'error'.
  await new Promise<void>((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    bus.once('error', onError);
    bus
      .call(new dbus.Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'GetId' }))
      .then(() => {
        bus.off('error', onError);
        resolve();
      }, reject);
  });
  // Later connection errors are handled by the calls that fail.
  bus.on('error', () => {});

  return {
    async call(c: Call): Promise<unknown[]> {
      const reply = await bus.call(new dbus.Message(c));
      return (reply?.body ?? []) as unknown[];
    },
    async onSignal(match, fn): Promise<void> {
      const dbusCall = (member: string, body: string[]): Promise<DbusMessage | null> =>
        bus.call(new dbus.Message({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member, signature: 's', body }));
      const owner = String((await dbusCall('GetNameOwner', [match.sender]))?.body?.[0] ?? '');
      const rule = [`type='signal'`, `sender='${owner}'`, `interface='${match.interface}'`, `member='${match.member}'`, ...(match.path ? [`path='${match.path}'`] : [])].join(',');
      await dbusCall('AddMatch', [rule]);
      bus.on('message', (m: DbusMessage) => {
        if (m.type !== dbus.MessageType.SIGNAL || m.sender !== owner) return;
        if (m.interface === match.interface && m.member === match.member && (!match.path || m.path === match.path)) fn((m.body ?? []) as unknown[], m.path ?? '');
      });
    },
    close: () => bus.disconnect(),
    variant: (signature, value) => new dbus.Variant(signature, value),
  };
}
