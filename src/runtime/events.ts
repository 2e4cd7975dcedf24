/**
 * Events from the helper (one JSON object a line) and the order they may
 * come in: pid, then exec or error, then exit. Notify messages may come any
 * time after exec; "stop" any time once init exists, "warning" any time
 * before exit (the links of -n are made before init is reported);
 * "workdir" only before pid (the monitor makes them before it forks);
 * "handover" (the supervisor takes the channel over) ends Node's part. Anything else is a protocol error.
 */

export type HelperEvent =
  /** registered: the helper registered init (machine, unit or scope; native/registration.h). */
  | { event: 'pid'; pid: number; registered?: 'machine' | 'unit' | 'scope'; uidBase?: number }
  | { event: 'exec' }
  | { event: 'error'; step: string; op: string; path: string; errno: number; message: string }
  | { event: 'notify'; message: string }
  | { event: 'exit'; code?: number; signal?: number }
  /** The monitor's abstract socket ("@NAME") the supervisor connects to. */
  | { event: 'handover'; socket: string }
  /** systemd asked the scope's controller (the helper) to stop it: as a SIGTERM to tsnspawn. */
  | { event: 'stop' }
  /** Something the user should know; the run goes on. */
  | { event: 'warning'; message: string }
  /** An overlay work directory on the host: its path before it is made, then with its identity (workdirs.ts). */
  | { event: 'workdir'; path: string; dev?: string; ino?: string };

type Phase = 'start' | 'spawned' | 'running' | 'failed' | 'exited' | 'handed-over';

const ALLOWED: Record<Phase, ReadonlyArray<HelperEvent['event']>> = {
  start: ['pid', 'error', 'exit', 'warning', 'workdir'],
  spawned: ['exec', 'error', 'exit', 'stop', 'warning'],
  running: ['notify', 'error', 'exit', 'handover', 'stop', 'warning'],
  failed: ['error', 'exit', 'stop', 'warning'],
  exited: [],
  'handed-over': [],
};

const NEXT: Partial<Record<HelperEvent['event'], Phase>> = {
  pid: 'spawned',
  exec: 'running',
  error: 'failed',
  exit: 'exited',
  handover: 'handed-over',
};

export class EventOrder {
  private phase: Phase = 'start';

  /** Throws on an event that cannot come now. */
  accept(e: HelperEvent): void {
    if (!ALLOWED[this.phase].includes(e.event))
      throw new Error(`helper protocol error: event '${e.event}' while ${this.phase}`);
    // A monitor error while running (e.g. an unknown command) does not end the run.
    if (e.event === 'error' && this.phase === 'running') return;
    this.phase = NEXT[e.event] ?? this.phase;
  }
}

export function parseEvent(line: string): HelperEvent {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`helper protocol error: not JSON: ${line.slice(0, 200)}`);
  }
  if (typeof v !== 'object' || v === null || typeof (v as { event?: unknown }).event !== 'string')
    throw new Error(`helper protocol error: not an event: ${line.slice(0, 200)}`);
  return v as HelperEvent;
}
