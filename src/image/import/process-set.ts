/**
 * The processes of one import (tar, a second tar for the listing, bash
 * running decompressor | tar). Each gets a process group of its own, so
 * killing one ends what it started; all are ended by their own pid.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { errnoInLine, errnoOfNodeError, type ChildCause } from './failure-cause.js';

export interface Launch {
  /** Names the process in failures: "zstd | tar", "tar listing". */
  label: string;
  argv: string[];
  stdio: StdioOptions;
  env?: Readonly<Record<string, string>>;
  /** Each line the process writes on stderr. */
  onStderrLine(line: string): void;
  /** stderr lines that say nothing about a failure (left out of its description). */
  noise?: RegExp;
}

export class ProcessSet {
  private readonly running: Array<{ label: string; child: ChildProcess; done: Promise<string | undefined> }> = [];
  /** Set once kill() ran: the signals after it are ours. */
  private killing = false;
  /** The first system error any child reported, or a signal we did not send; with the order it came in (see mark()). */
  private cause: { cause: ChildCause; at: number } | undefined;
  private sequence = 0;

  /** A point in the order of events: a cause seen before it came first. */
  mark(): number {
    return ++this.sequence;
  }

  /** What failed first in the children, and when (in mark() order). */
  firstCause(): { cause: ChildCause; at: number } | undefined {
    return this.cause;
  }

  private noteCause(cause: ChildCause): void {
    this.cause ??= { cause, at: this.mark() };
  }

  start(launch: Launch): ChildProcess {
    const child = spawn(launch.argv[0]!, launch.argv.slice(1), {
      stdio: launch.stdio,
      detached: true,
      env: { ...process.env, ...launch.env },
    });
    let tail = '';
    const lastLines: string[] = [];
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => {
      const lines = (tail + d).split('\n');
      tail = lines.pop()!;
      for (const line of lines) {
        const errno = errnoInLine(line);
        if (errno) this.noteCause({ kind: 'errno', errno, label: launch.label, line: line.replace(/^[a-z]+: /, '') });
        launch.onStderrLine(line);
        if (launch.noise?.test(line)) continue;
        lastLines.push(line);
        if (lastLines.length > 3) lastLines.shift();
      }
    });
    const done = new Promise<string | undefined>((resolve) => {
      child.on('error', (e) => {
        const errno = errnoOfNodeError(e);
        if (errno) this.noteCause({ kind: 'errno', errno, label: launch.label, line: e.message });
        resolve(`cannot run ${launch.label}: ${e.message}`);
      });
      child.on('close', (code, signal) => {
        // bash reports a child's signal as exit 128+N; the pipeline's own signal is the child's here.
        if (signal && !this.killing) this.noteCause({ kind: 'signal', signal, label: launch.label });
        if (code === 0) resolve(undefined);
        else resolve(`${launch.label} failed (${signal ?? `exit ${code}`})${lastLines.length ? `: ${lastLines.join('; ')}` : ''}`);
      });
    });
    this.running.push({ label: launch.label, child, done });
    return child;
  }

  /** SIGKILL to every process group still alive; pids are ours, from spawn. */
  kill(): void {
    this.killing = true;
    for (const { child } of this.running) {
      if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) continue;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }

  /** Once all have ended: the first failure in start order, or undefined. */
  async finished(): Promise<string | undefined> {
    const results = await Promise.all(this.running.map((r) => r.done));
    return results.find((r) => r !== undefined);
  }
}
