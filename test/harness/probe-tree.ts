/**
 * A static C probe from test/harness, built with gcc and bound into a copy
 * of the busybox tree (binding a file in makes its mount point in the tree,
 * so not in the cached one), run under tsnspawn or Debian's systemd-nspawn
 * with the same options.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { execa } from 'execa';
import { image } from './images.js';
import { TOP } from './paths.js';
import { runClean, type RunOptions, type RunResult } from './run.js';

export class ProbeTree {
  readonly tree: string;
  private readonly work: string;
  private readonly probe: string;

  /** source: a file name in test/harness, e.g. "syscall-probe.c". */
  constructor(source: string) {
    this.work = mkdtempSync('/var/tmp/tsnspawn-probe-tree-');
    this.tree = `${this.work}/tree`;
    execFileSync('cp', ['-a', image('busybox'), this.tree]);
    this.probe = `${this.work}/probe`;
    execFileSync('gcc', ['-static', '-O2', '-o', this.probe, `${TOP}/test/harness/${source}`]);
  }

  /** The probe under tsnspawn (-q -P), with extra options; leaks checked after. */
  ours(options: string[] = [], opts: RunOptions = {}): Promise<RunResult> {
    return runClean(['-q', '-P', ...options, ...this.treeArgs(), '/probe'], [this.tree], opts);
  }

  /** The tree with the probe bound in at /probe, for a container started some other way. */
  treeArgs(): string[] {
    return ['-D', this.tree, `--bind-ro=${this.probe}:/probe`];
  }

  /** The probe on the host itself, outside any container: what this kernel offers. */
  onHost(): string {
    return execFileSync(this.probe, { encoding: 'utf8' });
  }

  /** The probe under systemd-nspawn with the same options; its stdout. */
  async theirs(options: string[] = []): Promise<string> {
    const r = await execa('systemd-nspawn', ['-q', '-P', '--register=no', '--keep-unit', ...options, '-D', this.tree, `--bind-ro=${this.probe}:/probe`, '/probe'], { reject: false });
    if (r.exitCode !== 0) throw new Error(`systemd-nspawn failed: ${String(r.stderr)}`);
    return String(r.stdout);
  }

  remove(): void {
    rmSync(this.work, { recursive: true, force: true });
  }
}
