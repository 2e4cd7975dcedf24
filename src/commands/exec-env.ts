/**
 * The environment of a command `tsnspawn exec` runs: like the container's
 * PID 1's (container=, container_uuid=, PATH, LANG, ... as tsnspawn gave
 * them), without what only PID 1 may use (its notify socket, the sockets
 * of socket activation), with the user's HOME/USER/LOGNAME/SHELL, TERM
 * from the host's terminal with -t, and -E last so it wins. Pure.
 */
import type { ContainerUser } from './exec-user.js';

/** PID 1's alone: the notify socket is for its readiness, LISTEN_* name fds only PID 1 got. */
const PID1_ONLY = (name: string): boolean => name === 'NOTIFY_SOCKET' || name.startsWith('LISTEN_');

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** /proc/PID/environ: NUL-separated NAME=VALUE entries. */
export function parseEnviron(raw: string): string[] {
  return raw.split('\0').filter((e) => e.includes('='));
}

export interface ExecEnvInput {
  pid1Environ: string[];
  user: ContainerUser;
  /** -t: the host terminal's $TERM (undefined: keep PID 1's). */
  hostTerm?: string;
  /** -E in order: NAME=VALUE, or NAME for the host's value. */
  setenv: string[];
  hostEnv: Record<string, string | undefined>;
}

export function buildExecEnv(i: ExecEnvInput): Record<string, string> {
  const env = new Map<string, string>();
  for (const e of i.pid1Environ) {
    const eq = e.indexOf('=');
    const name = e.slice(0, eq);
    if (!PID1_ONLY(name)) env.set(name, e.slice(eq + 1));
  }
  if (!env.has('PATH')) env.set('PATH', DEFAULT_PATH);
  env.set('HOME', i.user.home);
  env.set('USER', i.user.name);
  env.set('LOGNAME', i.user.name);
  env.set('SHELL', i.user.shell);
  if (i.hostTerm) env.set('TERM', i.hostTerm);
  for (const s of i.setenv) {
    const eq = s.indexOf('=');
    if (eq >= 0) env.set(s.slice(0, eq), s.slice(eq + 1));
    else if (i.hostEnv[s] !== undefined) env.set(s, i.hostEnv[s]!);
  }
  return Object.fromEntries(env);
}
