/**
 * Start latency: `tsnspawn -D tree /bin/true` against
 * `systemd-nspawn --register=no --keep-unit -q -D tree /bin/true`, run
 * alternately in the same session; prints medians and the ratio.
 * Not a test: no thresholds. Needs root and systemd-nspawn.
 */
import { spawnSync } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const TOP = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const RUNS = Number(process.env.BENCH_RUNS ?? 30);

function tree(): string {
  return execFileSync(`${TOP}/images/build`, ['busybox'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

function timeOnce(cmd: string, args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} failed (${r.status}): ${r.stderr}`);
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function compare(name: string, ours: [string, string[]], theirs: [string, string[]], runs = RUNS): void {
  // Warm caches once each, then alternate so drift hits both alike.
  timeOnce(...ours);
  timeOnce(...theirs);
  const a: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < runs; i++) {
    a.push(timeOnce(...ours));
    b.push(timeOnce(...theirs));
  }
  const ma = median(a);
  const mb = median(b);
  console.log(`${name}: tsnspawn median ${ma.toFixed(1)} ms, systemd-nspawn median ${mb.toFixed(1)} ms, ratio ${(ma / mb).toFixed(2)} (${runs} runs each)`);
}

const dir = tree();
compare(
  'start /bin/true',
  [`${TOP}/bin/tsnspawn`, ['-q', '--console=pipe', '-D', dir, '/bin/true']],
  ['systemd-nspawn', ['--register=no', '--keep-unit', '-q', '-D', dir, '/bin/true']],
);
