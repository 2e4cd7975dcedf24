/** Mount ops only a booted container gets: a fresh boot id and a masked /proc/kmsg (as systemd-nspawn). */
import { INACCESSIBLE_DIR } from './mount-table.js';
import type { MountOp } from './types.js';

const BOOT_ID_STAGING = '/run/.#proc-sys-kernel-random-boot-id';

/** bootId: a random UUID in dashed form, new for every (re)boot. */
export function bootOps(bootId: string): MountOp[] {
  return [
    { kind: 'write', path: BOOT_ID_STAGING, mode: 0o444, content: `${bootId}\n` },
    { kind: 'bind-inner', source: BOOT_ID_STAGING, target: '/proc/sys/kernel/random/boot_id', flags: ['ro', 'nosuid', 'nodev', 'noexec'] },
    { kind: 'unlink', path: BOOT_ID_STAGING, flags: [] },
    // The host's kernel log is not the guest's business: reads see an empty file.
    { kind: 'bind-inner', source: `${INACCESSIBLE_DIR}/reg`, target: '/proc/kmsg', flags: ['ro', 'optional', 'nosuid', 'nodev', 'noexec'] },
  ];
}
