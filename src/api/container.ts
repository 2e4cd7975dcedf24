/**
 * A running container, as a handle: its events, waits, exec, and its end.
 * It owns one tsnspawn child process; every way out of the handle
 * (poweroff, stop, kill, dispose, the caller's AbortSignal, process exit)
 * ends in that process's exit, and waits resolve from the events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ContainerExitedError, TsnspawnError } from './errors.js';
import { EventLineParser, exitFromProcess, type ContainerEvent, type ExitedEvent } from './events.js';
import { execIn, type ExecOptions, type ExecResult } from './exec.js';
import { setprivPath } from './locate.js';
import { track, untrack } from './reaper.js';
import { Tail } from './tail.js';
import { bounded, poll, StopPolling, type PollOptions, type WaitOptions } from './wait.js';

export interface StartedFacts {
  name: string;
  uuid: string;
  leader: number;
  root: string;
}

type Listener = () => void;

export class Container implements AsyncDisposable {
  private readonly child: ChildProcess;
  private readonly history: ContainerEvent[] = [];
  private readonly listeners = new Set<Listener>();
  private readonly console = new Tail();
  private readonly errors = new Tail(16 * 1024);
  private exit: ExitedEvent | undefined;
  /** tsnspawn is gone and its pipes are drained: no event can come any more. */
  private closedYet = false;
  private readonly closed: Promise<ExitedEvent>;

  /** @internal use boot() or run() */
  constructor(
    private readonly bin: string,
    args: string[],
    /** A booted init: poweroff asks it as machinectl does. */
    readonly booted: boolean,
    lifetime: AbortSignal | undefined,
  ) {
    // fd 3 is the events pipe. setpriv gives tsnspawn a parent-death SIGTERM (locate.ts says why).
    const setpriv = setprivPath();
    const [cmd, argv] = setpriv ? [setpriv, ['--pdeathsig', 'SIGTERM', '--', bin, ...args]] : [bin, args];
    this.child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    if (this.child.pid !== undefined) track(this.child.pid);
    const parser = new EventLineParser();
    const events = this.child.stdio[3] as NodeJS.ReadableStream;
    events.setEncoding('utf8');
    events.on('data', (chunk: string) => {
      for (const e of parser.push(chunk)) this.record(e);
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stdout!.on('data', (d: string) => this.console.push(d));
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (d: string) => this.errors.push(d));
    this.closed = new Promise((resolve) => {
      this.child.on('error', (e) => {
        this.errors.push(`cannot run ${bin}: ${e.message}\n`);
        this.closedYet = true;
        this.finish({ event: 'exited', status: 127, outcome: 'exited', code: 127 });
        resolve(this.exit!);
      });
      // 'close': the process is gone and its pipes drained, so the last events are in.
      this.child.on('close', (code, signal) => {
        if (this.child.pid !== undefined) untrack(this.child.pid);
        // The event says how the guest ended; without one (tsnspawn killed, or failed early), the process's status.
        this.closedYet = true;
        this.finish(this.exit ?? exitFromProcess(code, signal));
        resolve(this.exit!);
      });
    });
    if (lifetime) {
      const onAbort = (): void => void this.kill();
      if (lifetime.aborted) onAbort();
      else lifetime.addEventListener('abort', onAbort, { once: true });
      void this.closed.then(() => lifetime.removeEventListener('abort', onAbort));
    }
  }

  private record(e: ContainerEvent): void {
    if (e.event === 'exited') this.exit = e;
    else this.history.push(e);
    this.notify();
  }

  private finish(e: ExitedEvent): void {
    if (!this.history.includes(e)) this.history.push(e);
    this.exit = e;
    this.notify();
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  /**
   * Resolves with check()'s first defined value, re-checked on every event;
   * rejects with ContainerExitedError if the container ends first.
   */
  private when<T>(what: string, check: () => T | undefined, opts: WaitOptions, dflt: number): Promise<T> {
    let listener: Listener | undefined;
    const work = new Promise<T>((resolve, reject) => {
      listener = () => {
        const v = check();
        if (v !== undefined) resolve(v);
        else if (this.exit && this.closedYet) reject(this.exitedError(what));
      };
      this.listeners.add(listener);
      listener();
    });
    const result = bounded(work, what, opts, dflt);
    const drop = (): void => void this.listeners.delete(listener!);
    result.then(drop, drop);
    return result;
  }

  private exitedError(what: string): ContainerExitedError {
    return new ContainerExitedError(what, this.exit!.status, this.errors.toString(), this.console.toString());
  }

  /** @internal resolves once tsnspawn reported `started`. */
  async started(opts: WaitOptions): Promise<StartedFacts> {
    try {
      const e = await this.when('the container to start', () => this.history.find((x) => x.event === 'started'), opts, 60_000);
      return { name: e.name, uuid: e.uuid, leader: e.leader, root: e.root };
    } catch (err) {
      // A boot that is abandoned leaves nothing running.
      await this.kill();
      throw err;
    }
  }

  /** The last `started` event: the machine's name (with -x's suffix), uuid, PID 1 on the host, root. */
  get facts(): StartedFacts {
    const e = this.history.findLast((x) => x.event === 'started');
    if (!e) throw new TsnspawnError('the container has not started');
    return { name: e.name, uuid: e.uuid, leader: e.leader, root: e.root };
  }

  get name(): string {
    return this.facts.name;
  }

  /** tsnspawn's pid on the host. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The exit, once the container has ended. */
  get exitInfo(): ExitedEvent | undefined {
    return this.closedYet ? this.exit : undefined;
  }

  /** The last 64 KiB of the console (with `console: 'pipe'`). */
  output(): string {
    return this.console.toString();
  }

  /** The last of tsnspawn's own messages. */
  stderr(): string {
    return this.errors.toString();
  }

  /** The last STATUS= text of the guest's init (systemd's "Startup finished in ..."). */
  get statusText(): string | undefined {
    return this.history.findLast((x) => x.event === 'status')?.text;
  }

  /**
   * Every event from the start, then live ones, until the container has ended
   * (the `exited` event is the last). Each iteration has its own cursor.
   */
  get events(): AsyncIterable<ContainerEvent> {
    return {
      [Symbol.asyncIterator]: () => {
        let i = 0;
        return {
          next: async (): Promise<IteratorResult<ContainerEvent>> => {
            while (i >= this.history.length) {
              if (this.closedYet && this.exit && this.history.includes(this.exit)) return { done: true, value: undefined };
              await new Promise<void>((r) => {
                const l = (): void => {
                  this.listeners.delete(l);
                  r();
                };
                this.listeners.add(l);
              });
            }
            return { done: false, value: this.history[i++]! };
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
        const last = this.history.findLastIndex((x) => x.event === 'started');
        return last >= 0 && this.history.slice(last).some((x) => x.event === 'ready') ? true : undefined;
      },
      opts,
      120_000,
    ).then(() => undefined);
  }

  /** A line of the console matching `pattern` (`times` matches), as testcontainers' Wait.forLogMessage. */
  waitForOutput(pattern: string | RegExp, opts: WaitOptions & { times?: number } = {}): Promise<void> {
    const re = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'g') : new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : pattern.flags + 'g');
    const times = opts.times ?? 1;
    const tick = setInterval(() => this.notify(), 200);
    return this.when(`console output ${re}`, () => ((this.console.toString().match(re)?.length ?? 0) >= times ? true : undefined), opts, 120_000)
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
        if (this.closedYet) throw new StopPolling(this.exitedError(opts.what ?? 'a condition'));
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
    return bounded(this.closed, 'the container to end', opts, 120_000);
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
    if (!this.closedYet) {
      if (this.booted) await this.signal('SIGRTMIN+4', opts).catch(() => this.kill());
      else void this.kill();
    }
    return (await bounded(this.closed, 'the guest to power off', opts, 90_000, () => void this.kill())).status;
  }

  /**
   * Ends the container, gracefully first: a booted init gets SIGRTMIN+3
   * (halt, systemd-nspawn's kill signal for -b), a plain command is killed
   * at once (as nspawn). After `timeout` ms (default 30 000), kill(). Never
   * throws on a timeout: the container is gone either way.
   */
  async stop(opts: { timeout?: number } = {}): Promise<ExitedEvent> {
    if (this.closedYet) return this.exit!;
    if (!this.booted) return this.kill();
    await this.signal('SIGRTMIN+3').catch(() => this.kill());
    const grace = setTimeout(() => void this.kill(), opts.timeout ?? 30_000);
    try {
      return await this.closed;
    } finally {
      clearTimeout(grace);
    }
  }

  /**
   * Kills the guest at once: SIGTERM to tsnspawn (it was started with
   * --kill-signal=SIGKILL, and cleans up after), SIGKILL to tsnspawn if it is
   * still there 5 s later. Resolves when it is gone.
   */
  async kill(): Promise<ExitedEvent> {
    if (this.closedYet) return this.exit!;
    this.child.kill('SIGTERM');
    const last = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    try {
      return await this.closed;
    } finally {
      clearTimeout(last);
    }
  }

  /** `await using c = await boot(...)`: stops the container (10 s grace) if it still runs. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop({ timeout: 10_000 });
  }
}
