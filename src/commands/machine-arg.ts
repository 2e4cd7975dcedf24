/** The running container a subcommand is about, from tsnspawn's runtime state. */
import { readState, type MachineState } from '../runtime/state.js';
import { UserError } from '../util/errors.js';
import { usageError } from './table.js';

/** The state of NAME, or a one-line error naming it. */
export function runningMachine(command: string, name: string | undefined): MachineState {
  if (!name) throw usageError(command, `${command} needs a machine name`);
  if (name.startsWith('-')) throw usageError(command, `unknown option '${name}' for ${command}`);
  const s = readState(name);
  if (!s) throw new UserError(`no container named '${name}' is running (tsnspawn list shows those that are)`);
  return s;
}
