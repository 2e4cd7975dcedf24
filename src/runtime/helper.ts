/**
 * The helper process: a stream socket carries the plan and commands to it
 * and events back. Node stays the policy side. The first one is the monitor
 * bin/tsnspawn forked before Node started (launcher.ts); others (after a
 * guest reboot, or Node started some other way) are spawned with the
 * socket on fd 3.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Duplex } from 'node:stream';
import { EventOrder, parseEvent, type HelperEvent } from './events.js';
import { encodePlan } from '../plan/encode.js';
import type { LaunchPlan } from '../plan/types.js';
import { claimPreforkedHelper, FdChannel } from './launcher.js';

/**
 * How a process that is not our child ended, from field 52 of its
 * /proc/PID/stat (its wait status, set as it exits): "SIGKILL", "exit 3",
 * or undefined for exit 0 or when it is gone (reaped) already.
 */
export function abnormalEnd(pid: number): string | undefined {
  let status: number;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    status = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[49]);
  } catch {
    return undefined;
  }
  if (!Number.isInteger(status) || status === 0) return undefined;
  const signal = status & 0x7f;
  if (signal === 0) return `exit ${(status >> 8) & 0xff}`;
  return Object.entries(constants.signals).find(([, n]) => n === signal)?.[0] ?? `signal ${signal}`;
}

/**
 * The helper binary, found from this module's place: dist/bundle/cli.cjs (the
 * bundle bin/tsnspawn runs) or dist/src/runtime/helper.js (tests).
 */
export const HELPER_PATH =
  ['../../native/tsnspawn-helper', '../../../native/tsnspawn-helper']
    .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
    .find((p) => existsSync(p)) ?? fileURLToPath(new URL('../../native/tsnspawn-helper', import.meta.url));

/** The control socket, either end: a pre-forked monitor's descriptor, or a spawned helper's pipe. */
interface Control {
  write(line: string): void;
  end(): void;
  readonly writable: boolean;
}

export class Helper {
  /** Spawned by us; undefined for the pre-forked monitor. */
  private readonly child: ChildProcess | undefined;
  private readonly helperPid: number | undefined;
  private readonly control: Control;
  private readonly order = new EventOrder();
  private buffer = '';
  private closed = false;
  private readonly closeWaiters: (() => void)[] = [];

  /**
   * The plan goes out encoded for the helper it reaches: tsnspawn's
   * descriptors it must hold (plan.carryFds: sockets of socket activation,
   * --events) are where they are in a pre-forked monitor (it inherited
   * them); a spawned helper gets them after its control socket, from 4 on.
   */
  constructor(plan: LaunchPlan, onEvent: (e: HelperEvent) => void, onProtocolError: (err: Error) => void) {
    const onChunk = (chunk: string): void => {
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
    };
    const preforked = claimPreforkedHelper();
    const carried = plan.carryFds ?? [];
    let channel: FdChannel | undefined;
    if (preforked) {
      this.helperPid = preforked.pid;
      // Its end of the socket closing is its exit.
      const c = new FdChannel(preforked.fd, preforked.pid, onChunk, () => {
        // Not our child (the launcher forked it): how it ended is in its /proc entry until it is reaped.
        const how = abnormalEnd(preforked.pid);
        if (how) onProtocolError(new Error(`the helper ended unexpectedly (${how})`));
        this.setClosed();
      });
      this.control = { write: (line) => void c.write(line), end: () => {}, get writable() { return c.open; } };
      channel = c;
    } else {
      // Loaded only here: the pre-forked monitor spares Node child_process (and net, stream).
      const { spawn } = process.getBuiltinModule('node:child_process');
      const child = spawn(HELPER_PATH, ['--control-fd', '3', '--parent-pid', String(process.pid)], {
        stdio: ['inherit', 'inherit', 'inherit', 'pipe', ...carried],
      });
      this.child = child;
      this.helperPid = child.pid;
      const pipe = child.stdio[3] as Duplex;
      pipe.setEncoding('utf8');
      pipe.on('data', onChunk);
      pipe.on('error', () => {
        /* the helper's exit is reported through 'close' below */
      });
      this.control = pipe;
      child.on('error', (err) => onProtocolError(new Error(`cannot start the helper ${HELPER_PATH}: ${err.message}`)));
      child.on('close', (code, signal) => {
        this.setClosed();
        if (code !== 0 || signal) onProtocolError(new Error(`the helper ended unexpectedly (${signal ?? `exit ${code}`})`));
      });
    }
    // A pre-forked monitor inherited tsnspawn's descriptors as they are; a spawned one has them after its control socket.
    this.control.write(preforked ? encodePlan(plan, (fd) => fd) : encodePlan(plan));
    channel?.start();
  }

  private setClosed(): void {
    this.closed = true;
    for (const w of this.closeWaiters.splice(0)) w();
  }

  get pid(): number | undefined {
    return this.helperPid;
  }

  /** Releases the barrier: the child goes on to mount, pivot and exec. */
  go(): void {
    this.command('go');
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
    if (this.closed) return;
    if (this.child) this.child.kill('SIGKILL');
    else if (this.helperPid !== undefined) process.kill(this.helperPid, 'SIGKILL');
  }

  /** Resolves once the helper process has exited. */
  exited(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }
}
