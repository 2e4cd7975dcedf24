/**
 * Mount options as a user writes them (--tmpfs=PATH:OPTIONS,
 * TemporaryFileSystem=), split as nspawn splits them (libmount's Linux
 * map, via systemd's mount_option_mangle): the words below are mount
 * flags, everything else goes to the file system as its data (mode=,
 * size=, uid=, nr_inodes=, ...).
 */
import type { MountFlag } from '../plan/types.js';

/** A flag word: the flag it sets, or the one it clears (ro/rw, nosuid/suid, ...). */
type FlagWord = { set: MountFlag } | { clear: MountFlag } | { none: true };

export const MOUNT_FLAG_WORDS: Readonly<Record<string, FlagWord>> = {
  ro: { set: 'ro' },
  rw: { clear: 'ro' },
  nosuid: { set: 'nosuid' },
  suid: { clear: 'nosuid' },
  nodev: { set: 'nodev' },
  dev: { clear: 'nodev' },
  noexec: { set: 'noexec' },
  exec: { clear: 'noexec' },
  sync: { set: 'sync' },
  async: { clear: 'sync' },
  dirsync: { set: 'dirsync' },
  noatime: { set: 'noatime' },
  atime: { clear: 'noatime' },
  nodiratime: { set: 'nodiratime' },
  diratime: { clear: 'nodiratime' },
  relatime: { set: 'relatime' },
  norelatime: { clear: 'relatime' },
  strictatime: { set: 'strictatime' },
  nostrictatime: { clear: 'strictatime' },
  lazytime: { set: 'lazytime' },
  nolazytime: { clear: 'lazytime' },
  silent: { set: 'silent' },
  loud: { clear: 'silent' },
  nosymfollow: { set: 'nosymfollow' },
  symfollow: { clear: 'nosymfollow' },
  defaults: { none: true },
};

export interface SplitMountOptions {
  /** The flags, starting from the defaults, in the order the words came (a later word wins). */
  flags: MountFlag[];
  /** The file system's own options, comma-separated, as given. */
  data: string;
}

/** How access times are kept: one of these at a time (the kernel takes strictatime over the others). */
const ATIME_MODES: readonly MountFlag[] = ['noatime', 'relatime', 'strictatime'];

/** Splits OPTIONS into flags (applied to defaults) and data; an atime word replaces the default atime mode. */
export function splitMountOptions(options: string, defaults: readonly MountFlag[]): SplitMountOptions {
  const flags = new Set<MountFlag>(defaults);
  const data: string[] = [];
  for (const word of options.split(',').filter(Boolean)) {
    const w = Object.hasOwn(MOUNT_FLAG_WORDS, word) ? MOUNT_FLAG_WORDS[word]! : undefined;
    if (!w) data.push(word);
    else if ('set' in w) {
      if (ATIME_MODES.includes(w.set)) for (const m of ATIME_MODES) flags.delete(m);
      flags.add(w.set);
    }
    else if ('clear' in w) flags.delete(w.clear);
  }
  return { flags: [...flags], data: data.join(',') };
}
