/**
 * tsnspawn import-tar FILE|- [NAME]: unpack a rootfs archive into
 * /var/lib/machines/NAME (or --output DIR).
 *
 * GNU tar does the extraction (faithful: owners, modes, setuid bits,
 * xattrs with security.capability, device nodes, hard links; and about ten
 * times faster than node-tar here). The bytes go to GNU tar the shortest
 * way (it reads the file itself, or the decompressor's output through
 * tee(1)); Node reads a copy, walks the member headers (tar-scanner.ts, with
 * the tar package's Header and Pax) and checks each against MemberChecker;
 * a bad member kills the extraction and the archive is refused. GNU tar
 * cannot write outside its directory meanwhile: it refuses '..' members,
 * strips leading '/', and delays symlinks that could lead out. Extraction
 * goes to a staging directory beside the target, renamed into place only
 * when everything succeeded; any failure or signal removes it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, openSync, readSync, closeSync, renameSync, rmSync, statSync, mkdtempSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Readable } from 'node:stream';
import { UserError, refuse } from '../../util/errors.js';
import { DECOMPRESSORS, detectFormat, type ArchiveFormat } from './format.js';
import { MemberChecker } from './member-check.js';
import { Progress } from './progress.js';

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

/**
 * Reads a file through one reused buffer (a read stream allocates per chunk
 * and is several times slower here), yielding between reads.
 */
async function scanFile(file: string, scanner: { write(b: Buffer): void; end(): void; error?: string }, progress: Progress): Promise<void> {
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(4 << 20);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      scanner.write(buf.subarray(0, n));
      progress.add(n);
      if (scanner.error) break;
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    closeSync(fd);
  }
  scanner.end();
  if (scanner.error) throw new Error(scanner.error);
}

function exited(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => reject(new Error(`cannot run ${what}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else reject(new Error(`${what} failed (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').slice(-3).join('; ')}`));
    });
  });
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
  const children: ChildProcess[] = [];
  const cleanups: Array<() => void> = [];
  const cleanup = (): void => {
    // Pipelines run in a process group of their own (ours), so tar and the
    // decompressor die with bash.
    for (const c of children)
      if (c.exitCode === null && c.pid) {
        try {
          process.kill(c.spawnargs[0] === 'bash' ? -c.pid : c.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    // A dying tar may still add a file or two: retry on ENOTEMPTY.
    rmSync(staging, { recursive: true, force: true, maxRetries: 20, retryDelay: 25 });
    for (const c of cleanups) c();
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
    const input: Readable = fromStdin ? process.stdin : createReadStream(opts.file, { highWaterMark: 1 << 20 });
    const waits: Promise<void>[] = [];
    if (fromStdin) {
      // Sniff the format from the first chunk of the stream.
      const first = await new Promise<Buffer>((resolve) => input.once('readable', () => resolve((input.read() as Buffer | null) ?? Buffer.alloc(0))));
      format = detectFormat(first);
      if (!format) refuse('cannot import from stdin: not a tar archive (plain, gzip, xz, zstd or bzip2)');
      input.unshift(first);
    }
    // The same stream, member by member, against the safety rules.
    const { TarScanner } = await import('./tar-scanner.js');
    const checker = new MemberChecker();
    let refusal: string | undefined;
    let gnuTar: ChildProcess | undefined;
    const scanner = new TarScanner((m) => {
      const reason = refusal ? undefined : checker.check(m);
      if (reason && !refusal) {
        refusal = `member '${m.path}': ${reason}`;
        gnuTar?.kill('SIGKILL');
      }
    });
    const scan = (stream: Readable): Promise<void> =>
      new Promise((resolve, reject) => {
        stream.on('data', (c: Buffer) => scanner.write(c));
        stream.on('error', reject);
        stream.on('end', () => {
          scanner.end();
          if (scanner.error) reject(new Error(scanner.error));
          else resolve();
        });
      });
    const tarArgs = [...GNU_TAR_EXTRACT, '-C', staging, '-f'];

    // The archive's bytes take the shortest way to GNU tar (file, or the
    // decompressor through tee(1)); Node only reads a copy to check it.
    if (format === 'tar' && !fromStdin) {
      gnuTar = spawn('tar', [...tarArgs, opts.file], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(gnuTar);
      waits.push(exited(gnuTar, 'tar (extracting)'));
      (input as ReturnType<typeof createReadStream>).destroy();
      waits.push(scanFile(opts.file, scanner, progress));
    } else {
      // One pipeline, so the kernel moves the bytes: [decompress |] tee | tar,
      // with tee's copy on fd 3 for us. tee opens its outputs by name and
      // Node's pipes are sockets, which cannot be opened: bash's process
      // substitution gives tee a real pipe, and cat passes it on to fd 3.
      // We feed the pipeline the (compressed) input.
      const q = (a: string): string => `'${a.replace(/'/g, `'\\''`)}'`;
      const dec = format === 'tar' ? 'cat' : DECOMPRESSORS[format!].map(q).join(' ');
      const script = `set -o pipefail; ${dec} | tee >(exec cat >&3) | tar ${[...tarArgs, '-'].map(q).join(' ')}`;
      const pipeline = spawn('bash', ['-c', script], { stdio: ['pipe', 'ignore', 'pipe', 'pipe'], detached: true });
      gnuTar = pipeline;
      children.push(pipeline);
      waits.push(exited(pipeline, format === 'tar' ? 'tar (extracting)' : `${DECOMPRESSORS[format!][0]} | tar (extracting)`));
      input.on('data', (c: Buffer) => progress.add(c.length));
      input.pipe(pipeline.stdin!);
      pipeline.stdin!.on('error', () => {});
      waits.push(scan(pipeline.stdio[3] as Readable));
    }
    const results = await Promise.allSettled(waits);
    if (refusal) throw new UserError(`cannot import ${opts.file}: ${refusal}; the archive was refused and nothing was kept`);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw new UserError(`cannot import ${opts.file}: ${(failed.reason as Error).message}; nothing was kept`);

    // Into place: the old tree (with --force) goes only once the new one is complete.
    if (existsSync(target)) {
      const old = `${staging}.old`;
      renameSync(target, old);
      renameSync(staging, target);
      rmSync(old, { recursive: true, force: true });
    } else renameSync(staging, target);
    for (const c of cleanups) c();
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
