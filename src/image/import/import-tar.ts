/**
 * tsnspawn import-tar FILE|- [NAME]: unpack a rootfs archive into
 * /var/lib/machines/NAME (or --output DIR).
 *
 * GNU tar does the extraction (faithful: owners, modes, setuid bits, xattrs
 * with security.capability, device nodes, hard links; about ten times
 * faster than node-tar here), fed by the kernel straight from the file or
 * the decompressor. Its -vv listing of each member it extracts is checked
 * against MemberChecker as it goes; a bad member kills the extraction and
 * the archive is refused. GNU tar cannot write outside its directory in
 * the meantime: it refuses '..' members, strips leading '/', and delays
 * symlinks that could lead out. Extraction goes to a staging directory
 * beside the target, renamed into place only when everything succeeded;
 * any failure or signal removes it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { UserError, refuse } from '../../util/errors.js';
import { DECOMPRESSORS, detectFormat, type ArchiveFormat } from './format.js';
import { MemberChecker } from './member-check.js';
import { Progress } from './progress.js';
import { LISTING_FLAGS, parseListingLine, parseTarComplaint } from './gnu-listing.js';

/** GNU tar's faithful extraction as root: owners by number, modes, xattrs of every namespace. */
export const GNU_TAR_EXTRACT = ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xp'];

export interface ImportOptions {
  file: string; // path or "-"
  name?: string;
  output?: string;
  force: boolean;
  quiet: boolean;
}

/** A machine name from an archive's file name: debian-12.tar.xz -> debian-12. */
export function nameFromArchive(file: string): string {
  return basename(file).replace(/\.(tar(\.(gz|xz|zst|zstd|bz2))?|tgz|txz|tzst|tbz2?)$/i, '');
}

function readHead(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(512);
    const n = readSync(fd, buf, 0, 512, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
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

export async function importTar(opts: ImportOptions): Promise<string> {
  const fromStdin = opts.file === '-';
  if (!fromStdin && !existsSync(opts.file)) refuse(`cannot import ${opts.file}: no such file`);
  const name = opts.name ?? (fromStdin ? undefined : nameFromArchive(opts.file));
  if (!opts.output && !name) refuse('cannot import from stdin without a NAME: give one, or --output DIR');
  const { parseMachineName } = await import('../../settings/values.js');
  if (name) parseMachineName(name, 'NAME');
  const target = opts.output ?? `/var/lib/machines/${name}`;
  if (existsSync(target) && !opts.force) refuse(`cannot import into ${target}: it exists (use --force to replace it)`);
  mkdirSync(dirname(target), { recursive: true });

  let format: ArchiveFormat | undefined;
  if (!fromStdin) {
    format = detectFormat(readHead(opts.file));
    if (!format) refuse(`cannot import ${opts.file}: not a tar archive (plain, gzip, xz, zstd or bzip2)`);
  }

  const staging = mkdtempSync(`${dirname(target)}/.#import-${basename(target)}-`);
  let pipeline: ChildProcess | undefined;
  /** The pipeline runs in a process group of its own (ours), so tar and the decompressor die with bash. */
  const killPipeline = (): void => {
    if (pipeline?.pid === undefined || pipeline.exitCode !== null) return;
    try {
      process.kill(-pipeline.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  };
  const cleanup = (): void => {
    killPipeline();
    // A dying tar may still add a file or two: retry on ENOTEMPTY.
    rmSync(staging, { recursive: true, force: true, maxRetries: 20, retryDelay: 25 });
  };
  const onSignal = (sig: NodeJS.Signals): void => {
    cleanup();
    process.stderr.write(`\ntsnspawn: import of ${opts.file} interrupted; nothing was kept\n`);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const progress = new Progress(`Importing ${opts.file}`, fromStdin ? undefined : statSync(opts.file).size, opts.quiet);
  try {
    // One pipeline, so the kernel moves the bytes: [decompress |] tar -xvv.
    // Its stdin is our file (or our stdin) itself: the shared file offset
    // gives the progress. Its listing of every member it extracts comes to
    // us line by line and is checked; a bad member kills the pipeline.
    const inputFd = fromStdin ? 0 : openSync(opts.file, 'r');
    let firstChunk: Buffer = Buffer.alloc(0);
    if (fromStdin) {
      // Tell the format from the first bytes; they are passed on below.
      firstChunk = await new Promise<Buffer>((resolve) =>
        process.stdin.once('readable', () => resolve((process.stdin.read() as Buffer | null) ?? Buffer.alloc(0))),
      );
      format = detectFormat(firstChunk);
      if (!format) refuse('cannot import from stdin: not a tar archive (plain, gzip, xz, zstd or bzip2)');
    }
    const q = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
    const tarCmd = ['tar', ...GNU_TAR_EXTRACT, ...LISTING_FLAGS, '-C', staging, '-f', '-'].map(q).join(' ');
    const dec = format === 'tar' ? '' : `${DECOMPRESSORS[format as Exclude<ArchiveFormat, 'tar'>].map(q).join(' ')} | `;
    const stdinSource = fromStdin ? 'pipe' : inputFd;
    const child = spawn('bash', ['-c', `set -o pipefail; ${dec}${tarCmd}`], { stdio: [stdinSource, 'pipe', 'pipe'], detached: true });
    pipeline = child;
    if (fromStdin) {
      child.stdin!.on('error', () => {});
      child.stdin!.write(firstChunk);
      process.stdin.pipe(child.stdin!);
    }
    const checker = new MemberChecker();
    let refusal: string | undefined;
    const refuseWith = (why: string): void => {
      if (refusal) return;
      refusal = why;
      killPipeline();
    };
    const lines = (stream: Readable, fn: (line: string) => void): void => {
      let buf = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => {
        buf += d;
        let nl;
        while ((nl = buf.indexOf('\n')) >= 0) {
          fn(buf.slice(0, nl));
          buf = buf.slice(nl + 1);
        }
      });
    };
    lines(child.stdout!, (line) => {
      const m = parseListingLine(line);
      if (!m) return;
      const reason = checker.check(m);
      if (reason) refuseWith(`member '${m.path}': ${reason}`);
    });
    let stderr = '';
    lines(child.stderr!, (line) => {
      const complaint = parseTarComplaint(line);
      if (complaint) refuseWith(complaint);
      else if (!/Removing leading|Exiting with failure status/.test(line)) stderr += line + '\n';
    });
    const timer = fromStdin ? undefined : setInterval(() => progress.set(filePosition(inputFd)), 100);
    const failure = await new Promise<string | undefined>((resolve) => {
      child.on('error', (e) => resolve(`cannot run tar: ${e.message}`));
      child.on('close', (code, signal) => {
        if (timer) clearInterval(timer);
        if (!fromStdin) closeSync(inputFd);
        const what = format !== 'tar' ? `${DECOMPRESSORS[format as Exclude<ArchiveFormat, 'tar'>][0]} | tar` : 'tar';
        resolve(code === 0 ? undefined : `${what} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join('; ')}`);
      });
    });
    if (refusal) throw new UserError(`cannot import ${opts.file}: ${refusal}; the archive was refused and nothing was kept`);
    if (failure) throw new UserError(`cannot import ${opts.file}: ${failure}; nothing was kept`);
    if (!fromStdin) progress.set(statSync(opts.file).size);

    // Into place: the old tree (with --force) goes only once the new one is complete.
    if (existsSync(target)) {
      const old = `${staging}.old`;
      renameSync(target, old);
      renameSync(staging, target);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(staging, target);
    progress.finish(`Imported ${opts.file} into ${target}`);
    return target;
  } catch (e) {
    progress.clear();
    cleanup();
    throw e;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
