/**
 * A running container, as a handle: its events, waits, exec, and its end.
 * It owns one tsnspawn child process (tsnspawn-process.ts); every way out of
 * the handle (poweroff, stop, kill, dispose, the caller's AbortSignal,
 * process exit, the handle being dropped and collected) ends in that
 * process's exit, and waits resolve from the events.
 */
import { spawn } from 'node:child_process';
import { TsnspawnError } from './errors.js';
import type { ContainerEvent, ExitedEvent } from './events.js';
import { execIn, type ExecOptions, type ExecResult } from './exec.js';
import { TsnspawnProcess } from './tsnspawn-process.js';
import { bounded, poll, StopPolling, type PollOptions, type WaitOptions } from './wait.js';

export interface StartedFacts {
  name: string;
  uuid: string;
  leader: number;
  root: string;
}

/**
 * A handle dropped without dispose: its container is killed once the
 * handle is collected. The process object holds no reference to the handle,
 * so collection is possible while the container still runs.
 */
const abandoned = new FinalizationRegistry<TsnspawnProcess>((p) => void p.kill());

export class Container implements AsyncDisposable {
  private readonly p: TsnspawnProcess;

  /** @internal use boot() or run() */
  constructor(
    private readonly bin: string,
    args: string[],
    /** A booted init: poweroff asks it as machinectl does. */
    readonly booted: boolean,
    lifetime: AbortSignal | undefined,
  ) {
    this.p = new TsnspawnProcess(bin, args, lifetime);
    abandoned.register(this, this.p, this);
  }

  /** Resolves with check()'s first defined value (see TsnspawnProcess.until), bounded by opts. */
  private when<T>(what: string, check: () => T | undefined, opts: WaitOptions, dflt: number, onGiveUp?: (why: unknown) => void): Promise<T> {
    const { work, drop } = this.p.until(what, check);
    const result = bounded(work, what, opts, dflt, onGiveUp);
    result.then(drop, drop);
    return result;
  }

  /** @internal resolves once tsnspawn reported `started`. */
  async started(opts: WaitOptions): Promise<StartedFacts> {
    try {
      const e = await this.when('the container to start', () => this.p.history.find((x) => x.event === 'started'), opts, 60_000);
      return { name: e.name, uuid: e.uuid, leader: e.leader, root: e.root };
    } catch (err) {
      // A boot that is abandoned leaves nothing running.
      await this.kill();
      throw err;
    }
  }

  /** The last `started` event: the machine's name (with -x's suffix), uuid, PID 1 on the host, root. */
  get facts(): StartedFacts {
    const e = this.p.history.findLast((x) => x.event === 'started');
    if (!e) throw new TsnspawnError('the container has not started');
    return { name: e.name, uuid: e.uuid, leader: e.leader, root: e.root };
  }

  get name(): string {
    return this.facts.name;
  }

  /** tsnspawn's pid on the host. */
  get pid(): number | undefined {
    return this.p.pid;
  }

  /** The exit, once the container has ended. */
  get exitInfo(): ExitedEvent | undefined {
    return this.p.closedYet ? this.p.exit : undefined;
  }

  /** The last 64 KiB of the console (with `console: 'pipe'`). */
  output(): string {
    return this.p.console.toString();
  }

  /** The last of tsnspawn's own messages. */
  stderr(): string {
    return this.p.errors.toString();
  }

  /** The last STATUS= text of the guest's init (systemd's "Startup finished in ..."). */
  get statusText(): string | undefined {
    return this.p.history.findLast((x) => x.event === 'status')?.text;
  }

  /**
   * Every event from the start, then live ones, until the container has ended
   * (the `exited` event is the last). Each iteration has its own cursor.
   */
  get events(): AsyncIterable<ContainerEvent> {
    const p = this.p;
    return {
      [Symbol.asyncIterator]: () => {
        let i = 0;
        return {
          next: async (): Promise<IteratorResult<ContainerEvent>> => {
            const ended = (): boolean => p.closedYet && p.exit !== undefined && p.history.includes(p.exit);
            if (i >= p.history.length && !ended()) {
              const { work, drop } = p.until('the next event', () => (i < p.history.length || ended() ? true : undefined));
              await work.finally(drop);
            }
            if (i >= p.history.length) return { done: true, value: undefined };
            return { done: false, value: p.history[i++]! };
          },
        };
      },
    };
  }

  /**
   * The guest is ready: for boot(), its init said READY=1 (systemd: startup
   * finished, as `systemctl is-system-running --wait` would return); for
   * run(), the command started. After a reboot, the new boot's readiness.
   */
  ready(opts: WaitOptions = {}): Promise<void> {
    return this.when(
      'the guest to be ready',
      () => {
        const last = this.p.history.findLastIndex((x) => x.event === 'started');
        return last >= 0 && this.p.history.slice(last).some((x) => x.event === 'ready') ? true : undefined;
      },
      opts,
      120_000,
    ).then(() => undefined);
  }

  /** A line of the console matching `pattern` (`times` matches), as testcontainers' Wait.forLogMessage. */
  waitForOutput(pattern: string | RegExp, opts: WaitOptions & { times?: number } = {}): Promise<void> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
    const times = opts.times ?? 1;
    const tick = setInterval(() => this.p.notify(), 200);
    return this.when(`console output ${re}`, () => ((this.p.console.toString().match(re)?.length ?? 0) >= times ? true : undefined), opts, 120_000)
      .then(() => undefined)
      .finally(() => clearInterval(tick));
  }

  /** Runs a command inside (`tsnspawn exec`): its exit code and output, not thrown unless `check`. */
  exec(command: readonly string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return execIn(this.bin, this.name, command, opts);
  }

  /**
   * Polls until `predicate` holds (a thrown error is "not yet"), as `incus wait`
   * with --interval/--timeout; ends early with ContainerExitedError if the container does.
   */
  async waitFor<T>(predicate: (c: Container, signal: AbortSignal) => Promise<T | undefined | false> | T | undefined | false, opts: PollOptions & { what?: string } = {}): Promise<T> {
    return poll(
      async (signal) => {
        if (this.p.closedYet) throw new StopPolling(this.p.exitedError(opts.what ?? 'a condition'));
        return predicate(this, signal);
      },
      opts.what ?? 'a condition in the container',
      opts,
    );
  }

  /** Polls a command until it exits 0 (testcontainers' Wait.forSuccessfulCommand); returns its result. */
  waitForCommand(command: readonly string[], opts: PollOptions = {}): Promise<ExecResult> {
    return this.waitFor(
      async (c, signal) => {
        const r = await c.exec(command, { signal, timeout: opts.timeout });
        return r.code === 0 ? r : undefined;
      },
      { ...opts, what: `${command.join(' ')} to succeed` },
    );
  }

  /** The end of the container: tsnspawn's exit status and how the guest ended. */
  exited(opts: WaitOptions = {}): Promise<ExitedEvent> {
    return this.when('the container to end', () => (this.p.closedYet ? this.p.exit : undefined), opts, 120_000);
  }

  /** Sends a signal to the container's PID 1 (`tsnspawn kill NAME SIGNAL`). */
  async signal(sig: string, opts: WaitOptions = {}): Promise<void> {
    const child = spawn(this.bin, ['kill', this.name, sig], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await bounded(new Promise<number>((res) => child.on('close', (c) => res(c ?? 1))), `tsnspawn kill ${sig}`, opts, 10_000);
    if (code !== 0) throw new TsnspawnError(`tsnspawn kill ${this.name} ${sig} failed (${code}): ${err.trim()}`);
  }

  /**
   * Powers the guest off and resolves to the exit status (0 for a clean
   * poweroff; a guest's `systemctl exit N` gives N). A booted init gets
   * SIGRTMIN+4, what `machinectl poweroff` sends; a plain command is killed,
   * as nspawn's stop does. After the timeout: kill(), and TimeoutError.
   */
  async poweroff(opts: WaitOptions = {}): Promise<number> {
    if (!this.p.closedYet) {
      if (this.booted) await this.signal('SIGRTMIN+4', opts).catch(() => this.kill());
      else void this.kill();
    }
    return (await this.when('the guest to power off', () => (this.p.closedYet ? this.p.exit : undefined), opts, 90_000, () => void this.kill())).status;
  }

  /**
   * Ends the container, gracefully first: a booted init gets SIGRTMIN+3
   * (halt, systemd-nspawn's kill signal for -b), a plain command is killed
   * at once (as nspawn). After `timeout` ms (default 30 000), kill(). Never
   * throws on a timeout: the container is gone either way.
   */
  async stop(opts: { timeout?: number } = {}): Promise<ExitedEvent> {
    if (this.p.closedYet) return this.p.exit!;
    if (!this.booted) return this.kill();
    await this.signal('SIGRTMIN+3').catch(() => this.kill());
    const grace = setTimeout(() => void this.kill(), opts.timeout ?? 30_000);
    try {
      return await this.p.hold(this.p.closed);
    } finally {
      clearTimeout(grace);
    }
  }

  /**
   * Kills the guest at once: SIGTERM to tsnspawn (it was started with
   * --kill-signal=SIGKILL, and cleans up after), SIGKILL to tsnspawn if it is
   * still there 5 s later. Resolves when it is gone.
   */
  kill(): Promise<ExitedEvent> {
    return this.p.kill();
  }

  /** `await using c = await boot(...)`: stops the container (10 s grace) if it still runs. */
  async [Symbol.asyncDispose](): Promise<void> {
    abandoned.unregister(this);
    await this.stop({ timeout: 10_000 });
  }
}
