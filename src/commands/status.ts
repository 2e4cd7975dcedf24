/** `tsnspawn status NAME`: one running container. */
import { signalName } from '../settings/signals.js';
import { runningMachine } from './machine-arg.js';
import { usageError } from './table.js';

export async function statusCommand(args: string[]): Promise<number> {
  if (args.length > 1) throw usageError('status', 'status takes one machine name');
  const s = runningMachine('status', args[0]);
  const lines = [
    `${s.name}`,
    `  UUID: ${s.uuid}`,
    `  Root: ${s.root}`,
    `  Leader: ${s.leader.pid} (the container's PID 1)`,
    `  Manager: ${s.manager.pid} (tsnspawn)`,
    `  Boot: ${s.boot ? 'yes' : 'no'}`,
    `  Registered: ${s.registered ?? 'no'}`,
    `  Kill signal: ${s.killSignal !== undefined ? signalName(s.killSignal) : 'none (stop kills at once)'}`,
  ];
  process.stdout.write(lines.join('\n') + '\n');
  return 0;
}
