/** `tsnspawn exec NAME -- COMMAND...` from the API: the command's exit code and output. */
import { spawn } from 'node:child_process';
import { ExecError, TsnspawnError } from './errors.js';
import { bounded, type WaitOptions } from './wait.js';

export interface ExecOptions extends WaitOptions {
  /** Written to the command's stdin (default: none, stdin is /dev/null). */
  input?: string | Uint8Array;
  /** Run as this user of the tree (-u). */
  user?: string;
  /** Extra environment (-E), over PID 1's. */
  env?: Record<string, string>;
  /** Working directory (default: the user's home). */
  cwd?: string;
  /** Throw ExecError when the code is not 0 (default false: the code is returned). */
  check?: boolean;
}

export interface ExecResult {
  /** The command's exit status (128+N after signal N); 125/126/127 when tsnspawn could not, could not execute, found no command. */
  code: number;
  stdout: string;
  stderr: string;
}

export function execArgs(name: string, command: readonly string[], o: ExecOptions): string[] {
  const a = ['exec'];
  if (o.user !== undefined) a.push('-u', o.user);
  for (const [k, v] of Object.entries(o.env ?? {})) a.push('-E', `${k}=${v}`);
  if (o.cwd !== undefined) a.push(`--chdir=${o.cwd}`);
  return [...a, name, '--', ...command];
}

/** SIGTERM first (tsnspawn exec passes it on to the command), SIGKILL if it lingers. */
const KILL_GRACE_MS = 3000;

export function execIn(bin: string, name: string, command: readonly string[], o: ExecOptions = {}): Promise<ExecResult> {
  if (command.length === 0) return Promise.reject(new TypeError('exec(): give a command'));
  const child = spawn(bin, execArgs(name, command, o), { stdio: [o.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (d: Buffer) => out.push(d));
  child.stderr!.on('data', (d: Buffer) => err.push(d));
  if (o.input !== undefined) {
    child.stdin!.on('error', () => {}); // a command that does not read its stdin
    child.stdin!.end(o.input);
  }
  const done = new Promise<ExecResult>((resolve, reject) => {
    child.on('error', (e) => reject(new TsnspawnError(`cannot run ${bin}: ${e.message}`, { cause: e })));
    child.on('close', (code, signal) => {
      const r = { code: code ?? 128 + (signal === 'SIGKILL' ? 9 : 15), stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
      if (o.check && r.code !== 0) reject(new ExecError(command, r.code, r.stdout, r.stderr));
      else resolve(r);
    });
  });
  return bounded(done, `${command.join(' ')} in ${name}`, o, 60_000, () => {
    child.kill('SIGTERM');
    setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill('SIGKILL'), KILL_GRACE_MS).unref();
  });
}
