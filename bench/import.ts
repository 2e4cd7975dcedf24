/**
 * import-tar against GNU tar alone, extracting the same Debian 12 archive
 * (plain and zstd) onto tmpfs (/dev/shm), alternating; medians and the best
 * runs (this 2-CPU machine's tar times are bimodal, 280 or 370 ms, so a
 * median of few runs swings), their ratios, and tsnspawn's peak memory.
 * Not a test. Needs root.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { archives } from '../test/harness/archives.js';

const TOP = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const RUNS = Number(process.env.BENCH_RUNS ?? 11);
const DEST = '/dev/shm/tsnspawn-bench-import';

function timed(cmd: string, args: string[]): { ms: number; maxRssKb: number } {
  rmSync(DEST, { recursive: true, force: true });
  mkdirSync(DEST, { recursive: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  const maxRssKb = Number(r.stderr.trim().split('\n').pop());
  return { ms, maxRssKb };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const files = archives();
execFileSync('sh', ['-c', 'command -v /usr/bin/time >/dev/null']);
try {
  for (const [label, file, gnu] of [
    ['plain tar', files.tar!, `tar --xattrs --xattrs-include='*' --numeric-owner -xpf "${files.tar}" -C ${DEST}/t`],
    ['zstd', files.zstd!, `zstd -dcq "${files.zstd}" | tar --xattrs --xattrs-include='*' --numeric-owner -xpf - -C ${DEST}/t`],
  ] as const) {
    const ours: number[] = [];
    const theirs: number[] = [];
    let rss = 0;
    for (let i = 0; i < RUNS; i++) {
      const a = timed(`${TOP}/bin/tsnspawn`, ['import-tar', '-q', `--output=${DEST}/t`, file]);
      ours.push(a.ms);
      rss = Math.max(rss, a.maxRssKb);
      theirs.push(timed('sh', ['-c', `mkdir ${DEST}/t && ${gnu}`]).ms);
    }
    const a = median(ours);
    const b = median(theirs);
    const bestA = Math.min(...ours);
    const bestB = Math.min(...theirs);
    console.log(
      `import ${label}: tsnspawn median ${a.toFixed(0)} ms, best ${bestA.toFixed(0)} ms (peak RSS ${(rss / 1024).toFixed(0)} MiB); ` +
        `GNU tar median ${b.toFixed(0)} ms, best ${bestB.toFixed(0)} ms; ratio of medians ${(a / b).toFixed(2)}, of bests ${(bestA / bestB).toFixed(2)} (${RUNS} runs each)`,
    );
  }
} finally {
  rmSync(DEST, { recursive: true, force: true });
}
