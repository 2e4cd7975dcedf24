/** Starting the programs under comparison and timing them. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';

export type Command = readonly [string, readonly string[]];

/** Wall time of one run, in ms; throws when it does not exit 0. */
export function timeOnce([cmd, args]: Command): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`);
  return ms;
}

export interface Running {
  child: ChildProcess;
  pid: number;
  exited: Promise<number | null>;
}

/** Starts a manager in the background; `exited` resolves to its exit code (null: killed by a signal). */
export function start([cmd, args]: Command): Running {
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (stderr.length < 4096) stderr += d.toString();
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0 && process.env.BENCH_VERBOSE) process.stderr.write(`${cmd}: exit ${code}: ${stderr}`);
      resolve(code);
    });
  });
  if (child.pid === undefined) throw new Error(`${cmd} did not start`);
  return { child, pid: child.pid, exited };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls cond every `every` ms until it holds; throws after timeoutMs. */
export async function until(cond: () => boolean, timeoutMs: number, what: string, every = 5): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(every);
  }
}

/** Runs each of fns once per round, rotating the order, `rounds` times; one warm-up round first. */
export async function alternate<T>(rounds: number, fns: (() => T | Promise<T>)[]): Promise<T[][]> {
  for (const f of fns) await f();
  const out: T[][] = fns.map(() => []);
  for (let i = 0; i < rounds; i++) {
    for (let j = 0; j < fns.length; j++) {
      const k = (i + j) % fns.length;
      out[k]!.push(await fns[k]!());
    }
  }
  return out;
}
