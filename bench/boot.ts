/**
 * Boot to multi-user and power off: Debian 12 under tsnspawn -b against
 * systemd-nspawn -b in the same run (alternating), medians and the ratio.
 * A probe unit in the guest waits for `systemctl is-system-running --wait`
 * and powers off. Not a test: no thresholds. Needs root and systemd-nspawn.
 */
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BootProbe } from '../test/harness/boot-probe.js';

const TOP = fileURLToPath(new URL('../../', import.meta.url)).replace(/\/$/, '');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const release = process.env.BENCH_IMAGE ?? 'debian12';
/** BENCH_EPHEMERAL=1: both with -x (systemd-nspawn copies the tree on non-btrfs file systems). */
const ephemeral = process.env.BENCH_EPHEMERAL === '1' ? ['-x'] : [];

const tree = execFileSync(`${TOP}/images/build`, [release], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();

/**
 * One boot: the probe waits for `systemctl is-system-running --wait`, then
 * the manager gets SIGTERM (both send SIGRTMIN+3, systemd's clean halt) and
 * we wait for it to exit. (A `systemctl poweroff` from the probe leaves
 * systemd-nspawn 252 hanging after "Halting system." on these machines.)
 */
async function bootOnce(cmd: string, pre: string[]): Promise<number> {
  const probe = new BootProbe({ action: 'stay' });
  try {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, [...pre, ...ephemeral, '-q', '--console=pipe', '-D', tree, ...probe.args(), '-b', ...probe.initArgs()], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 60_000;
    while (!probe.settled()) {
      if (Date.now() > deadline || child.exitCode !== null) {
        child.kill('SIGKILL');
        throw new Error(`${cmd} did not reach running`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGTERM');
    const code = await exited;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    if (code !== 0) throw new Error(`${cmd} exited ${code}`);
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
await bootOnce(`${TOP}/bin/tsnspawn`, []);
await bootOnce('systemd-nspawn', ['--register=no', '--keep-unit']);
for (let i = 0; i < RUNS; i++) {
  ours.push(await bootOnce(`${TOP}/bin/tsnspawn`, []));
  theirs.push(await bootOnce('systemd-nspawn', ['--register=no', '--keep-unit']));
}
const a = median(ours);
const b = median(theirs);
console.log(`boot ${ephemeral.length ? '-x ' : ''}${release} to running + clean halt: tsnspawn median ${a.toFixed(0)} ms, systemd-nspawn median ${b.toFixed(0)} ms, ratio ${(a / b).toFixed(2)} (${RUNS} runs each)`);
