/**
 * The tsnspawn child process behind a Container handle, and everything its
 * pipes tell: the event history, the console and stderr tails, the end.
 *
 * It is kept apart from the handle so that nothing it owns (pipe and exit
 * handlers, AbortSignal listeners) points back at the handle: a handle the
 * caller drops can then be collected, and a FinalizationRegistry ends its
 * container (container.ts). For the same reason the process and its pipes are
 * unref'd while nobody waits on them: a forgotten container does not keep
 * the test process alive, and the exit handler (reaper.ts) ends it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { ContainerExitedError } from './errors.js';
import { EventLineParser, exitFromProcess, type ContainerEvent, type ExitedEvent } from './events.js';
import { setprivPath } from './locate.js';
import { track, untrack } from './reaper.js';
import { Tail } from './tail.js';

type Listener = () => void;

/** What ref()/unref() is called on: the process and each of its pipes. */
interface Referable {
  ref(): unknown;
  unref(): unknown;
}

export class TsnspawnProcess {
  readonly history: ContainerEvent[] = [];
  readonly console = new Tail();
  readonly errors = new Tail(16 * 1024);
  exit: ExitedEvent | undefined;
  /** tsnspawn is gone and its pipes are drained: no event can come any more. */
  closedYet = false;
  readonly closed: Promise<ExitedEvent>;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<Listener>();
  /** How many waits are pending; while there are any, the process keeps the event loop alive. */
  private waiters = 0;

  constructor(bin: string, args: string[], lifetime: AbortSignal | undefined) {
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
    this.setRef(false);
  }

  get pid(): number | undefined {
    return this.child.pid;
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

  notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private setRef(on: boolean): void {
    const items = [this.child, ...this.child.stdio] as unknown as (Referable | null)[];
    for (const x of items) {
      if (!x || typeof x.ref !== 'function') continue;
      if (on) x.ref();
      else x.unref();
    }
  }

  /**
   * Keeps the event loop alive until `work` settles or the returned release
   * is called (a wait given up on a timeout leaves its work pending).
   */
  private holdUntil(work: Promise<unknown>): () => void {
    if (this.waiters++ === 0) this.setRef(true);
    let held = true;
    const release = (): void => {
      if (!held) return;
      held = false;
      if (--this.waiters === 0) this.setRef(false);
    };
    work.then(release, release);
    return release;
  }

  /** Keeps the event loop alive until `work` settles (someone is waiting on this container). */
  hold<T>(work: Promise<T>): Promise<T> {
    this.holdUntil(work);
    return work;
  }

  /**
   * Resolves with check()'s first defined value, re-checked on every event;
   * rejects with ContainerExitedError if the container ends first. `drop`
   * ends the wait's claim on the event loop and on the events.
   */
  until<T>(what: string, check: () => T | undefined): { work: Promise<T>; drop: () => void } {
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
    const release = this.holdUntil(work);
    return {
      work,
      drop: () => {
        this.listeners.delete(listener!);
        release();
      },
    };
  }

  exitedError(what: string): ContainerExitedError {
    return new ContainerExitedError(what, this.exit!.status, this.errors.toString(), this.console.toString());
  }

  /**
   * SIGTERM to tsnspawn (started with --kill-signal=SIGKILL, it kills its
   * guest and cleans up), SIGKILL 5 s later if it is still there. Resolves when it is gone.
   */
  async kill(): Promise<ExitedEvent> {
    if (this.closedYet) return this.exit!;
    this.child.kill('SIGTERM');
    const last = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    try {
      return await this.hold(this.closed);
    } finally {
      clearTimeout(last);
    }
  }
}
