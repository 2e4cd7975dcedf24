/**
 * A place for GNU tar's member listing: a file opened twice (tar writes
 * through one descriptor, we read through the other by position) and
 * unlinked at once, so nothing is left behind whatever happens to us.
 */
import { closeSync, openSync, readSync, unlinkSync } from 'node:fs';

export interface ListingFile {
  /** For the child's stdout. */
  writeFd: number;
  /** Bytes after the last complete line (after the writers ended: a line cut short). */
  pendingBytes(): number;
  /** Drops our copy of writeFd once the children have theirs. */
  closeWriter(): void;
  /** Complete lines written since the last call. */
  newLines(): string[];
  /** Closes both descriptors (again: no-op). */
  close(): void;
}

export function openListingFile(dir: string): ListingFile {
  const path = `${dir}/.#import-listing-${process.pid}-${Date.now()}`;
  const writeFd = openSync(path, 'wx', 0o600);
  let readFd: number;
  try {
    readFd = openSync(path, 'r');
  } catch (e) {
    closeSync(writeFd);
    throw e;
  } finally {
    unlinkSync(path);
  }
  let writerOpen = true;
  let readerOpen = true;
  let position = 0;
  let partial = Buffer.alloc(0);
  const chunk = Buffer.alloc(1 << 20);
  return {
    writeFd,
    newLines(): string[] {
      const pieces = [partial];
      for (let n; (n = readSync(readFd, chunk, 0, chunk.length, position)) > 0; position += n) pieces.push(Buffer.from(chunk.subarray(0, n)));
      const bytes = Buffer.concat(pieces);
      // Split on the last newline in bytes, so a multibyte name cut by a read stays whole.
      const end = bytes.lastIndexOf(10) + 1;
      partial = bytes.subarray(end);
      if (end === 0) return [];
      return bytes.toString('utf8', 0, end - 1).split('\n');
    },
    pendingBytes(): number {
      return partial.length;
    },
    closeWriter(): void {
      if (writerOpen) closeSync(writeFd);
      writerOpen = false;
    },
    close(): void {
      this.closeWriter();
      if (readerOpen) closeSync(readFd);
      readerOpen = false;
    },
  };
}
