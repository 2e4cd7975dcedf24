/**
 * The tree's lock, as systemd-nspawn takes it (src/shared/discover-image.c
 * image_path_lock, 252 and 257): two lock files, one beside the tree
 * (`DIR/.#NAME.lck`, seen by whoever shares the file system) and one in
 * /run named by the tree's device and inode
 * (`/run/systemd/nspawn/locks/inode-DEV:INO`, right even for a tree that is
 * a mount point). Both are open file description locks (F_OFD_SETLK), the
 * kind nspawn takes, so a tsnspawn and a systemd-nspawn on one tree exclude
 * each other. Exclusive for a writable run, shared for --read-only; none for
 * -x (nspawn locks only its private copy, and tsnspawn's overlay never
 * writes the tree) and none with SYSTEMD_NSPAWN_LOCK=0. The monitor takes
 * them (native/tree-lock.c) and holds them until init is gone.
 */
import type { Settings } from '../settings/model.js';

export const NSPAWN_LOCK_DIR = '/run/systemd/nspawn/locks';

export interface TreeLock {
  mode: 'shared' | 'exclusive';
  /** Beside the tree: DIR/.#NAME.lck. */
  local: string;
  /** /run/systemd/nspawn/locks/inode-DEV:INO. */
  global: string;
}

/** The lock file nspawn makes beside the tree at path (make_lock_file_for). */
export function localLockPath(root: string): string {
  const trimmed = root.replace(/\/+$/, '');
  const slash = trimmed.lastIndexOf('/');
  return `${trimmed.slice(0, slash)}/.#${trimmed.slice(slash + 1)}.lck`;
}

/** The one in /run: st_dev and st_ino in decimal, as nspawn prints them. */
export function globalLockPath(rootId: { dev: string; ino: string }): string {
  return `${NSPAWN_LOCK_DIR}/inode-${rootId.dev}:${rootId.ino}`;
}

export function treeLockOf(settings: Settings, root: string, rootId: { dev: string; ino: string }): TreeLock | undefined {
  if (!settings.nspawnEnvironment.lock || settings.ephemeral) return undefined;
  return { mode: settings.readOnly ? 'shared' : 'exclusive', local: localLockPath(root), global: globalLockPath(rootId) };
}
