/**
 * `tsnspawn stop NAME [--timeout=S]`: as systemd stopping nspawn's unit.
 * SIGTERM to tsnspawn, which sends the container's kill signal to its PID 1
 * (a clean shutdown for a booted guest; none: SIGKILL at once); after the
 * timeout, SIGKILL to PID 1. Returns once tsnspawn has exited.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../runtime/state.js';
import { UserError } from '../util/errors.js';
import { runningMachine } from './machine-arg.js';
import { usageError } from './table.js';

const DEFAULT_TIMEOUT_S = 90;
const POLL_MS = 50;

export function parseStopArgs(args: string[]): { name: string | undefined; timeoutS: number } {
  let timeoutS = DEFAULT_TIMEOUT_S;
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const value = a === '--timeout' ? args[++i] : a.startsWith('--timeout=') ? a.slice('--timeout='.length) : undefined;
    if (a === '--timeout' || a.startsWith('--timeout=')) {
      const v = Number(value);
      if (value === undefined || value === '' || !Number.isFinite(v) || v < 0) throw usageError('stop', `invalid --timeout=${value ?? ''}: give seconds, 0 or more`);
      timeoutS = v;
    } else if (a.startsWith('-')) throw usageError('stop', `unknown option '${a}' for stop`);
    else names.push(a);
  }
  if (names.length > 1) throw usageError('stop', 'stop takes one machine name');
  return { name: names[0], timeoutS };
}

async function waitGone(p: { pid: number; start: string }, ms: number): Promise<boolean> {
  for (let waited = 0; waited <= ms; waited += POLL_MS) {
    if (!isAlive(p)) return true;
    await sleep(POLL_MS);
  }
  return !isAlive(p);
}

export async function stopCommand(args: string[]): Promise<number> {
  const { name, timeoutS } = parseStopArgs(args);
  const s = runningMachine('stop', name);
  try {
    // tsnspawn applies the kill-signal policy, and reports and cleans up as always.
    process.kill(s.manager.pid, 'SIGTERM');
  } catch (e) {
    throw new UserError(`cannot signal tsnspawn (pid ${s.manager.pid}) of ${s.name}: ${(e as Error).message}`);
  }
  if (await waitGone(s.manager, timeoutS * 1000)) return 0;
  process.stderr.write(`tsnspawn: ${s.name} did not stop within ${timeoutS} s; killing it\n`);
  if (isAlive(s.leader)) process.kill(s.leader.pid, 'SIGKILL');
  // Init's death ends the container; its manager reports and exits.
  if (await waitGone(s.manager, 10_000)) return 0;
  throw new UserError(`tsnspawn (pid ${s.manager.pid}) of ${s.name} did not exit after its container was killed`);
}
