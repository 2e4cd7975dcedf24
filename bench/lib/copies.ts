/**
 * Throwaway copies of a cached tree, for runs that change the tree on disk
 * (systemd-nspawn's chown of a tree to its user namespace range). All live
 * below one scratch directory that `remove` deletes, chowned or not.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { scratchDir } from './env.js';

export interface TreeFacts {
  mib: number;
  /** Files, directories, links...: what a chown walks. */
  inodes: number;
}

export class TreeCopies {
  readonly dir: string;
  /** The pristine copy every other copy is made from. */
  readonly base: string;
  private n = 0;

  /**
   * `prune`: directories inside the tree whose contents the copies leave out
   * (relative paths), e.g. a journal that grew in the shared cache: the copies
   * then measure the tree as built, not what earlier boots left in it.
   */
  constructor(cached: string, prefix: string, prune: string[] = []) {
    this.dir = scratchDir(prefix);
    this.base = `${this.dir}/base/${cached.split('/').pop()}`;
    try {
      execFileSync('mkdir', ['-p', `${this.dir}/base`]);
      execFileSync('cp', ['-a', '--reflink=auto', cached, this.base]);
      for (const p of prune) for (const e of safeList(`${this.base}/${p}`)) rmSync(`${this.base}/${p}/${e}`, { recursive: true, force: true });
    } catch (e) {
      this.remove();
      throw e;
    }
  }

  /**
   * A fresh copy of the base, with the base's name (the machine name both
   * managers derive from it). Synced: the writeback of a 160 MB copy would
   * otherwise run during the next timed runs.
   */
  fresh(): string {
    const copy = `${this.dir}/${this.n++}/${this.base.split('/').pop()}`;
    execFileSync('mkdir', ['-p', copy.slice(0, copy.lastIndexOf('/'))]);
    execFileSync('cp', ['-a', '--reflink=auto', this.base, copy]);
    this.sync();
    return copy;
  }

  /** Deletes one copy made by fresh() (and syncs, as fresh does). */
  drop(copy: string): void {
    execFileSync('rm', ['-rf', '--one-file-system', copy.slice(0, copy.lastIndexOf('/'))]);
    this.sync();
  }

  /** Writes back what the copies' file system holds dirty (outside the clock). */
  sync(): void {
    execFileSync('sync', ['-f', this.dir]);
  }

  facts(): TreeFacts {
    const kib = Number(execFileSync('du', ['-sk', '--one-file-system', this.base], { encoding: 'utf8' }).split('\t')[0]);
    const inodes = execFileSync('find', [this.base, '-xdev'], { encoding: 'utf8', maxBuffer: 256 << 20 }).split('\n').filter(Boolean).length;
    return { mib: kib / 1024, inodes };
  }

  remove(): void {
    execFileSync('rm', ['-rf', '--one-file-system', this.dir]);
  }
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** The owner uid of a tree's top directory. */
export const ownerOf = (tree: string): number => statSync(tree).uid;
