/**
 * Where the system bus listens, for the helper's own connection (it is the
 * scope's D-Bus controller, native/bus.c). D-Bus addresses
 * ("unix:path=/run/dbus/system_bus_socket;tcp:host=...") list transports
 * in order of preference, with %XX escapes in values; the helper speaks to
 * unix sockets only: "unix:path=" (a file) and "unix:abstract=" (written
 * with a leading '@', as the helper's plan record takes it).
 */
import { existsSync } from 'node:fs';

export const DEFAULT_SYSTEM_BUS_ADDRESS = 'unix:path=/run/dbus/system_bus_socket';

/** The first unix socket of a D-Bus address, or undefined if it names none. */
export function unixSocketOfAddress(address: string): string | undefined {
  for (const entry of address.split(';')) {
    const colon = entry.indexOf(':');
    if (colon < 0 || entry.slice(0, colon) !== 'unix') continue;
    const keys = new Map<string, string>();
    for (const pair of entry.slice(colon + 1).split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      try {
        keys.set(pair.slice(0, eq), decodeURIComponent(pair.slice(eq + 1)));
      } catch {
        // A bad escape: this entry is unusable, the next may do.
        keys.clear();
        break;
      }
    }
    const path = keys.get('path');
    if (path) return path;
    const abstract = keys.get('abstract');
    if (abstract) return `@${abstract}`;
  }
  return undefined;
}

/**
 * The system bus's unix socket per $DBUS_SYSTEM_BUS_ADDRESS, or the
 * default one if it exists: a plain shell or a minimal CI box has none.
 */
export function systemBusSocket(): string | undefined {
  const address = process.env.DBUS_SYSTEM_BUS_ADDRESS;
  if (address) return unixSocketOfAddress(address);
  const socket = unixSocketOfAddress(DEFAULT_SYSTEM_BUS_ADDRESS)!;
  return existsSync(socket) ? socket : undefined;
}
