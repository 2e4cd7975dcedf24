/**
 * The size a compressed archive unpacks to, for the message of an import
 * that ran out of space: the decompressor's whole output counted (the
 * formats' own size fields are missing or wrong: zstd from a pipe stores
 * none, gzip keeps it modulo 4 GiB). Only on that failure path.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

export async function decompressedSize(fd: number, decompressor: string[]): Promise<number | undefined> {
  // A new open file description: its offset starts at 0 whatever tar read.
  let input: number;
  try {
    input = openSync(`/proc/self/fd/${fd}`, 'r');
  } catch {
    return undefined;
  }
  try {
    return await new Promise<number | undefined>((resolve) => {
      const child = spawn(decompressor[0]!, decompressor.slice(1), { stdio: [input, 'pipe', 'ignore'] });
      let bytes = 0;
      child.stdout!.on('data', (d: Buffer) => (bytes += d.length));
      child.on('error', () => resolve(undefined));
      child.on('close', (code) => resolve(code === 0 ? bytes : undefined));
    });
  } finally {
    closeSync(input);
  }
}
