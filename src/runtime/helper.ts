/**
 * The helper process: spawned with a stream socket on fd 3 that carries the
 * plan and commands to it and events back. Node stays the policy side.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { LISTEN_FDS_START } from './socket-activation.js';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { EventOrder, parseEvent, type HelperEvent } from './events.js';

/**
 * The helper binary, found from this module's place: dist/bundle/cli.cjs (the
 * bundle bin/tsnspawn runs) or dist/src/runtime/helper.js (tests).
 */
export const HELPER_PATH =
  ['../../native/tsnspawn-helper', '../../../native/tsnspawn-helper']
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
    .find((p) => existsSync(p)) ?? fileURLToPath(new URL('../../native/tsnspawn-helper', import.meta.url));

export class Helper {
  private readonly child: ChildProcess;
  private readonly control: Duplex;
  private readonly order = new EventOrder();
  private buffer = '';
  private closed = false;

  /** listenFds: how many sockets from fd 3 on (socket activation) the helper is to hold from HELPER_FIRST_LISTEN_FD on. */
  constructor(encodedPlan: string, onEvent: (e: HelperEvent) => void, onProtocolError: (err: Error) => void, listenFds = 0) {
    const passed = Array.from({ length: listenFds }, (_, i) => LISTEN_FDS_START + i);
    this.child = spawn(HELPER_PATH, ['--control-fd', '3', '--parent-pid', String(process.pid)], {
      stdio: ['inherit', 'inherit', 'inherit', 'pipe', ...passed],
    });
    this.control = this.child.stdio[3] as Duplex;
    this.control.setEncoding('utf8');
    this.control.on('data', (chunk: string) => {
      this.buffer += chunk;
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        try {
          const e = parseEvent(line);
          this.order.accept(e);
          onEvent(e);
        } catch (err) {
          onProtocolError(err as Error);
        }
      }
    });
    this.control.on('error', () => {
      /* the helper's exit is reported through 'close' below */
    });
    this.child.on('error', (err) => onProtocolError(new Error(`cannot start the helper ${HELPER_PATH}: ${err.message}`)));
    this.child.on('close', (code, signal) => {
      this.closed = true;
      if (code !== 0 || signal) onProtocolError(new Error(`the helper ended unexpectedly (${signal ?? `exit ${code}`})`));
    });
    this.control.write(encodedPlan);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Releases the barrier: the child goes on to mount, pivot and exec. */
  go(): void {
    this.command('go');
  }

  /** The registration (machine or scope) is ours: the helper lets go of it once init is gone. */
  registered(): void {
    this.command('registered');
  }

  kill(signal: number): void {
    this.command(`kill ${signal}`);
  }

  /** Asks the helper for the supervisor's control socket (a "handover" event answers). */
  handover(): void {
    this.command('handover');
  }

  /** After the exit event: the helper may go. */
  quit(): void {
    this.command('quit');
    this.control.end();
  }

  /** Sends an sd_notify message to tsnspawn's own $NOTIFY_SOCKET (the helper has the socket code). */
  sdnotify(message: string): void {
    this.command(`sdnotify ${message.replace(/[%\n\r]/g, (c) => '%' + c.charCodeAt(0).toString(16).padStart(2, '0'))}`);
  }

  private command(line: string): void {
    if (!this.closed && this.control.writable) this.control.write(line + '\n');
  }

  /** SIGKILL to the helper process itself (the container dies with it): when its control channel is gone. */
  killProcess(): void {
    if (!this.closed) this.child.kill('SIGKILL');
  }

  /** Resolves once the helper process has exited. */
  exited(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.child.once('close', () => resolve()));
  }
}
