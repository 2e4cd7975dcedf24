/**
 * A .nspawn file's text into FileValues: the syntax (nspawn-file.ts), then
 * each assignment through the key table (nspawn-keys.ts). At most one
 * warning a line, each naming the file, the line and the key; the rest of
 * the file still applies. Never throws: whatever the text, the result is
 * values and warnings.
 */
import { UserError } from '../util/errors.js';
import { KEY_BY_NAME, NSPAWN_KEYS_NOT_SUPPORTED, NSPAWN_SECTIONS, type FileGroup, type FileValues } from './nspawn-keys.js';
import { parseNspawnSyntax } from './nspawn-file.js';

/** A key that took effect in the file (for trust and precedence in merge.ts). */
export interface KeySeen {
  /** As written: "Capability". */
  key: string;
  line: number;
  group: FileGroup;
  privileged: boolean;
}

export interface FileSettings {
  path: string;
  values: FileValues;
  seen: KeySeen[];
  /** One line each, "FILE:LINE: ...". */
  warnings: string[];
}

/** Long values are cut in messages: a warning is one readable line. */
function shown(value: string): string {
  const oneLine = value.replace(/[\x00-\x1f\x7f]/g, '?');
  return oneLine.length > 80 ? `${oneLine.slice(0, 77)}...` : oneLine;
}

export function settingsFromFile(path: string, text: string): FileSettings {
  const syntax = parseNspawnSyntax(text, NSPAWN_SECTIONS);
  const values: FileValues = {};
  const seen: KeySeen[] = [];
  const decidedLater: { key: KeySeen; decide: (v: FileValues) => boolean }[] = [];
  const byLine: { line: number; message: string }[] = syntax.warnings.map((w) => ({ ...w }));
  for (const a of syntax.assignments) {
    const where = `${path}:${a.line}`;
    const warn = (message: string): void => void byLine.push({ line: a.line, message });
    const name = `${a.section}.${a.key}`;
    const spec = KEY_BY_NAME.get(name);
    if (!spec) {
      // "X-" keys are extensions, skipped silently as systemd does.
      if (a.key.startsWith('X-')) continue;
      const option = NSPAWN_KEYS_NOT_SUPPORTED[name];
      if (option) warn(`${a.key}= is a systemd-nspawn key that tsnspawn does not support yet (no ${option}), ignoring it`);
      else warn(`unknown key ${shown(a.key)}= in section [${a.section}], ignoring it`);
      continue;
    }
    try {
      const partly = spec.apply(values, a.value, { key: a.key, value: a.value, where });
      const key: KeySeen = { key: a.key, line: a.line, group: spec.group, privileged: spec.privileged === true };
      seen.push(key);
      if (typeof spec.privileged === 'function') decidedLater.push({ key, decide: spec.privileged });
      if (partly) warn(`${a.key}=${shown(a.value)}: ${partly}`);
    } catch (e) {
      if (!(e instanceof UserError)) throw e;
      warn(`invalid ${a.key}=${shown(a.value)}, ignoring it: ${e.message}`);
    }
  }
  // A key whose trust depends on the whole file (SystemCallFilter=): decided now, for every line of it.
  for (const { key, decide } of decidedLater) key.privileged = decide(values);
  if (values.parameters !== undefined && values.startMode === undefined) {
    const line = seen.find((s) => s.key === 'Parameters')!.line;
    byLine.push({ line, message: 'Parameters= takes effect only with Boot= or ProcessTwo= (as in systemd-nspawn), ignoring it' });
  }
  byLine.sort((a, b) => a.line - b.line);
  return { path, values, seen, warnings: byLine.map((w) => `${path}:${w.line}: ${w.message}`) };
}
