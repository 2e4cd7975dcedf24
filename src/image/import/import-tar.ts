/**
 * tsnspawn import-tar FILE|- [NAME]: unpack a rootfs archive into
 * /var/lib/machines/NAME (or --output DIR).
 *
 * GNU tar does the extraction (faithful: owners, modes, setuid bits,
 * xattrs with security.capability, device nodes, hard links; and about ten
 * times faster than node-tar here). The same decompressed stream feeds the
 * tar package's parser, which checks every member against MemberChecker;
 * a bad member kills the extraction and the archive is refused. GNU tar
 * cannot write outside its directory meanwhile: it refuses '..' members,
 * strips leading '/', and delays symlinks that could lead out. Extraction
 * goes to a staging directory beside the target, renamed into place only
 * when everything succeeded; any failure or signal removes it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, openSync, readSync, closeSync, renameSync, rmSync, statSync, mkdtempSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { UserError, refuse } from '../../util/errors.js';
import { DECOMPRESSORS, detectFormat, type ArchiveFormat } from './format.js';
import { MemberChecker } from './member-check.js';
import { Progress } from './progress.js';

export const GNU_TAR_EXTRACT = ['--xattrs', "--xattrs-include=*", '--numeric-owner', '-xpf', '-'];

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

/** Writes every chunk to all sinks, pausing the source until all of them drained (bounded memory). */
function tee(source: Readable, sinks: Writable[], onChunk: (n: number) => void): void {
  source.on('data', (chunk: Buffer) => {
    onChunk(chunk.length);
    let waiting = 0;
    for (const s of sinks)
      if (!s.write(chunk)) {
        waiting++;
        s.once('drain', () => {
          if (--waiting === 0) source.resume();
        });
      }
    if (waiting > 0) source.pause();
  });
  source.on('end', () => sinks.forEach((s) => s.end()));
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
  const cleanup = (): void => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(staging, { recursive: true, force: true });
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
    let plain: Readable;
    const waits: Promise<void>[] = [];
    if (fromStdin) {
      // Sniff the format from the first chunk of the stream.
      const first = await new Promise<Buffer>((resolve) => input.once('readable', () => resolve((input.read() as Buffer | null) ?? Buffer.alloc(0))));
      format = detectFormat(first);
      if (!format) refuse('cannot import from stdin: not a tar archive (plain, gzip, xz, zstd or bzip2)');
      input.unshift(first);
    }
    if (format === 'tar') plain = input;
    else {
      const [cmd, ...args] = DECOMPRESSORS[format!];
      const dec = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
      children.push(dec);
      waits.push(exited(dec, `${cmd} (decompressing ${opts.file})`));
      input.on('data', (c: Buffer) => progress.add(c.length));
      input.pipe(dec.stdin!);
      dec.stdin!.on('error', () => {});
      plain = dec.stdout!;
    }
    const gnuTar = spawn('tar', [...GNU_TAR_EXTRACT, '-C', staging], { stdio: ['pipe', 'ignore', 'pipe'] });
    children.push(gnuTar);
    gnuTar.stdin!.on('error', () => {});
    waits.push(exited(gnuTar, 'tar (extracting)'));

    // The tar package parses the same stream, member by member.
    const { Parser } = await import('tar');
    const checker = new MemberChecker();
    let refusal: string | undefined;
    const parser = new Parser({
      strict: true,
      onReadEntry: (entry) => {
        const reason = refusal ? undefined : checker.check({
          path: entry.path,
          type: entry.type,
          linkpath: entry.linkpath,
          devmajor: entry.header?.devmaj,
          devminor: entry.header?.devmin,
        });
        if (reason && !refusal) {
          refusal = `member '${entry.path}': ${reason}`;
          gnuTar.kill('SIGKILL');
        }
        entry.resume();
      },
    });
    const parsed = new Promise<void>((resolve, reject) => {
      parser.on('end', () => resolve());
      parser.on('error', (e: Error) => reject(e));
      parser.on('warn', (code: string, msg: string | Error) => {
        if (code === 'TAR_BAD_ARCHIVE' || code === 'TAR_ENTRY_INVALID') reject(new Error(String(msg)));
      });
    });
    tee(plain, [gnuTar.stdin!, parser as unknown as Writable], format === 'tar' ? (n) => progress.add(n) : () => {});
    const results = await Promise.allSettled([parsed, ...waits]);
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
