/**
 * --events=FD: what happens to the container, one JSON object a line on a
 * descriptor the caller opened (apart from the console), for CI tools and
 * the API. The same events from Node and, after the handover, from the
 * supervisor (native/supervise.c), which inherits the descriptor:
 *
 *   {"event":"started","name":..,"uuid":..,"leader":PID,"root":..}
 *   {"event":"ready"}            the guest's READY=1 with --notify-ready=yes, else as started
 *   {"event":"status","text":..} the guest's STATUS=
 *   {"event":"rebooting"}        the guest rebooted; it starts again in this run
 *   {"event":"exited","status":N,"outcome":"exited|poweroff|reboot|killed"[,"code":N][,"signal":N]}
 */
import { fstatSync, writeSync } from 'node:fs';
import { refuse } from '../util/errors.js';
import type { Outcome } from './outcome.js';

export class EventStream {
  private ready = false;

  constructor(
    readonly fd: number,
    private readonly waitForGuest: boolean,
  ) {}

  /** The stream for --events=FD, refused (before anything starts) when FD is not open. */
  static open(fd: number | undefined, waitForGuest: boolean): EventStream | undefined {
    if (fd === undefined) return undefined;
    try {
      fstatSync(fd);
    } catch {
      refuse(`invalid --events=${fd}: descriptor ${fd} is not open (open it for tsnspawn, e.g. ${fd}>events.jsonl)`);
    }
    return new EventStream(fd, waitForGuest);
  }

  private emit(event: Record<string, unknown>): void {
    try {
      writeSync(this.fd, JSON.stringify(event) + '\n');
    } catch {
      // A reader that went away does not stop the container.
    }
  }

  started(facts: { name: string; uuid: string; leader: number; root: string }): void {
    this.ready = false;
    this.emit({ event: 'started', ...facts });
    if (!this.waitForGuest) this.markReady();
  }

  /** A datagram from the guest's init. */
  fromGuest(message: string): void {
    for (const line of message.split(/[\n\r]/)) {
      if (line === 'READY=1') this.markReady();
      else if (line.startsWith('STATUS=')) this.emit({ event: 'status', text: line.slice(7) });
    }
  }

  rebooting(): void {
    this.emit({ event: 'rebooting' });
  }

  exited(status: number, outcome: Outcome | undefined): void {
    const detail = outcome === undefined ? { outcome: 'failed' } : outcome.kind === 'exited' ? { outcome: 'exited', code: outcome.code } : outcome.kind === 'killed' ? { outcome: 'killed', signal: outcome.signal } : { outcome: outcome.kind };
    this.emit({ event: 'exited', status, ...detail });
  }

  get readySent(): boolean {
    return this.ready;
  }

  private markReady(): void {
    if (this.ready) return;
    this.ready = true;
    this.emit({ event: 'ready' });
  }
}
