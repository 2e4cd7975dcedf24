/**
 * --tarball=FILE: the archive is unpacked once into a cache keyed by its
 * content hash; each run is an ephemeral overlay of that tree.
 *
 * The cache holds whole OS trees, so it is private (0700, as systemd keeps
 * /var/lib/machines), and what is unpacked under a hash is exactly what was
 * hashed: the archive is opened once and read only through that
 * descriptor. An archive that someone other than root could change
 * between the hashing and the unpacking (or while tar reads it) is first
 * copied into an unnamed private file, which is hashed and unpacked. For an
 * archive only root can change, a small index keyed by (device, inode,
 * size, ctime) spares hashing it again; nobody can set a ctime back.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { refuse, UserError } from '../util/errors.js';
import { ensurePrivateDirectory } from './private-dir.js';
import { creationErrno, describeOwnError, spaceOf } from './import/failure-cause.js';

/** For failures of the cache's file system: where else the tree can go. */
const ELSEWHERE = 'unpack the archive elsewhere (tsnspawn import-tar --output=DIR FILE) and run that tree with -D DIR -x';

/** Our own writes into the cache (the index, a private copy) failing for the file system's sake, as one line. */
function cacheWriteError(e: unknown, file: string): unknown {
  const errno = creationErrno(e, TARBALL_CACHE);
  if (!errno) {
    const code = (e as NodeJS.ErrnoException).code;
    return code ? new UserError(`cannot use --tarball=${file}: cannot write into the cache ${TARBALL_CACHE} (${(e as Error).message})`) : e;
  }
  const where = { dir: TARBALL_CACHE, elsewhere: ELSEWHERE, freeNow: spaceOf(TARBALL_CACHE) };
  return new UserError(`cannot use --tarball=${file}: ${describeOwnError(errno, where, 'tsnspawn', (e as Error).message)}; nothing was kept`);
}

export const TARBALL_CACHE = process.env.TSNSPAWN_TARBALL_CACHE ?? '/var/cache/tsnspawn/tarballs';

/** open(2)'s O_TMPFILE (with O_DIRECTORY) on Linux: a file with no name, gone when closed. */
const O_TMPFILE = 0o20200000;
const O_RDWR = 2;

/** Reads fd from offset 0 to its end (by position), handing each chunk to each(). */
function readAll(fd: number, each: (chunk: Buffer) => void): void {
  const buf = Buffer.alloc(1 << 20);
  for (let pos = 0; ; ) {
    const n = readSync(fd, buf, 0, buf.length, pos);
    if (n === 0) return;
    each(buf.subarray(0, n));
    pos += n;
  }
}

function sha256Of(fd: number): string {
  const h = createHash('sha256');
  readAll(fd, (chunk) => h.update(chunk));
  return h.digest('hex');
}

/** A copy of fd's content in an unnamed root-only file in dir, and the copy's hash. */
function privateCopy(fd: number, dir: string): { fd: number; hash: string } {
  const copy = openSync(dir, O_TMPFILE | O_RDWR, 0o600);
  try {
    const h = createHash('sha256');
    readAll(fd, (chunk) => {
      h.update(chunk);
      for (let off = 0; off < chunk.length; ) off += writeSync(copy, chunk, off, chunk.length - off);
    });
    return { fd: copy, hash: h.digest('hex') };
  } catch (e) {
    closeSync(copy);
    throw e;
  }
}

/** The hash of a root-only archive, from the index or computed (and then recorded). */
function indexedHash(fd: number): string {
  const st = fstatSync(fd, { bigint: true });
  const key = `${st.dev}-${st.ino}-${st.size}-${st.ctimeNs}`;
  const indexFile = `${TARBALL_CACHE}/index/${key}`;
  const known = existsSync(indexFile) ? readFileSync(indexFile, 'utf8').trim() : '';
  if (/^[0-9a-f]{64}$/.test(known)) return known;
  const hash = sha256Of(fd);
  mkdirSync(`${TARBALL_CACHE}/index`, { recursive: true, mode: 0o700 });
  // Written beside and renamed: a reader never sees half an entry.
  writeFileSync(`${indexFile}.${process.pid}`, `${hash}\n`, { mode: 0o600 });
  renameSync(`${indexFile}.${process.pid}`, indexFile);
  return hash;
}

/** Returns the unpacked tree of the archive, unpacking it first if needed. */
export async function treeForTarball(file: string, quiet: boolean): Promise<string> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    refuse(`cannot use --tarball=${file}: ${code === 'ENOENT' ? 'no such file' : `cannot open it (${code ?? (e as Error).message})`}`);
  }
  const open = [fd];
  try {
    if (!fstatSync(fd).isFile()) refuse(`cannot use --tarball=${file}: not a regular file`);
    try {
      ensurePrivateDirectory(TARBALL_CACHE);
    } catch (e) {
      throw cacheWriteError(e, file);
    }
    const { onlyRootCanChange, fileIdentity, importTar } = await import('./import/import-tar.js');
    let source = fd;
    let hash: string;
    const before = fileIdentity(fstatSync(fd, { bigint: true }));
    try {
      if (onlyRootCanChange(fd)) hash = indexedHash(fd);
      else {
        const copy = privateCopy(fd, TARBALL_CACHE);
        open.push(copy.fd);
        source = copy.fd;
        hash = copy.hash;
      }
    } catch (e) {
      throw cacheWriteError(e, file);
    }
    const tree = `${TARBALL_CACHE}/${hash.slice(0, 32)}`;
    if (!existsSync(tree)) {
      await importTar({ file: `/proc/self/fd/${source}`, label: file, output: tree, force: false, quiet, keepExisting: true, elsewhere: ELSEWHERE });
      // Only root could have changed it, but then the tree may not be what the hash says.
      if (source === fd && fileIdentity(fstatSync(fd, { bigint: true })) !== before) {
        rmSync(tree, { recursive: true, force: true });
        throw new UserError(`cannot use --tarball=${file}: the file changed while it was unpacked; nothing was kept`);
      }
    }
    return tree;
  } finally {
    for (const d of open) closeSync(d);
  }
}
