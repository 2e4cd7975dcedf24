/**
 * systemd credentials for the container (--set-credential, --load-credential),
 * as systemd-nspawn passes them: files in /run/host/credentials, a ramfs (never
 * swapped out) read-only to the guest, and $CREDENTIALS_DIRECTORY naming it,
 * where the guest's systemd imports them as system credentials.
 */
import type { MountOp } from './types.js';

export const CREDENTIALS_DIR = '/run/host/credentials';

export interface Credential {
  id: string;
  /** Bytes, passed as they are (no NUL: the helper writes a C string). */
  value: Buffer;
}

/** Mounts and files; empty without credentials. The directory goes read-only with the final remounts. */
export function credentialOps(credentials: readonly Credential[]): MountOp[] {
  if (credentials.length === 0) return [];
  return [
    { kind: 'mount', fstype: 'ramfs', target: CREDENTIALS_DIR, flags: ['nosuid', 'nodev', 'noexec', 'mkdir'], data: 'mode=0500' },
    ...credentials.map((c): MountOp => ({ kind: 'write', path: `${CREDENTIALS_DIR}/${c.id}`, mode: 0o400, content: c.value })),
    { kind: 'remount-ro', target: CREDENTIALS_DIR, flags: ['nosuid', 'nodev', 'noexec'] },
  ];
}

/** CREDENTIALS_DIRECTORY for PID 1, when there are credentials. */
export function credentialEnvironment(credentials: readonly Credential[]): string[] {
  return credentials.length > 0 ? [`CREDENTIALS_DIRECTORY=${CREDENTIALS_DIR}`] : [];
}
