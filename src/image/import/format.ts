/** Archive formats by magic bytes, and the decompressor for each (as systemd-importd, we use the system's tools). */
export type ArchiveFormat = 'tar' | 'gzip' | 'xz' | 'zstd' | 'bzip2';

const MAGIC: ReadonlyArray<[ArchiveFormat, number[]]> = [
  ['gzip', [0x1f, 0x8b]],
  ['xz', [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]],
  ['zstd', [0x28, 0xb5, 0x2f, 0xfd]],
  ['bzip2', [0x42, 0x5a, 0x68]],
];

/** The decompressing command for each compressed format (reads stdin, writes stdout). */
export const DECOMPRESSORS: Readonly<Record<Exclude<ArchiveFormat, 'tar'>, string[]>> = {
  gzip: ['gzip', '-dc'],
  xz: ['xz', '-dc', '-T0'],
  zstd: ['zstd', '-dcq'],
  bzip2: ['bzip2', '-dc'],
};

/** Detects the format from the first bytes; 'tar' needs the ustar magic at offset 257, else undefined. */
export function detectFormat(head: Buffer): ArchiveFormat | undefined {
  for (const [fmt, magic] of MAGIC) if (magic.every((b, i) => head[i] === b)) return fmt;
  if (head.length >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return undefined;
}
