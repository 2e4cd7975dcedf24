/**
 * Finding, reading and applying NAME.nspawn as systemd-nspawn does
 * (load_settings() in nspawn.c): the first of /etc/systemd/nspawn/NAME.nspawn
 * and /run/systemd/nspawn/NAME.nspawn (trusted), else NAME.nspawn beside the
 * tree or image (not trusted). Only one file is read.
 */
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { dirname } from 'node:path';
import { refuse } from '../util/errors.js';
import { warn } from '../util/log.js';
import type { Settings } from './model.js';
import { settingsFromFile } from './from-file.js';
import { mergeSettings } from './merge.js';

/** The administrator's directories: files there are trusted. */
export const TRUSTED_SETTINGS_DIRS: readonly string[] = ['/etc/systemd/nspawn', '/run/systemd/nspawn'];

/** No settings file is this large; a bigger one (or /dev/zero behind a symlink) is refused rather than read. */
const SETTINGS_FILE_MAX = 1024 * 1024;

export interface SettingsFileSite {
  /** The machine name before any ephemeral suffix: the file is NAME.nspawn. */
  machine: string;
  /** The tree (or image) as named: an untrusted NAME.nspawn may sit in its directory. */
  beside?: string;
}

export interface FoundFile {
  path: string;
  text: string;
  /** Trusted by where it is (the administrator's directories). */
  trustedLocation: boolean;
}

/** undefined when there is no such file; any other failure to read it is the user's to fix. */
function readIfPresent(path: string): string | undefined {
  let fd: number | undefined;
  try {
    // Non-blocking: a FIFO in the file's place must not hang the start.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    refuse(`cannot read the settings file ${path}: ${code ?? (e as Error).message} (fix it, or use --settings=no)`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) refuse(`cannot read the settings file ${path}: not a regular file (fix it, or use --settings=no)`);
    const buf = Buffer.alloc(Math.min(st.size, SETTINGS_FILE_MAX) + 1);
    let n = 0;
    for (let got; n < buf.length && (got = readSync(fd, buf, n, buf.length - n, null)) > 0; ) n += got;
    if (n > SETTINGS_FILE_MAX) refuse(`cannot read the settings file ${path}: larger than 1 MiB`);
    return buf.subarray(0, n).toString('utf8');
  } catch (e) {
    if ((e as Error).name === 'UserError') throw e;
    refuse(`cannot read the settings file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (fix it, or use --settings=no)`);
  } finally {
    closeSync(fd);
  }
}

/** nspawn's search: the administrator's directories first, then beside the tree (not for a tree at '/'). */
export function findSettingsFile(site: SettingsFileSite, trustedDirs = TRUSTED_SETTINGS_DIRS): FoundFile | undefined {
  const name = `${site.machine}.nspawn`;
  for (const dir of trustedDirs) {
    const path = `${dir}/${name}`;
    const text = readIfPresent(path);
    if (text !== undefined) return { path, text, trustedLocation: true };
  }
  if (site.beside === undefined || site.beside === '/') return undefined;
  const path = `${dirname(site.beside)}/${name}`.replace(/^\/\//, '/');
  const text = readIfPresent(path);
  return text === undefined ? undefined : { path, text, trustedLocation: false };
}

/**
 * The command line's settings with the file's applied (--settings= decides
 * whether, with which trust and which side wins). Warnings go to stderr,
 * one line each, also with -q (as nspawn's).
 */
export function applySettingsFile(settings: Settings, site: SettingsFileSite, trustedDirs = TRUSTED_SETTINGS_DIRS): Settings {
  if (settings.settingsFile === 'no') return settings;
  const found = findSettingsFile(site, trustedDirs);
  if (!found) return settings;
  const file = settingsFromFile(found.path, found.text);
  const merged = mergeSettings(settings, file, {
    trusted: settings.settingsFile === 'trusted' || found.trustedLocation,
    override: settings.settingsFile === 'override',
  });
  for (const w of [...file.warnings, ...merged.warnings]) warn(w);
  return merged.settings;
}
