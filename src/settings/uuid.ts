/**
 * Machine UUIDs: accepted as 32 hex digits (the /etc/machine-id form) or in
 * the dashed form.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { refuse } from '../util/errors.js';

export interface MachineUuid {
  /** 8-4-4-4-12 lowercase form, as in $container_uuid. */
  dashed: string;
  /** 32 hex digits, as in /etc/machine-id. */
  plain: string;
}

function toDashed(value: string): string | undefined {
  const v = value.trim().toLowerCase();
  if (/^[0-9a-f]{32}$/.test(v))
    return `${v.slice(0, 8)}-${v.slice(8, 12)}-${v.slice(12, 16)}-${v.slice(16, 20)}-${v.slice(20)}`;
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(v)) return v;
  return undefined;
}

/**
 * Parses a UUID given by the user: any non-zero 128-bit id, as
 * systemd-nspawn takes it. (The uuid package's validate() insists on RFC
 * 4122 version and variant bits and so refuses ids nspawn accepts, e.g.
 * dbus-uuidgen's; see the note of issue 2.)
 */
export function tryParseUuid(value: string): MachineUuid | undefined {
  return machineIdToUuid(value);
}

/** A machine id from a tree's /etc/machine-id: any non-zero 128-bit value (as systemd accepts it). */
export function machineIdToUuid(id: string): MachineUuid | undefined {
  const dashed = toDashed(id);
  if (!dashed || /^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(dashed)) return undefined;
  return { dashed, plain: dashed.replace(/-/g, '') };
}

export function parseUuidOption(value: string): MachineUuid {
  const parsed = tryParseUuid(value);
  if (!parsed)
    refuse(`invalid --uuid=${value}: use a non-zero UUID such as ${randomUuid().dashed} (or 32 hex digits)`);
  return parsed;
}

/**
 * A random v4 UUID from /dev/urandom: loading node:crypto (or WebCrypto)
 * costs several milliseconds of start-up, reading 16 bytes does not.
 */
export function randomUuid(): MachineUuid {
  const b = Buffer.alloc(16);
  const fd = openSync('/dev/urandom', 'r');
  try {
    readSync(fd, b, 0, 16, null);
  } finally {
    closeSync(fd);
  }
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const plain = b.toString('hex');
  return { dashed: toDashed(plain)!, plain };
}

/** The 16 bytes machined wants. */
export function uuidBytes(u: MachineUuid): Buffer {
  return Buffer.from(u.plain, 'hex');
}
