/**
 * Machine UUIDs: accepted as 32 hex digits (the /etc/machine-id form) or in
 * the dashed form; validated and turned into 16 bytes with the uuid package.
 */
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

/** Parses a UUID or machine id; returns undefined when it isn't one. */
export async function tryParseUuid(value: string): Promise<MachineUuid | undefined> {
  const dashed = toDashed(value);
  if (!dashed || /^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(dashed)) return undefined;
  // The uuid package checks the version/variant layout machined also expects
  // of a machine id and gives the 16 bytes.
  const { validate, parse } = await import('uuid');
  if (!validate(dashed)) return undefined;
  const bytes = parse(dashed);
  const plain = Buffer.from(bytes).toString('hex');
  return { dashed, plain };
}

export async function parseUuidOption(value: string): Promise<MachineUuid> {
  const parsed = await tryParseUuid(value);
  if (!parsed)
    refuse(`invalid --uuid=${value}: use a non-zero UUID such as ${globalThis.crypto.randomUUID()} (or 32 hex digits)`);
  return parsed;
}

export function randomUuid(): MachineUuid {
  const dashed = globalThis.crypto.randomUUID();
  return { dashed, plain: dashed.replace(/-/g, '') };
}
