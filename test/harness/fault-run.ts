/**
 * A tsnspawn run a fault test can reach into: its events (--events=3 on a
 * pipe) as they come, its pid's executable (Node, then the supervisor after
 * the handover), its monitor (the helper child), and its end.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { HELPER, TSNSPAWN } from './paths.js';

export type Event = Record<string, unknown> & { event: string };

export interface Ended {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
}

/** How long a wait for a phase may take before the test fails instead of hanging. */
const PHASE_WAIT_MS = 60_000;

export class FaultRun {
  readonly child: ChildProcess;
  readonly events: Event[] = [];
  readonly ended: Promise<Ended>;
  private stderr = '';
  private exited = false;
  private waiters: Array<() => void> = [];

  constructor(args: string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(TSNSPAWN, ['--events=3', ...args], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], env });
    let partial = '';
    this.child.stdio[3]!.on('data', (d: Buffer) => {
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      for (const l of lines) if (l) this.events.push(JSON.parse(l) as Event);
      this.wake();
    });
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.ended = new Promise((resolve) =>
      this.child.on('close', (code, signal) => {
        this.exited = true;
        this.wake();
        resolve({ code, signal, stderr: this.stderr });
      }),
    );
  }

  get pid(): number {
    return this.child.pid!;
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Resolves once cond() holds: checked on each event, at exit, and every 5 ms (for /proc facts). */
  async until(what: string, cond: () => boolean): Promise<void> {
    const deadline = Date.now() + PHASE_WAIT_MS;
    while (!cond()) {
      if (this.exited) throw new Error(`tsnspawn ended before ${what}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${PHASE_WAIT_MS} ms: ${this.stderr}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, 5);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  /** The count-th event of that name (1: the first). */
  async event(name: string, count = 1): Promise<Event> {
    await this.until(`event ${name} #${count}`, () => this.events.filter((e) => e.event === name).length >= count);
    return this.events.filter((e) => e.event === name)[count - 1]!;
  }

  /** What tsnspawn's pid runs now: 'node', 'supervisor', or undefined once it is gone. */
  image(): 'node' | 'supervisor' | undefined {
    try {
      return readlinkSync(`/proc/${this.pid}/exe`) === HELPER ? 'supervisor' : 'node';
    } catch {
      return undefined;
    }
  }

  /**
   * After the handover: the supervisor runs in tsnspawn's pid. (The
   * launcher, bin/tsnspawn, is the helper too: only once the container has
   * started under Node does the helper in our pid mean the supervisor.)
   */
  async supervising(): Promise<void> {
    await this.event('started');
    await this.until('the handover to the supervisor', () => this.image() === 'supervisor');
    // Attached: the monitor closes its handover socket once it accepted the supervisor's connection.
    let socket: string | undefined;
    await this.until("the supervisor's command line", () => (socket = this.argAfter('--monitor-socket')) !== undefined);
    await this.until('the supervisor attached', () => !listening(socket!));
  }

  /** The argument after FLAG on tsnspawn's command line now. */
  private argAfter(flag: string): string | undefined {
    try {
      const argv = readFileSync(`/proc/${this.pid}/cmdline`, 'utf8').split('\0');
      const i = argv.indexOf(flag);
      return i >= 0 ? argv[i + 1] : undefined;
    } catch {
      return undefined;
    }
  }

  /** tsnspawn's helper children (the monitor; one at a time). */
  monitors(): number[] {
    let kids: number[];
    try {
      kids = readFileSync(`/proc/${this.pid}/task/${this.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
    return kids.filter((k) => {
      try {
        return readlinkSync(`/proc/${k}/exe`) === HELPER;
      } catch {
        return false;
      }
    });
  }

  /** The monitor, once there is one other than those in `not`. */
  async monitor(not: number[] = []): Promise<number> {
    let found: number | undefined;
    await this.until('a monitor', () => (found = this.monitors().find((m) => !not.includes(m))) !== undefined);
    return found!;
  }

  kill(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal);
  }
}

/** Whether a unix socket listens on the address (abstract: "@NAME"), from /proc/net/unix (flag __SO_ACCEPTCON). */
function listening(address: string): boolean {
  return readFileSync('/proc/net/unix', 'utf8')
    .split('\n')
    .slice(1)
    .some((l) => {
      const f = l.trim().split(/\s+/);
      return f[7] === address && (parseInt(f[3]!, 16) & 0x10000) !== 0;
    });
}

/** The stderr lines of a run (without the empty ones). */
export function lines(stderr: string): string[] {
  return stderr.split('\n').filter(Boolean);
}
