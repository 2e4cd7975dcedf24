/**
 * --property=NAME=VALUE and --slice=: settings for the scope machined makes
 * (systemd-nspawn passes them to CreateMachine the same way). A table of the
 * resource-control properties people set on containers; each is parsed here
 * into the D-Bus type systemd wants, so a bad value is refused before start.
 */
import { refuse } from '../util/errors.js';

/** One scope property as D-Bus wants it. */
export interface UnitProperty {
  name: string;
  signature: 't' | 's';
  value: bigint | string;
}

const UINT64_MAX = (1n << 64n) - 1n;
const SUFFIX: Readonly<Record<string, bigint>> = { '': 1n, K: 1n << 10n, M: 1n << 20n, G: 1n << 30n, T: 1n << 40n, P: 1n << 50n, E: 1n << 60n };

/** A value the bus can carry (uint64), or undefined. */
const inRange = (n: bigint): bigint | undefined => (n <= UINT64_MAX ? n : undefined);

/** "64M", "1G", "infinity": bytes, base 1024 as systemd's parse_size. */
function bytes(v: string): bigint | undefined {
  if (v === 'infinity') return UINT64_MAX;
  const m = /^(\d+)([KMGTPE]?)$/.exec(v);
  return m ? inRange(BigInt(m[1]!) * SUFFIX[m[2]!]!) : undefined;
}

function count(v: string): bigint | undefined {
  if (v === 'infinity') return UINT64_MAX;
  return /^\d+$/.test(v) ? inRange(BigInt(v)) : undefined;
}

function weight(v: string): bigint | undefined {
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  return n >= 1 && n <= 10000 ? BigInt(n) : undefined;
}

/** "20%": CPU time per second, in µs (1% = 10 ms/s), as CPUQuotaPerSecUSec. */
function cpuQuota(v: string): bigint | undefined {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(v);
  // Past 1000 CPUs' worth the number means nothing (and would not fit).
  return m && Number(m[1]) > 0 && Number(m[1]) <= 100_000 ? BigInt(Math.round(Number(m[1]) * 10_000)) : undefined;
}

interface PropertyKind {
  /** The property's name on the bus (CPUQuota becomes CPUQuotaPerSecUSec). */
  busName?: string;
  parse: (v: string) => bigint | undefined;
  expect: string;
}

const BYTES: PropertyKind = { parse: bytes, expect: 'bytes with an optional K, M, G, T suffix, or infinity' };
const PROPERTIES: Readonly<Record<string, PropertyKind>> = {
  MemoryMax: BYTES,
  MemoryHigh: BYTES,
  MemoryLow: BYTES,
  MemoryMin: BYTES,
  MemorySwapMax: BYTES,
  TasksMax: { parse: count, expect: 'a number, or infinity' },
  CPUWeight: { parse: weight, expect: 'a weight from 1 to 10000' },
  StartupCPUWeight: { parse: weight, expect: 'a weight from 1 to 10000' },
  IOWeight: { parse: weight, expect: 'a weight from 1 to 10000' },
  StartupIOWeight: { parse: weight, expect: 'a weight from 1 to 10000' },
  CPUQuota: { busName: 'CPUQuotaPerSecUSec', parse: cpuQuota, expect: 'a percentage such as 20% or 150% (up to 100000%)' },
};

export function parseUnitProperty(assignment: string): UnitProperty {
  const option = `--property=${assignment}`;
  const eq = assignment.indexOf('=');
  if (eq <= 0) refuse(`invalid ${option}: use NAME=VALUE, e.g. --property=MemoryMax=1G`);
  const name = assignment.slice(0, eq);
  const value = assignment.slice(eq + 1);
  const kind = PROPERTIES[name];
  if (!kind) refuse(`invalid ${option}: tsnspawn does not know the property ${name} (it knows ${Object.keys(PROPERTIES).join(', ')})`);
  const parsed = kind.parse(value);
  if (parsed === undefined) refuse(`invalid ${option}: ${name} takes ${kind.expect}`);
  return { name: kind.busName ?? name, signature: 't', value: parsed };
}

/** --slice=NAME[.slice]: the slice the scope goes into (".slice" added when missing, as nspawn does). */
export function parseSlice(value: string): UnitProperty {
  const slice = value.endsWith('.slice') ? value : `${value}.slice`;
  if (!/^[A-Za-z0-9:_.\\-]+\.slice$/.test(slice) || slice.length > 255)
    refuse(`invalid --slice=${value}: give a slice unit name such as machine.slice or tests-ci`);
  return { name: 'Slice', signature: 's', value: slice };
}
