/** `tsnspawn list [--json]`: the containers tsnspawn runs on this host, from its runtime state. */
import { listStates, type MachineState } from '../runtime/state.js';
import { sweepStale } from '../runtime/stale-sweep.js';
import { usageError } from './table.js';
import { removeStalePortTables } from '../runtime/port-tables.js';

/** What `list --json` prints for each: a stable subset of the state. */
export function listEntry(s: MachineState): Record<string, unknown> {
  return { name: s.name, uuid: s.uuid, leader: s.leader.pid, manager: s.manager.pid, root: s.root, boot: s.boot, registered: s.registered ?? null };
}

export function listTable(states: MachineState[]): string {
  const rows = [['MACHINE', 'LEADER', 'REGISTERED', 'ROOT'], ...states.map((s) => [s.name, String(s.leader.pid), s.registered ?? '-', s.root])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n';
}

export async function listCommand(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const bad = args.find((a) => a !== '--json');
  if (bad) throw usageError('list', `unknown argument '${bad}' for list`);
  // What SIGKILLed runs left (stale records, their empty cgroups) goes first.
  sweepStale();
  // Housekeeping as a list runs anyway: --port tables of containers killed with SIGKILL.
  await removeStalePortTables();
  const states = listStates();
  process.stdout.write(json ? JSON.stringify(states.map(listEntry)) + '\n' : listTable(states));
  return 0;
}
