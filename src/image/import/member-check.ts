/**
 * Safety rules for the members of an archive that becomes an OS tree. An
 * archive breaking one is refused whole, naming the member. Pure: fed one
 * header at a time, in archive order.
 */
import { DEVICE_NODES } from '../../plan/devices.js';

export interface Member {
  path: string;
  type: string; // node-tar's names: File, OldFile, ContiguousFile, Directory, SymbolicLink, Link, CharacterDevice, BlockDevice, FIFO, ...
  linkpath?: string;
  devmajor?: number;
  devminor?: number;
}

/** Character devices an OS tree may carry (the container's standard set, plus console and ptmx). */
const ALLOWED_CHAR_DEVICES = new Set([...DEVICE_NODES.map((d) => `${d.major}:${d.minor}`), '5:1', '5:2']);

const REGULAR = new Set(['File', 'OldFile', 'ContiguousFile']);
const METADATA = new Set(['ExtendedHeader', 'GlobalExtendedHeader', 'NextFileHasLongPath', 'NextFileHasLongLinkpath', 'OldGnuLongPath', 'OldExtendedHeader']);

function components(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

/** An empty or '.' component anywhere: the name needs components() to normalise. */
const ODD_COMPONENT = /(?:^|\/)\.?(?:\/|$)/;
/** A '..' component anywhere. */
const DOT_DOT = /(?:^|\/)\.\.(?:\/|$)/;

/**
 * The name without empty and '.' components: "./a//b/" -> "a/b". This runs
 * once per member, mostly before V8 has compiled it (a Debian tree's 8,200
 * members): the usual "./a/b" or "./a/b/" only loses its "./" and its last
 * '/', and only odd names are split and joined.
 */
function normalise(path: string): string {
  let p = path;
  while (p.startsWith('./')) p = p.slice(2);
  if (p.endsWith('/')) p = p.slice(0, -1);
  return ODD_COMPONENT.test(p) ? components(p).join('/') : p;
}

/** The first proper prefix of a normalised path ("a/b/c": "a", then "a/b") in set, if any. */
function firstParentIn(norm: string, set: ReadonlySet<string>): string | undefined {
  if (set.size === 0) return undefined;
  for (let slash = norm.indexOf('/'); slash >= 0; slash = norm.indexOf('/', slash + 1)) {
    const parent = norm.slice(0, slash);
    if (set.has(parent)) return parent;
  }
  return undefined;
}

export class MemberChecker {
  /** Paths (normalised) that are symlinks so far: nothing may be extracted through them. */
  private readonly symlinks = new Set<string>();

  /** Returns a reason when the member must be refused, else undefined. */
  check(m: Member): string | undefined {
    if (METADATA.has(m.type)) return undefined;
    if (m.path.startsWith('/')) return 'absolute member name';
    const norm = normalise(m.path);
    if (DOT_DOT.test(norm)) return "member name with '..'";
    const through = firstParentIn(norm, this.symlinks);
    if (through !== undefined) return `extracted through the symlink ${through}`;
    switch (m.type) {
      case 'SymbolicLink':
        this.symlinks.add(norm);
        return undefined;
      case 'Link': {
        const target = m.linkpath ?? '';
        if (target.startsWith('/')) return `hard link to the absolute path ${target}`;
        const targetNorm = normalise(target);
        if (DOT_DOT.test(targetNorm)) return `hard link to ${target}, outside the archive`;
        const via = firstParentIn(targetNorm, this.symlinks) ?? (this.symlinks.has(targetNorm) ? targetNorm : undefined);
        if (via !== undefined) return `hard link through the symlink ${via}`;
        this.symlinks.delete(norm);
        return undefined;
      }
      case 'BlockDevice':
        return `block device ${m.devmajor}:${m.devminor}`;
      case 'CharacterDevice':
        if (!ALLOWED_CHAR_DEVICES.has(`${m.devmajor}:${m.devminor}`)) return `character device ${m.devmajor}:${m.devminor} (only the standard pseudo devices are allowed)`;
        this.symlinks.delete(norm);
        return undefined;
      case 'Directory':
        if (this.symlinks.has(norm)) return 'directory over an earlier symlink of the same name';
        return undefined;
      case 'FIFO':
        this.symlinks.delete(norm);
        return undefined;
      default:
        if (REGULAR.has(m.type)) {
          this.symlinks.delete(norm);
          return undefined;
        }
        return `unsupported member type ${m.type}`;
    }
  }
}
