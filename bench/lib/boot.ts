/**
 * One boot of a systemd guest under a manager: a probe unit (the tests'
 * BootProbe) waits for `systemctl is-system-running --wait` and marks the
 * guest settled; then the manager gets SIGTERM (both send SIGRTMIN+3,
 * systemd's clean halt) and we wait for it to exit. (A `systemctl poweroff`
 * from the probe leaves systemd-nspawn 252 hanging after "Halting system."
 * on these machines.)
 */
import { BootProbe } from '../../test/harness/boot-probe.js';
import { NSPAWN, TSNSPAWN } from './env.js';
import { start, until, type Running } from './run.js';

export type Manager = 'tsnspawn' | 'systemd-nspawn';

/** The same options for both: no registration, the caller's unit, quiet, console on a pipe. */
export function bootCommand(manager: Manager, tree: string, probe: BootProbe, extra: string[] = []): [string, string[]] {
  const cmd = manager === 'tsnspawn' ? TSNSPAWN : NSPAWN;
  return [cmd, ['--register=no', '--keep-unit', '-q', '--console=pipe', ...extra, '-D', tree, ...probe.args(), '-b', ...probe.initArgs()]];
}

/**
 * Boots, calls `whileUp` once the guest is running (its result is returned),
 * then halts the guest. Returns the wall time from start to the manager's
 * exit, minus the time whileUp took.
 */
export async function bootOnce<T>(manager: Manager, tree: string, extra: string[] = [], whileUp?: (m: Running) => Promise<T>): Promise<{ ms: number; up?: T }> {
  const probe = new BootProbe({ action: 'stay' });
  let m: Running | undefined;
  try {
    const t0 = process.hrtime.bigint();
    m = start(bootCommand(manager, tree, probe, extra));
    const run = m;
    await until(() => probe.settled() || run.child.exitCode !== null, 120_000, `${manager} to reach running`);
    if (!probe.settled()) throw new Error(`${manager} exited ${run.child.exitCode} before the guest was running`);
    const t1 = process.hrtime.bigint();
    const up = whileUp ? await whileUp(run) : undefined;
    const t2 = process.hrtime.bigint();
    run.child.kill('SIGTERM');
    const code = await run.exited;
    const ms = Number(process.hrtime.bigint() - t2 + (t1 - t0)) / 1e6;
    if (code !== 0) throw new Error(`${manager} exited ${code}`);
    m = undefined;
    return { ms, ...(whileUp ? { up: up as T } : {}) };
  } finally {
    if (m && m.child.exitCode === null) {
      m.child.kill('SIGKILL');
      await m.exited.catch(() => null);
    }
    probe.remove();
  }
}
