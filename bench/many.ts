/**
 * N busybox containers at once (N = 1, 10, 50), tsnspawn against
 * systemd-nspawn, alternating. Each container touches a marker and then
 * blocks reading a FIFO that the bench holds open (for at most 5 minutes, so
 * none outlives a bench that died); once all N markers exist
 * and the managers have settled, the summed PSS of every manager-side
 * process is taken, then the bench closes the FIFO and all exit.
 * Wall time: start of the first to all N markers, plus release to the last
 * exit (the settle and measurement pause is left out).
 */
import { closeSync, constants, mkdirSync, openSync, readdirSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { image, NSPAWN, runs, scratchDir, TSNSPAWN } from './lib/env.js';
import { managerSide, sumMiB } from './lib/procs.js';
import { alternate, sleep, start, until, type Running } from './lib/run.js';
import { row, type Row } from './lib/row.js';

const SECTION = 'many';
const COUNTS = [1, 10, 50];
// Past the handover (1 s after the payload runs, src/runtime/run.ts): the steady state is what is measured.
const SETTLE_MS = 2000;
type Manager = 'tsnspawn' | 'systemd-nspawn';

interface Sample {
  ms: number;
  pss: number;
}

/** One container: read-only root (systemd-nspawn locks a writable tree for one user), the gate dir bound in. */
function command(manager: Manager, tree: string, gate: string, i: number): [string, string[]] {
  return [
    manager === 'tsnspawn' ? TSNSPAWN : NSPAWN,
    ['--register=no', '--keep-unit', '-q', '--read-only', `-M`, `bench-${process.pid}-${i}`, `--bind=${gate}:/run/gate`, '-D', tree,
      '/bin/sh', '-c', 'touch /run/gate/ready.$1 && exec timeout 300 cat /run/gate/fifo', 'sh', String(i)],
  ];
}

/** Waits for all to exit; a reader that opened the FIFO only after the release gets another writer's EOF. */
async function released(fifo: string, ms: Running[]): Promise<(number | null)[]> {
  const all = Promise.all(ms.map((m) => m.exited));
  let done = false;
  void all.then(() => (done = true));
  const deadline = Date.now() + 60_000;
  for (;;) {
    await Promise.race([all, sleep(500)]);
    if (done) return all;
    if (Date.now() > deadline) throw new Error('containers did not exit after the release');
    try {
      closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
    } catch {
      // ENXIO: no reader left.
    }
  }
}

async function once(manager: Manager, tree: string, n: number): Promise<Sample> {
  const dir = scratchDir('many');
  const gate = `${dir}/gate`;
  mkdirSync(gate);
  execFileSync('mkfifo', [`${gate}/fifo`]);
  // Held open for writing until the release, so the containers' opens do not block; closing it is their EOF.
  let writer: number | null = openSync(`${gate}/fifo`, constants.O_RDWR);
  const managers: Running[] = [];
  try {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) managers.push(start(command(manager, tree, gate, i)));
    const ready = (): boolean => readdirSync(gate).length === n + 1;
    await until(() => ready() || managers.some((m) => m.child.exitCode !== null), 120_000, `${n} ${manager} containers`);
    if (!ready()) throw new Error(`${manager}: a container exited before all ${n} were up`);
    const t1 = process.hrtime.bigint();
    await sleep(SETTLE_MS);
    const side = managerSide(managers.map((m) => m.pid));
    if (side.inits.length !== n) throw new Error(`${manager}: found ${side.inits.length} container inits, expected ${n}`);
    const t2 = process.hrtime.bigint();
    closeSync(writer);
    writer = null;
    const codes = await released(`${gate}/fifo`, managers);
    const t3 = process.hrtime.bigint();
    const ms = Number(t3 - t2 + (t1 - t0)) / 1e6;
    if (process.env.BENCH_VERBOSE) process.stderr.write(`\n${manager} x${n}: up ${Number(t1 - t0) / 1e6} ms, exit ${Number(t3 - t2) / 1e6} ms`);
    if (codes.some((c) => c !== 0)) throw new Error(`${manager}: exit codes ${codes.join(',')}`);
    return { ms, pss: sumMiB(side.procs, 'pssKiB') };
  } finally {
    if (writer !== null) closeSync(writer);
    for (const m of managers) if (m.child.exitCode === null && m.child.signalCode === null) m.child.kill('SIGKILL');
    await Promise.all(managers.map((m) => m.exited.catch(() => null)));
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function many(): Promise<Row[]> {
  const tree = image('busybox');
  const wall: Row[] = [];
  const total: Row[] = [];
  const each: Row[] = [];
  for (const n of COUNTS) {
    const [a, b] = await alternate(runs(3), [() => once('tsnspawn', tree, n), () => once('systemd-nspawn', tree, n)]);
    const what = `${n} busybox container${n > 1 ? 's' : ''} at once`;
    wall.push(row(SECTION, `${what}: wall time`, 'ms', 'tsnspawn', a!.map((s) => s.ms), 'systemd-nspawn', b!.map((s) => s.ms), n === COUNTS[0] ? 'start to all up, plus release to all exited' : undefined));
    total.push(row(SECTION, `${what}: manager PSS`, 'MiB', 'tsnspawn', a!.map((s) => s.pss), 'systemd-nspawn', b!.map((s) => s.pss), n === COUNTS[0] ? `summed over all managers, ${SETTLE_MS / 1000} s after all were up` : undefined));
    each.push(row(SECTION, `${what}: manager PSS per container`, 'MiB', 'tsnspawn', a!.map((s) => s.pss / n), 'systemd-nspawn', b!.map((s) => s.pss / n)));
  }
  return [...wall, ...total, ...each];
}
