/**
 * Where NAME.nspawn is looked for, known before anything is checked or
 * unpacked: the machine name (from -M, the tree's directory name or the
 * --tarball file name, before any ephemeral suffix) and the tree or archive
 * it may sit beside. nspawn does the same between determine_names() and
 * load_settings().
 */
import { resolve } from 'node:path';
import { locateTree } from '../image/locate.js';
import type { Settings } from '../settings/model.js';
import { applySettingsFile, type SettingsFileSite } from '../settings/settings-file.js';
import { machineNameFromDirectory } from '../settings/values.js';

async function settingsFileSite(settings: Settings): Promise<SettingsFileSite> {
  if (settings.tarball !== undefined) {
    const { nameFromArchive } = await import('../image/import/import-tar.js');
    return { machine: settings.machine ?? machineNameFromDirectory(nameFromArchive(settings.tarball)), beside: resolve(settings.tarball) };
  }
  // -i: NAME.nspawn beside the image file, NAME from its file name (as nspawn).
  if (settings.image !== undefined) {
    const { machineNameFromImage } = await import('../image/disk-image.js');
    return { machine: settings.machine ?? machineNameFromImage(settings.image), beside: resolve(settings.image) };
  }
  // Refuses a missing tree with the same message prepare() would.
  const located = locateTree(settings.directory, settings.machine);
  return { machine: settings.machine ?? machineNameFromDirectory(located.root), beside: located.named };
}

/** The settings with NAME.nspawn applied (unless --settings=no). */
export async function withSettingsFile(settings: Settings): Promise<Settings> {
  if (settings.settingsFile === 'no') return settings;
  return applySettingsFile(settings, await settingsFileSite(settings));
}
