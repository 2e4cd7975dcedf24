/** Paths, run counts and the trees the benchmarks use. */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const TOP = fileURLToPath(new URL('../../../', import.meta.url)).replace(/\/$/, '');
export const TSNSPAWN = `${TOP}/bin/tsnspawn`;
export const NSPAWN = '/usr/bin/systemd-nspawn';
/** Scratch space for bundles and tree copies; everything below it is removed after each use. */
export const SCRATCH = '/var/cache/tsnspawn-test/bench';

/** BENCH_RUNS=N overrides every section's default number of alternating runs. */
export function runs(dflt: number): number {
  const v = Number(process.env.BENCH_RUNS);
  return Number.isInteger(v) && v > 0 ? v : dflt;
}

/** The cached tree of recipe NAME (built if missing). */
export function image(name: string): string {
  return execFileSync(`${TOP}/images/build`, [name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
}

export function hasRecipe(name: string): boolean {
  try {
    accessSync(`${TOP}/images/${name}/recipe`, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function scratchDir(prefix: string): string {
  mkdirSync(SCRATCH, { recursive: true });
  return mkdtempSync(`${SCRATCH}/${prefix}-`);
}

/**
 * A private writable copy of a cached tree (the cache is shared and must stay
 * pristine; a writable boot commits machine-id, journal, ...). Removed by fn's end.
 */
export async function withTreeCopy<T>(tree: string, fn: (copy: string) => Promise<T>): Promise<T> {
  const dir = scratchDir('tree');
  try {
    const copy = `${dir}/${tree.split('/').pop()}`;
    execFileSync('cp', ['-a', '--reflink=auto', tree, copy]);
    return await fn(copy);
  } finally {
    execFileSync('rm', ['-rf', '--one-file-system', dir]);
  }
}
