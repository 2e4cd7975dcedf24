/**
 * Parsers for option values, with nspawn's syntax. Each returns the parsed
 * value or throws a UserError naming the option and the fix.
 */
import { resolve as resolvePath } from 'node:path';
import { refuse } from '../util/errors.js';
import type { BindIdmap, CredentialSpec, BindSpec, ConsoleMode, InaccessibleSpec, OverlaySpec, RegisterMode, TmpfsSpec, VolatileMode } from './model.js';
import { parseCapabilityNames } from '../plan/capabilities.js';
import { splitMountOptions } from './mount-options.js';

export const CONSOLE_MODES: readonly ConsoleMode[] = ['interactive', 'read-only', 'passive', 'pipe', 'autopipe'];
export const REGISTER_MODES: readonly RegisterMode[] = ['yes', 'no', 'auto'];
export const VOLATILE_MODES: readonly VolatileMode[] = ['no', 'yes', 'state', 'overlay'];

/**
 * systemd's hostname_is_valid(): at most 64 characters, dot-separated
 * labels of letters, digits and '-', no label starting or ending with '-'.
 */
export function isValidHostname(name: string): boolean {
  if (name.length === 0 || name.length > 64) return false;
  return name.split('.').every((label) => /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(label));
}

/** A machine name is a valid hostname (systemd's machine_name_is_valid). */
export function parseMachineName(value: string, option = '--machine'): string {
  if (!isValidHostname(value))
    refuse(`invalid machine name '${value}' for ${option}: use 1 to 64 letters, digits, '-' and '.' (labels may not start or end with '-' or be empty)`);
  return value;
}

/**
 * Derives a machine name from a directory name the way nspawn does: keep the
 * valid characters, trim dots, cut to 64.
 */
export function machineNameFromDirectory(dir: string): string {
  const base = dir.replace(/\/+$/, '').split('/').pop() ?? '';
  // As nspawn's hostname_cleanup: drop invalid characters, empty labels and
  // '-' at label edges.
  let name = base
    .replace(/[^A-Za-z0-9.-]/g, '')
    .split('.')
    .map((l) => l.replace(/^-+|-+$/g, ''))
    .filter(Boolean)
    .join('.');
  name = name.slice(0, 64).replace(/[.-]+$/, '');
  return name || 'container';
}

export function parseConsoleMode(value: string): ConsoleMode {
  if (!CONSOLE_MODES.includes(value as ConsoleMode))
    refuse(`invalid --console value '${value}': use one of ${CONSOLE_MODES.join(', ')}`);
  return value as ConsoleMode;
}

export function parseRegisterMode(value: string): RegisterMode {
  const v = parseBooleanWord(value);
  if (v !== undefined) return v ? 'yes' : 'no';
  if (!REGISTER_MODES.includes(value as RegisterMode)) refuse(`invalid --register value '${value}': use yes, no or auto`);
  return value as RegisterMode;
}

/** systemd's parse_boolean words. */
export function parseBooleanWord(value: string): boolean | undefined {
  const v = value.toLowerCase();
  if (['1', 'yes', 'y', 'true', 't', 'on'].includes(v)) return true;
  if (['0', 'no', 'n', 'false', 'f', 'off'].includes(v)) return false;
  return undefined;
}

/** -E NAME=VALUE (or NAME alone to pass the host's value, as nspawn does). */
export function parseSetenv(value: string): string {
  const eq = value.indexOf('=');
  const name = eq < 0 ? value : value.slice(0, eq);
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
    refuse(`invalid environment assignment '${value}' for --setenv: use NAME=VALUE with NAME of letters, digits and '_'`);
  if (eq >= 0) return value;
  const host = process.env[name];
  if (host === undefined) refuse(`--setenv=${name} passes the host's value, but ${name} is not set on the host`);
  return `${name}=${host}`;
}

/** Splits on ':' honouring nspawn's "\:" escape. */
function splitColons(value: string): string[] {
  const parts: string[] = [''];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '\\' && value[i + 1] === ':') {
      parts[parts.length - 1] += ':';
      i++;
    } else if (ch === ':') parts.push('');
    else parts[parts.length - 1] += ch;
  }
  return parts;
}

function normalizeAbsolute(path: string): string {
  const out: string[] = [];
  for (const seg of path.split('/')) {
    if (seg === '' || seg === '.') continue;
    out.push(seg);
  }
  return '/' + out.join('/');
}

/** nspawn's prefix for a source inside the container's tree rather than on the host. */
export const IN_CONTAINER = '+';

/** Whether a source path (as kept in the settings) names a path inside the container's tree. */
export function isInContainer(source: string): boolean {
  return source.startsWith(IN_CONTAINER);
}

/** The path a '+' source names inside the tree, or the host path as it is. */
export function sourcePathOf(source: string): string {
  return isInContainer(source) ? source.slice(IN_CONTAINER.length) : source;
}

/**
 * A source for --bind or --overlay: a host path (a relative one from the
 * working directory, as nspawn), or '+' and an absolute path inside the
 * container's tree. Kept with its '+', normalised.
 */
function parseSourcePath(path: string, refuseWith: (why: string) => never): string {
  const inContainer = isInContainer(path);
  const rest = inContainer ? path.slice(IN_CONTAINER.length) : path;
  if (rest === '') refuseWith(inContainer ? `'${path}': after '+' give a path inside the container` : 'give a source path');
  if (inContainer && !rest.startsWith('/')) refuseWith(`'${path}': after '+' give an absolute path inside the container`);
  return (inContainer ? IN_CONTAINER : '') + normalizeAbsolute(inContainer ? rest : resolvePath(rest));
}

/** --bind/--bind-ro SRC[:DST[:OPTS]]; OPTS: rbind (default), norbind. */
export function parseBind(value: string, readOnly: boolean): BindSpec {
  const option = readOnly ? '--bind-ro' : '--bind';
  const parts = splitColons(value);
  if (parts.length > 3) refuse(`invalid ${option}=${value}: use SOURCE[:DESTINATION[:OPTIONS]]`);
  const [rawSource = '', dest, opts] = parts;
  const source = parseSourcePath(rawSource, (why) => refuse(`invalid ${option}=${value}: ${why}`));
  // Without a destination, the same path inside (nspawn: "+/x" alone binds /x onto itself).
  const destination = dest === undefined || dest === '' ? sourcePathOf(source) : dest;
  if (!destination.startsWith('/'))
    refuse(`invalid ${option}=${value}: the destination '${destination}' must be an absolute path inside the container`);
  if (destination.split('/').includes('..'))
    refuse(`invalid ${option}=${value}: the destination must not contain '..'`);
  let recursive = true;
  // As nspawn: the last of idmap, noidmap, rootidmap and owneridmap wins.
  let idmap: BindIdmap | undefined;
  for (const o of (opts ?? '').split(',').filter(Boolean)) {
    if (o === 'rbind') recursive = true;
    else if (o === 'norbind') recursive = false;
    else if (o === 'idmap' || o === 'rootidmap' || o === 'owneridmap') idmap = o;
    else if (o === 'noidmap') idmap = undefined;
    else refuse(`invalid ${option}=${value}: unknown bind option '${o}' (use rbind, norbind, idmap, noidmap, rootidmap or owneridmap)`);
  }
  return {
    source,
    destination: normalizeAbsolute(destination),
    readOnly,
    recursive,
    ...(idmap ? { idmap } : {}),
    option: `${option}=${value}`,
  };
}

/** --capability / --drop-capability: capability names (CAP_..., any case), numbers, or "all". */
export function parseCapabilities(value: string, option: string): string[] {
  const r = parseCapabilityNames(value);
  if ('unknown' in r) refuse(`invalid ${option}=${value}: unknown capability '${r.unknown}' (use names such as CAP_NET_ADMIN, see capabilities(7), or "all")`);
  return r.names; // empty: nothing to add or drop, as nspawn
}

/** A credential name as systemd takes it: a file name of printable ASCII (no '/', not . or ..), at most 255 bytes. */
export function isCredentialName(id: string): boolean {
  return id !== '' && id !== '.' && id !== '..' && !id.includes('/') && id.length <= 255 && /^[\x20-\x7e]+$/.test(id);
}

/** Splits ID:REST; messages name the option and the ID, never the value (it may be a secret). */
function credentialParts(assignment: string, option: string, restName: string): { id: string; rest: string; label: string } {
  const colon = assignment.indexOf(':');
  if (colon < 0) refuse(`invalid ${option}: use ID:${restName}`);
  const id = assignment.slice(0, colon);
  if (!isCredentialName(id)) refuse(`invalid ${option}: ${JSON.stringify(id)} is no credential name (printable ASCII, no '/', at most 255 bytes)`);
  return { id, rest: assignment.slice(colon + 1), label: `${option} for '${id}'` };
}

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, s: 32, '\\': 92, '"': 34, "'": 39 };

/** Undoes C escapes into bytes, as systemd's cunescape: \n \t \s \\ \xNN, octal \NNN, \uXXXX, \UXXXXXXXX. */
function cUnescape(value: string, label: string): Buffer {
  const out: number[] = [];
  const text = (t: string): void => {
    for (const b of Buffer.from(t, 'utf8')) out.push(b);
  };
  for (let i = 0; i < value.length; ) {
    const slash = value.indexOf('\\', i);
    if (slash < 0) {
      text(value.slice(i));
      break;
    }
    text(value.slice(i, slash));
    const rest = value.slice(slash + 1);
    const bad = (): never => refuse(`invalid ${label}: bad escape '\\${rest.slice(0, 1)}' in the value (use \\n, \\t, \\\\, \\xNN, \\NNN)`);
    let m: RegExpExecArray | null;
    if (rest[0]! in SIMPLE_ESCAPES) {
      out.push(SIMPLE_ESCAPES[rest[0]!]!);
      i = slash + 2;
    } else if ((m = /^x([0-9a-fA-F]{2})/.exec(rest))) {
      out.push(parseInt(m[1]!, 16));
      i = slash + 4;
    } else if ((m = /^([0-7]{3})/.exec(rest))) {
      const n = parseInt(m[1]!, 8);
      if (n > 255) bad();
      out.push(n);
      i = slash + 4;
    } else if ((m = /^(?:u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8}))/.exec(rest))) {
      const cp = parseInt(m[1] ?? m[2]!, 16);
      if (cp > 0x10ffff) bad();
      text(String.fromCodePoint(cp));
      i = slash + 1 + m[0].length;
    } else bad();
  }
  return Buffer.from(out);
}

/** --set-credential=ID:VALUE */
export function parseSetCredential(assignment: string): CredentialSpec {
  const { id, rest, label } = credentialParts(assignment, '--set-credential', 'VALUE');
  const value = cUnescape(rest, label);
  if (value.includes(0)) refuse(`invalid ${label}: the value has a NUL byte (tsnspawn cannot pass those)`);
  return { id, value, option: label };
}

/**
 * --load-credential=ID:PATH: a path (anything with a '/', relative to the
 * working directory) or a name in our own $CREDENTIALS_DIRECTORY, as nspawn.
 */
export function parseLoadCredential(assignment: string): CredentialSpec {
  const { id, rest, label } = credentialParts(assignment, '--load-credential', 'PATH');
  if (rest === '') refuse(`invalid ${label}: give the file to read`);
  if (!rest.includes('/') && !isCredentialName(rest)) refuse(`invalid ${label}: '${rest}' is neither a path nor a credential name`);
  return { id, path: rest.includes('/') ? resolvePath(rest) : rest, option: label };
}

/**
 * The flags of a user's tmpfs before its options: nspawn's (nodev,
 * strictatime) and nosuid, which tsnspawn has always added (suid, dev,
 * noatime or relatime in the options turn them off).
 */
export const TMPFS_DEFAULT_FLAGS = ['nosuid', 'nodev', 'strictatime'] as const;

/** --tmpfs PATH[:OPTIONS]; OPTIONS split into mount flags and tmpfs data, as nspawn. */
export function parseTmpfs(value: string): TmpfsSpec {
  const colon = value.indexOf(':');
  const path = colon < 0 ? value : value.slice(0, colon);
  const options = colon < 0 ? 'mode=0755' : value.slice(colon + 1);
  if (!path.startsWith('/')) refuse(`invalid --tmpfs=${value}: the path must be absolute inside the container`);
  if (path.split('/').includes('..')) refuse(`invalid --tmpfs=${value}: the path must not contain '..'`);
  if (/[\t\n]/.test(options)) refuse(`invalid --tmpfs=${value}: options must not contain tabs or newlines`);
  const { flags, data } = splitMountOptions(options, TMPFS_DEFAULT_FLAGS);
  return { destination: normalizeAbsolute(path), options: data, flags, option: `--tmpfs=${value}` };
}

/** --inaccessible: an absolute path inside the container, not the root (nspawn's inaccessible_mount_parse). */
export function parseInaccessible(value: string, option = `--inaccessible=${value}`): InaccessibleSpec {
  if (!value.startsWith('/')) refuse(`invalid ${option}: use an absolute path inside the container`);
  if (value.split('/').includes('..')) refuse(`invalid ${option}: the path must not contain '..'`);
  const path = normalizeAbsolute(value);
  if (path === '/') refuse(`invalid ${option}: the container's root cannot be made inaccessible`);
  return { path, option };
}

/** --chdir: an absolute path inside the container. */
export function parseChdir(value: string): string {
  if (!value.startsWith('/')) refuse(`invalid --chdir=${value}: use an absolute path inside the container`);
  return normalizeAbsolute(value);
}

/**
 * --overlay/--overlay-ro with nspawn's rules: PATH:PATH[:...]; with three or
 * more, the last is the destination inside and the one before it the upper
 * (writable) tree; with two, the second is both the upper tree on the host
 * and the destination. An empty upper means a throwaway tmpfs.
 */
export function parseOverlay(value: string, readOnly: boolean): OverlaySpec {
  const option = `${readOnly ? '--overlay-ro' : '--overlay'}=${value}`;
  const paths = splitColons(value);
  if (paths.length < 2) refuse(`invalid ${option}: give at least two paths (LOWER:DEST, or LOWER...:UPPER:DEST)`);
  const destination = paths.length === 2 ? paths[1]! : paths[paths.length - 1]!;
  const trees = paths.length === 2 ? paths : paths.slice(0, -1);
  if (!destination.startsWith('/')) refuse(`invalid ${option}: the destination '${destination}' must be an absolute path`);
  if (trees.slice(0, -1).some((t) => t === '')) refuse(`invalid ${option}: only the upper tree may be empty`);
  const tree = (t: string): string => (t === '' ? '' : parseSourcePath(t, (why) => refuse(`invalid ${option}: ${why}`)));
  if (readOnly) {
    if (trees.some((t) => t === '')) refuse(`invalid ${option}: a read-only overlay has no upper tree to leave empty`);
    return { lowers: trees.map(tree), destination: normalizeAbsolute(destination), option };
  }
  return { lowers: trees.slice(0, -1).map(tree), upper: tree(trees[trees.length - 1]!), destination: normalizeAbsolute(destination), option };
}
