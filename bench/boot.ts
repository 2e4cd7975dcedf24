/**
 * Boot to multi-user and power off: Debian 12 under tsnspawn -b against
 * systemd-nspawn -b in the same run (alternating), medians and the ratio.
 * A probe unit in the guest waits for `systemctl is-system-running --wait`
 * and powers off. Not a test: no thresholds. Needs root and systemd-nspawn.
 */
import { spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BootProbe } from '../test/harness/boot-probe.js';

const TOP = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const release = process.env.BENCH_IMAGE ?? 'debian12';

const tree = execFileSync(`${TOP}/images/build`, [release], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

function bootOnce(cmd: string, pre: string[]): number {
  const probe = new BootProbe();
  try {
    const t0 = process.hrtime.bigint();
    const r = spawnSync(cmd, [...pre, '-q', '--console=pipe', '-D', tree, ...probe.args(), '-b', ...probe.initArgs()], { stdio: 'ignore', timeout: 30_000 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (r.status !== 0 || !probe.boot(1)) throw new Error(`${cmd} boot failed (status ${r.status})`);
    return ms;
  } finally {
    probe.remove();
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const ours: number[] = [];
const theirs: number[] = [];
bootOnce(`${TOP}/bin/tsnspawn`, []);
bootOnce('systemd-nspawn', ['--register=no', '--keep-unit']);
for (let i = 0; i < RUNS; i++) {
  ours.push(bootOnce(`${TOP}/bin/tsnspawn`, []));
  theirs.push(bootOnce('systemd-nspawn', ['--register=no', '--keep-unit']));
}
const a = median(ours);
const b = median(theirs);
console.log(`boot ${release} to running + poweroff: tsnspawn median ${a.toFixed(0)} ms, systemd-nspawn median ${b.toFixed(0)} ms, ratio ${(a / b).toFixed(2)} (${RUNS} runs each)`);
