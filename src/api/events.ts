/**
 * The --events=FD stream as the API sees it: one JSON object a line
 * (src/runtime/event-stream.ts writes them; the supervisor after the handover).
 * Kept apart from the runtime's types so the published declarations stand alone.
 */
import { constants } from 'node:os';

export type ContainerEvent =
  | { event: 'started'; name: string; uuid: string; leader: number; root: string }
  | { event: 'ready' }
  | { event: 'status'; text: string }
  | { event: 'rebooting' }
  | ExitedEvent;

/** How the container ended; `status` is tsnspawn's exit status (the guest's, as with -b). */
export interface ExitedEvent {
  event: 'exited';
  status: number;
  outcome: 'exited' | 'poweroff' | 'reboot' | 'killed';
  code?: number;
  signal?: number;
}

const KNOWN = new Set(['started', 'ready', 'status', 'rebooting', 'exited']);

/**
 * Splits a chunked byte stream into events. A line that is not one of ours
 * is skipped rather than thrown: a newer tsnspawn may add events, and an
 * older API must keep working with it.
 */
export class EventLineParser {
  private rest = '';

  push(chunk: string): ContainerEvent[] {
    const lines = (this.rest + chunk).split('\n');
    this.rest = lines.pop()!;
    const out: ContainerEvent[] = [];
    for (const line of lines) {
      const e = parseEventLine(line);
      if (e) out.push(e);
    }
    return out;
  }
}

export function parseEventLine(line: string): ContainerEvent | undefined {
  if (!line.trim()) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const ev = (v as { event?: unknown }).event;
  return typeof ev === 'string' && KNOWN.has(ev) ? (v as ContainerEvent) : undefined;
}

/**
 * The exit of a tsnspawn that wrote no `exited` event (killed, or it failed
 * before the container started): its exit status in the shell's terms.
 */
export function exitFromProcess(code: number | null, signal: NodeJS.Signals | null): ExitedEvent {
  if (code !== null) return { event: 'exited', status: code, outcome: 'exited', code };
  const n = (signal && constants.signals[signal]) || 9;
  return { event: 'exited', status: 128 + n, outcome: 'killed', signal: n };
}
