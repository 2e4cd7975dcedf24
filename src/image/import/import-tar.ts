/**
 * tsnspawn import-tar FILE|- [NAME]: unpack a rootfs archive into
 * /var/lib/machines/NAME (or --output DIR).
 *
 * GNU tar does the extraction (faithful: owners, modes, setuid bits, xattrs
 * with security.capability, device nodes, hard links; about ten times
 * faster than node-tar here), fed by the kernel straight from the file or
 * the decompressor. GNU tar's own -vv listing of the members is checked
 * against MemberChecker as it grows; a bad member kills the extraction and
 * the archive is refused. GNU tar cannot write outside its directory in
 * the meantime: it refuses '..' members, strips leading '/', and delays
 * symlinks that could lead out. Extraction goes to a staging tree inside
 * a private (0700) directory beside the target, renamed into place only
 * when everything succeeded; any failure or signal removes it. Nobody else
 * can reach a tree while it is unpacked or deleted: tar gives the tree the
 * archive's own mode, the private directory around it keeps others out.
 * The target's parent is made 0700 when we create it (and /var/lib/machines
 * tightened to 0700, as systemd keeps it).
 *
 * Who lists: for a plain archive file that only root can change, on a
 * local file system, a second GNU tar (-t) reads the same file on the other
 * CPU; the listing costs the extraction nothing (same reader, same flags,
 * so the same members; the file's identity and ctime are compared before
 * and after as well). Otherwise the extracting tar lists as it goes
 * (-x -vv): for compressed input a second decompressor would cost more
 * than the listing saves. Any listing line not understood refuses the
 * archive: a member that cannot be read cannot be checked.
 */
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statfsSync, type BigIntStats } from 'node:fs';
import { ensurePrivateDirectory, warnIfOpenToOthers } from '../private-dir.js';
import { basename, dirname } from 'node:path';
import { UserError, refuse } from '../../util/errors.js';
import { DECOMPRESSORS, detectFormat, type ArchiveFormat } from './format.js';
import { MemberChecker } from './member-check.js';
import { Progress } from './progress.js';
import { displayPath, LISTING_ENV, LISTING_FLAGS, parseListingLine, parseTarComplaint } from './gnu-listing.js';
import { openListingFile, type ListingFile } from './listing-file.js';
import { ProcessSet } from './process-set.js';
import { creationErrno, describeChildCause, describeNoSpace, errnoOfNodeError, describeOwnError, isFull, spaceOf, type Space, type Where } from './failure-cause.js';
import { ownedStagingPrefix, sweepOwnedStaging } from '../owned-staging.js';

/** The hidden directory an import unpacks into, beside its target, before the rename. */
const IMPORT_STAGING_PREFIX = '.#import-';

/**
 * How GNU tar reads the archive: xattrs of every namespace, owners by
 * number, in 64 KiB records. Extraction and listing share them. The record
 * size changes no member, only the reads: tar's default 10 KiB records cost
 * a read(2) per 10 KiB and split every larger file's data into 10 KiB
 * write(2)s (17,700 reads and 22,500 writes for a Debian tree, about a fifth
 * of the extraction's time); larger records gained nothing more here.
 * --read-full-records refills a record a pipe delivered in pieces (tar
 * implies it for stdin; said outright, it does not hang on that).
 */
const GNU_TAR_READING = ['--xattrs', '--xattrs-include=*', '--numeric-owner', '--blocking-factor=128', '--read-full-records'];
/** GNU tar's faithful extraction as root: the above, plus modes as archived. */
export const GNU_TAR_EXTRACT = [...GNU_TAR_READING, '-xp'];
const GNU_TAR_LIST = [...GNU_TAR_READING, '-t', ...LISTING_FLAGS];
/** stderr lines of tar that explain no failure. */
const TAR_NOISE = /Removing leading|Exiting with failure status/;

export interface ImportOptions {
  file: string; // path or "-"
  /** How messages name the archive (when file is a /proc/self/fd path). */
  label?: string;
  name?: string;
  output?: string;
  force: boolean;
  quiet: boolean;
  /** A complete tree that another import put at the target meanwhile is kept and ours discarded (the tarball cache). */
  keepExisting?: boolean;
  /** How a user puts the tree elsewhere, for failures of the target's file system (default: --output). */
  elsewhere?: string;
}

/** A machine name from an archive's file name: debian-12.tar.xz -> debian-12. */
export function nameFromArchive(file: string): string {
  return basename(file).replace(/\.(tar(\.(gz|xz|zst|zstd|bz2))?|tgz|txz|tzst|tbz2?)$/i, '');
}

/** The first block, read by position: the descriptor's offset stays at 0 for tar. */
function readHead(fd: number): Buffer {
  const buf = Buffer.alloc(512);
  const n = readSync(fd, buf, 0, 512, 0);
  return buf.subarray(0, n);
}

/** The read offset of our descriptor, shared with the process reading it. */
function filePosition(fd: number): number {
  try {
    const m = /^pos:\s+(\d+)/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/** What identifies the archive file's content: a write or utimensat changes ctime, which nobody can set back. */
export function fileIdentity(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.ctimeNs}`;
}

/**
 * File systems whose data two descriptors of one file read alike: local
 * ones (statfs magic numbers). A FUSE or network server could answer each
 * reader differently.
 */
const LOCAL_FILE_SYSTEMS = new Set([
  0xef53, // ext2/3/4
  0x58465342, // xfs
  0x9123683e, // btrfs
  0x01021994, // tmpfs
  0xf2f52010, // f2fs
  0x2fc12fc1, // zfs
  0x794c7630, // overlayfs
]);

/**
 * Whether a second reader of the archive sees what the first one does:
 * the file belongs to root, no group or other may write it (so nobody but
 * root can change it between the reads; a write through a shared mapping
 * would not even change its ctime), and it lies on a local file system.
 * Otherwise the extracting tar lists as it goes.
 */
export function onlyRootCanChange(fd: number): boolean {
  const st = fstatSync(fd);
  if (!st.isFile() || st.uid !== 0 || (st.mode & 0o022) !== 0) return false;
  try {
    return LOCAL_FILE_SYSTEMS.has(statfsSync(`/proc/self/fd/${fd}`).type);
  } catch {
    return false;
  }
}

const shellQuote = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;

interface TarStart {
  processes: ProcessSet;
  file: string;
  format: ArchiveFormat;
  /** The archive (our file, or 0 for stdin). */
  inputFd: number;
  fromStdin: boolean;
  /** Bytes already read from stdin to tell the format. */
  firstChunk: Buffer;
  staging: string;
  /** Where the -vv listing goes. */
  listingFd: number;
  onTarStderr(line: string): void;
  /** Descriptors opened here, for the caller to close. */
  openFds: number[];
}

/**
 * Starts the extraction and its listing. A plain archive file: tar -x, and
 * tar -t on a second descriptor of the same file; returns the file's
 * identity to compare after. Otherwise: [decompressor |] tar -x -vv in bash.
 */
function startTar(t: TarStart): { identity?: string } {
  if (!t.fromStdin && t.format === 'tar' && onlyRootCanChange(t.inputFd)) {
    // The same file, not the same path: a name swapped meanwhile cannot give the listing another archive.
    const listFd = openSync(`/proc/self/fd/${t.inputFd}`, 'r');
    t.openFds.push(listFd);
    const identity = fileIdentity(fstatSync(t.inputFd, { bigint: true }));
    if (fileIdentity(fstatSync(listFd, { bigint: true })) !== identity) throw new UserError(`cannot import ${t.file}: it changed while being opened; nothing was kept`);
    // Quoting and locale as for the listing: its complaints on stderr are parsed too.
    t.processes.start({
      label: 'tar',
      argv: ['tar', ...GNU_TAR_EXTRACT, '--quoting-style=c', '-C', t.staging, '-f', '-'],
      stdio: [t.inputFd, 'ignore', 'pipe'],
      env: LISTING_ENV,
      onStderrLine: t.onTarStderr,
      noise: TAR_NOISE,
    });
    t.processes.start({ label: 'tar listing', argv: ['tar', ...GNU_TAR_LIST, '-f', '-'], stdio: [listFd, t.listingFd, 'pipe'], env: LISTING_ENV, onStderrLine: () => {}, noise: TAR_NOISE });
    return { identity };
  }
  const tarCmd = ['tar', ...GNU_TAR_EXTRACT, ...LISTING_FLAGS, '-C', t.staging, '-f', '-'].map(shellQuote).join(' ');
  const decompressor = t.format === 'tar' ? undefined : DECOMPRESSORS[t.format];
  const dec = decompressor ? `${decompressor.map(shellQuote).join(' ')} | ` : '';
  const child = t.processes.start({
    label: decompressor ? `${decompressor[0]} | tar` : 'tar',
    argv: ['bash', '-c', `set -o pipefail; ${dec}${tarCmd}`],
    stdio: [t.fromStdin ? 'pipe' : t.inputFd, t.listingFd, 'pipe'],
    env: LISTING_ENV,
    onStderrLine: t.onTarStderr,
    noise: TAR_NOISE,
  });
  if (t.fromStdin) {
    child.stdin!.on('error', () => {});
    child.stdin!.write(t.firstChunk);
    process.stdin.pipe(child.stdin!);
  }
  return {};
}

/** Where the tree goes; its parent made private (created 0700; /var/lib/machines tightened as systemd has it). */
function prepareParent(target: string, isDefault: boolean): void {
  const parent = dirname(target);
  if (isDefault || !existsSync(parent)) ensurePrivateDirectory(parent);
  else warnIfOpenToOthers(parent);
}

/**
 * Puts the finished tree at the target. rename(2) never replaces a
 * non-empty directory, so a tree another import finished meanwhile stays:
 * the tarball cache takes it (same content hash), a plain import refuses.
 * Only --force replaces, and the old tree goes into the private directory
 * to be deleted where nobody else can reach it.
 */
function moveIntoPlace(tree: string, target: string, privateDir: string, opts: ImportOptions, shown: string): void {
  if (opts.force && existsSync(target)) renameSync(target, `${privateDir}/old`);
  try {
    renameSync(tree, target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    if (opts.keepExisting) return;
    throw new UserError(`cannot import ${shown} into ${target}: another import put a tree there meanwhile (use --force to replace it); nothing was kept`);
  }
}

/**
 * Facts for a message about the target's file system: the tree's size
 * when it can be known (a plain archive's size; a compressed file's
 * decompressed size, counted now: only on this failure path), and the space.
 */
async function whereFacts(target: string, opts: ImportOptions, freeBefore: Space | undefined, format: ArchiveFormat, inputFd: number | undefined): Promise<Where> {
  const dir = dirname(target);
  let treeBytes: number | undefined;
  if (inputFd !== undefined) {
    if (format === 'tar') treeBytes = fstatSync(inputFd).size;
    else {
      const { decompressedSize } = await import('./decompressed-size.js');
      treeBytes = await decompressedSize(inputFd, DECOMPRESSORS[format]);
    }
  }
  return { dir, elsewhere: opts.elsewhere ?? 'import elsewhere with --output=DIR', treeBytes, freeBefore, freeNow: spaceOf(dir) };
}

/** A failure to make the target's directories, as one line (a read-only or full file system named as such). */
function placeError(e: unknown, target: string, opts: ImportOptions, shown: string): Error {
  const errno = creationErrno(e, dirname(target));
  const where: Where = { dir: dirname(target), elsewhere: opts.elsewhere ?? 'import elsewhere with --output=DIR', freeNow: spaceOf(dirname(target)) };
  if (errno) return new UserError(`cannot import ${shown}: ${describeOwnError(errno, where, 'tsnspawn', (e as Error).message)}; nothing was kept`);
  const code = (e as NodeJS.ErrnoException).code;
  if (code) return new UserError(`cannot import ${shown}: cannot create a directory in ${dirname(target)} (${code}: ${(e as Error).message}); nothing was kept`);
  return e as Error;
}

export async function importTar(opts: ImportOptions): Promise<string> {
  const fromStdin = opts.file === '-';
  const shown = opts.label ?? opts.file;
  if (!fromStdin && !existsSync(opts.file)) refuse(`cannot import ${shown}: no such file`);
  const name = opts.name ?? (fromStdin ? undefined : nameFromArchive(opts.file));
  if (!opts.output && !name) refuse('cannot import from stdin without a NAME: give one, or --output DIR');
  const { parseMachineName } = await import('../../settings/values.js');
  if (name) parseMachineName(name, 'NAME');
  const target = opts.output ?? `/var/lib/machines/${name}`;
  if (existsSync(target) && !opts.force) refuse(`cannot import into ${target}: it exists (use --force to replace it)`);
  try {
    prepareParent(target, opts.output === undefined);
  } catch (e) {
    throw placeError(e, target, opts, shown);
  }

  // The archive is opened once; everything after reads this descriptor.
  const inputFd = fromStdin ? 0 : openSync(opts.file, 'r');
  let format: ArchiveFormat | undefined;
  if (!fromStdin) {
    format = detectFormat(readHead(inputFd));
    if (!format) {
      closeSync(inputFd);
      refuse(`cannot import ${shown}: not a tar archive (plain, gzip, xz, zstd or bzip2)`);
    }
  }

  // mkdtemp makes it 0700: the tree inside gets the archive's mode, and nobody else can reach it.
  let privateDir: string;
  try {
    // Named after us (owned-staging.ts): one an import that was SIGKILLed left goes at the next import beside it.
    sweepOwnedStaging(dirname(target), IMPORT_STAGING_PREFIX, 'an unfinished import');
    privateDir = mkdtempSync(`${dirname(target)}/${ownedStagingPrefix(IMPORT_STAGING_PREFIX)}${basename(target).slice(0, 160)}-`);
  } catch (e) {
    if (!fromStdin) closeSync(inputFd);
    throw placeError(e, target, opts, shown);
  }
  const staging = `${privateDir}/tree`;
  mkdirSync(staging, { mode: 0o700 });
  const freeBefore = spaceOf(privateDir);
  const processes = new ProcessSet();
  const removePrivateDir = (): void => {
    // A dying tar may still add a file or two: retry on ENOTEMPTY.
    rmSync(privateDir, { recursive: true, force: true, maxRetries: 20, retryDelay: 25 });
  };
  const cleanup = (): void => {
    processes.kill();
    removePrivateDir();
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanup();
    process.stderr.write(`\ntsnspawn: import of ${shown} interrupted; nothing was kept\n`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = new Progress(`Importing ${shown}`, fromStdin ? undefined : fstatSync(inputFd).size, opts.quiet);
  const openFds: number[] = fromStdin ? [] : [inputFd];
  let listing: ListingFile | undefined;
  try {
    // The processes' stdin is our file (or our stdin) itself, so the kernel
    // moves the bytes and the shared file offset gives the progress.
    let firstChunk: Buffer = Buffer.alloc(0);
    if (fromStdin) {
      // Tell the format from the first bytes; they are passed on below.
      firstChunk = await new Promise<Buffer>((resolve) =>
        process.stdin.once('readable', () => resolve((process.stdin.read() as Buffer | null) ?? Buffer.alloc(0))),
      );
      format = detectFormat(firstChunk);
      if (!format) refuse('cannot import from stdin: not a tar archive (plain, gzip, xz, zstd or bzip2)');
    }
    const checker = new MemberChecker();
    // 'member': the archive itself is bad; 'listing': tar's account of it
    // cannot be read, which a failure elsewhere (a full disk) also causes.
    let refusal: { why: string; kind: 'member' | 'listing'; at: number } | undefined;
    const refuseWith = (why: string, kind: 'member' | 'listing'): void => {
      if (refusal) return;
      refusal = { why, kind, at: processes.mark() };
      processes.kill();
    };
    const onTarStderr = (line: string): void => {
      const complaint = parseTarComplaint(line);
      if (complaint) refuseWith(complaint, 'member');
    };

    // GNU tar writes one line per member, each its own write(2); into a
    // pipe every line woke us and cost ~100 ms per Debian import. Into an
    // unlinked file the writes are cheap, and we read it by position as it grows.
    const listingFile = openListingFile(privateDir);
    listing = listingFile;
    const { identity } = startTar({ processes, file: opts.file, format: format!, inputFd, fromStdin, firstChunk, staging, listingFd: listingFile.writeFd, onTarStderr, openFds });
    listingFile.closeWriter();

    const checkListing = (): void => {
      try {
        for (const line of listingFile.newLines()) {
          if (refusal) return;
          const m = parseListingLine(line);
          if (m === 'note') continue;
          // A line we cannot read may be a member we cannot check.
          if (m === undefined) return refuseWith(`tar's listing has a line not understood: ${JSON.stringify(displayPath(line))}`, 'listing');
          const reason = checker.check(m);
          if (reason) refuseWith(displayPath(`member '${m.path}': ${reason}`), 'member');
        }
      } catch (e) {
        refuseWith(`cannot read tar's listing: ${(e as Error).message}`, 'listing');
      }
    };
    const timer = setInterval(() => {
      checkListing();
      if (!fromStdin) progress.set(filePosition(inputFd));
    }, 50);
    const failure = await processes.finished();
    clearInterval(timer);
    checkListing();
    if (listingFile.pendingBytes() > 0) refuseWith("tar's listing ends in the middle of a line", 'listing');
    if (refusal || failure) {
      // Before the staging tree goes: is its file system full now?
      const full = isFull(spaceOf(privateDir));
      const first = processes.firstCause();
      const archiveAtFault = refusal?.kind === 'member' && (!first || refusal.at < first.at);
      if (!archiveAtFault && (first || full)) {
        cleanup();
        const where = await whereFacts(target, opts, freeBefore, format!, fromStdin ? undefined : inputFd);
        const clause = first ? describeChildCause(first.cause, where) : describeNoSpace(where, full);
        throw new UserError(`cannot import ${shown}: ${clause}; nothing was kept`);
      }
    }
    if (refusal) throw new UserError(`cannot import ${shown}: ${refusal.why}; the archive was refused and nothing was kept`);
    if (failure) throw new UserError(`cannot import ${shown}: ${failure}; nothing was kept`);
    if (identity && fileIdentity(fstatSync(inputFd, { bigint: true })) !== identity)
      throw new UserError(`cannot import ${shown}: the file changed during the import; nothing was kept`);
    if (!fromStdin) progress.set(fstatSync(inputFd).size);

    // Into place: the old tree (with --force) goes only once the new one is complete.
    moveIntoPlace(staging, target, privateDir, opts, shown);
    removePrivateDir();
    progress.finish(`Imported ${shown} into ${target}`);
    return target;
  } catch (e) {
    progress.clear();
    cleanup();
    // Our own writes (the listing file, the rename) fail for the same reasons tar's do.
    const errno = errnoOfNodeError(e);
    if (errno && !(e instanceof UserError))
      throw new UserError(`cannot import ${shown}: ${describeOwnError(errno, await whereFacts(target, opts, freeBefore, format!, undefined), 'tsnspawn', (e as Error).message)}; nothing was kept`);
    throw e;
  } finally {
    for (const fd of openFds) closeSync(fd);
    listing?.close();
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
