/** Runs bin/tsnspawn (with execa) and checks the host for leaks afterwards. */
import assert from 'node:assert/strict';
import { execa, type ResultPromise } from 'execa';
import { leaks, snapshot } from './host-state.js';
import { TSNSPAWN } from './paths.js';

export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string;
  env?: Record<string, string>;
  timeoutMs?: number;
}

export function start(args: string[], opts: RunOptions = {}): ResultPromise {
  return execa(TSNSPAWN, args, {
    input: opts.input,
    stdin: opts.input === undefined ? 'ignore' : undefined,
    env: opts.env,
    reject: false,
    timeout: opts.timeoutMs ?? 60_000,
    stripFinalNewline: false,
  });
}

export async function run(args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await start(args, opts);
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Waits until no test-tree process or helper remains (they die with init), then compares. */
export async function assertNoLeaks(before: ReturnType<typeof snapshot>, trees: string[]): Promise<void> {
  let found: string[] = [];
  for (let i = 0; i < 50; i++) {
    found = leaks(before, snapshot(), trees);
    if (found.length === 0) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(found, [], 'the run left things behind on the host');
}

/** Runs and asserts the host is as before. */
export async function runClean(args: string[], trees: string[], opts: RunOptions = {}): Promise<RunResult> {
  const before = snapshot();
  const r = await run(args, opts);
  await assertNoLeaks(before, trees);
  return r;
}

/** For tests of bad input: exactly one line on stderr starting with "tsnspawn: ". */
export function assertOneErrorLine(r: RunResult, pattern: RegExp): void {
  assert.notEqual(r.exitCode, 0, `expected failure, got exit 0; stderr: ${r.stderr}`);
  const lines = r.stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
  assert.match(lines[0]!, /^tsnspawn: /);
  assert.match(lines[0]!, pattern);
}

/** Waits until `tsnspawn list` shows the container NAME (up to ~30 s); false if it never did. */
export async function untilListed(name: string): Promise<boolean> {
  for (let i = 0; i < 600; i++) {
    if ((JSON.parse((await run(['list', '--json'])).stdout) as { name: string }[]).some((m) => m.name === name)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
