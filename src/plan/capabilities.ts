/** Capabilities: numbers from linux/capability.h and systemd-nspawn's default retain set. */

export const CAPABILITIES: Readonly<Record<string, number>> = {
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
};

/** The names --capability=help lists, as nspawn: lower case, in number order. */
export const CAPABILITY_WORDS: readonly string[] = Object.entries(CAPABILITIES)
  .sort((a, b) => a[1] - b[1])
  .map(([name]) => name.toLowerCase());

/** systemd-nspawn's default bounding set for the payload (nspawn.c, arg_caps_retain). */
export const NSPAWN_DEFAULT_CAPS: readonly string[] = [
  'CAP_AUDIT_CONTROL',
  'CAP_AUDIT_WRITE',
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_IPC_OWNER',
  'CAP_KILL',
  'CAP_LEASE',
  'CAP_LINUX_IMMUTABLE',
  'CAP_MKNOD',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_RAW',
  'CAP_SETFCAP',
  'CAP_SETGID',
  'CAP_SETPCAP',
  'CAP_SETUID',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_CHROOT',
  'CAP_SYS_NICE',
  'CAP_SYS_PTRACE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TTY_CONFIG',
];

/** Added when the container has a network namespace of its own. */
export const PRIVATE_NETWORK_CAPS: readonly string[] = ['CAP_NET_ADMIN'];

/**
 * A --capability/--drop-capability list as nspawn reads it: names with
 * CAP_ in any case, or numbers, comma-separated; "all" for every one.
 * Returns canonical names, or the first word it does not know.
 */
export function parseCapabilityNames(value: string): { names: string[] } | { unknown: string } {
  const names: string[] = [];
  for (const word of value.split(',').map((w) => w.trim()).filter(Boolean)) {
    if (word.toLowerCase() === 'all') {
      names.push(...Object.keys(CAPABILITIES));
      continue;
    }
    const byNumber = /^\d+$/.test(word) ? Object.keys(CAPABILITIES).find((n) => CAPABILITIES[n] === Number(word)) : undefined;
    const name = byNumber ?? word.toUpperCase();
    if (CAPABILITIES[name] === undefined) return { unknown: word };
    names.push(name);
  }
  return { names };
}

/** The retained set: nspawn's default, plus --capability, minus --drop-capability. */
export function retainedCapabilities(added: readonly string[], dropped: readonly string[]): string[] {
  const drop = new Set(dropped);
  return [...new Set([...NSPAWN_DEFAULT_CAPS, ...added])].filter((c) => !drop.has(c));
}

export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const n of names) {
    const bit = CAPABILITIES[n];
    if (bit === undefined) throw new Error(`unknown capability ${n}`);
    mask |= 1n << BigInt(bit);
  }
  return mask;
}

export function capabilityNames(mask: bigint): string[] {
  return Object.entries(CAPABILITIES)
    .filter(([, bit]) => (mask >> BigInt(bit)) & 1n)
    .map(([name]) => name);
}
