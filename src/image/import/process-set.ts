/**
 * The processes of one import (tar, a second tar for the listing, bash
 * running decompressor | tar). Each gets a process group of its own, so
 * killing one ends what it started; all are ended by their own pid.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';

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
        launch.onStderrLine(line);
        if (launch.noise?.test(line)) continue;
        lastLines.push(line);
        if (lastLines.length > 3) lastLines.shift();
      }
    });
    const done = new Promise<string | undefined>((resolve) => {
      child.on('error', (e) => resolve(`cannot run ${launch.label}: ${e.message}`));
      child.on('close', (code, signal) => {
        if (code === 0) resolve(undefined);
        else resolve(`${launch.label} failed (${signal ?? `exit ${code}`})${lastLines.length ? `: ${lastLines.join('; ')}` : ''}`);
      });
    });
    this.running.push({ label: launch.label, child, done });
    return child;
  }

  /** SIGKILL to every process group still alive; pids are ours, from spawn. */
  kill(): void {
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
