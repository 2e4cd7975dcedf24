/** `tsnspawn kill NAME [SIGNAL]`: a signal to the container's PID 1 (default SIGTERM), as `machinectl kill --kill-whom=leader`. */
import { parseSignal } from '../settings/signals.js';
import { isAlive } from '../runtime/state.js';
import { UserError } from '../util/errors.js';
import { runningMachine } from './machine-arg.js';
import { usageError } from './table.js';

export async function killCommand(args: string[]): Promise<number> {
  if (args.length > 2) throw usageError('kill', 'kill takes a machine name and an optional signal');
  const s = runningMachine('kill', args[0]);
  const signal = args[1] === undefined ? 15 : parseSignal(args[1], 'SIGNAL');
  // Checked again right before: the pid must still be that init.
  if (!isAlive(s.leader)) throw new UserError(`the container ${s.name} has just ended`);
  try {
    process.kill(s.leader.pid, signal);
  } catch (e) {
    throw new UserError(`cannot signal the init of ${s.name} (pid ${s.leader.pid}): ${(e as Error).message}`);
  }
  return 0;
}
