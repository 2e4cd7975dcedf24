/**
 * `tsnspawn exec [-t] [-u USER] [-E NAME=VALUE]... [--chdir=PATH] NAME
 * [--] [COMMAND [ARGS...]]`: a command inside a running container, whatever
 * its init. Node decides (the container from tsnspawn's runtime state, the
 * user from the container's passwd, the environment from its PID 1's),
 * then execve()s the helper in its own pid (native/exec.c), which enters
 * the container and runs the command: signals to this pid and the exit
 * status are the helper's, with no Node in between. Without COMMAND, the
 * user's login shell. Every failure before the command runs exits 125.
 */
import { accessSync, constants, lstatSync, readFileSync } from 'node:fs';
import { HELPER_PATH } from '../runtime/helper.js';
import { HANDOVER_ADDON_PATH, loadHandoverGate } from '../runtime/handover-gate.js';
import { readState, type MachineState } from '../runtime/state.js';
import { UserError } from '../util/errors.js';
import { EXIT_EXEC_FAILED, parseExecArgs } from './exec-args.js';
import { buildExecEnv, parseEnviron } from './exec-env.js';
import { resolveUser } from './exec-user.js';
import { execHelperArgv } from './exec-wire.js';

/**
 * A file of the container's, through /proc/LEADER/root. An absolute symlink
 * there would resolve against our root (the host's), so a path with a
 * symlink in it is not read: undefined, as a missing file.
 */
function readContainerFile(leader: number, path: string): string | undefined {
  const root = `/proc/${leader}/root`;
  let at = root;
  try {
    for (const part of path.split('/').filter(Boolean)) {
      at += `/${part}`;
      if (lstatSync(at).isSymbolicLink()) return undefined;
    }
    return readFileSync(at, 'utf8');
  } catch {
    return undefined;
  }
}

function runningContainer(name: string): MachineState {
  let s: MachineState | undefined;
  try {
    s = readState(name);
  } catch (e) {
    throw new UserError(`cannot run a command in ${name}: ${(e as Error).message}`, EXIT_EXEC_FAILED);
  }
  if (!s) throw new UserError(`no container named '${name}' is running (tsnspawn list shows those that are)`, EXIT_EXEC_FAILED);
  return s;
}

/** Any failure here is tsnspawn's own, so a script can tell it from the command's status: 125. */
export async function execCommand(args: string[]): Promise<never> {
  try {
    return await prepareAndExec(args);
  } catch (e) {
    if (e instanceof UserError) throw e.exitCode === EXIT_EXEC_FAILED ? e : new UserError(e.message, EXIT_EXEC_FAILED);
    throw new UserError(`exec: internal error: ${(e as Error).message}`, EXIT_EXEC_FAILED);
  }
}

async function prepareAndExec(args: string[]): Promise<never> {
  const a = parseExecArgs(args);
  const s = runningContainer(a.name);
  const pid = s.leader.pid;
  const user = resolveUser(a.user, readContainerFile(pid, '/etc/passwd'), readContainerFile(pid, '/etc/group'), s.name);
  let environ: string;
  try {
    environ = readFileSync(`/proc/${pid}/environ`, 'latin1');
  } catch (e) {
    throw new UserError(`cannot read the environment of container ${s.name} (pid ${pid}): ${(e as Error).message}`, EXIT_EXEC_FAILED);
  }
  const env = buildExecEnv({
    pid1Environ: parseEnviron(environ),
    user,
    ...(a.tty && process.env['TERM'] ? { hostTerm: process.env['TERM'] } : {}),
    setenv: a.setenv,
    hostEnv: process.env,
  });
  const argv = execHelperArgv(HELPER_PATH, {
    machine: s.name,
    leader: s.leader,
    caps: s.caps,
    syscallFilter: s.syscallFilter,
    suppressSync: s.suppressSync ?? false,
    ...(s.syscallRules ? { syscallRules: s.syscallRules } : {}),
    user,
    chdir: a.chdir ?? user.home,
    chdirFallback: a.chdir === undefined,
    tty: a.tty,
    command: a.command.length > 0 ? a.command : [user.shell],
  });
  execHelper(argv, env);
}

/**
 * Replaces this process with the helper, through the handover's addon
 * (native/addon/, any Node from 22 on) or else Node's process.execve
 * (23.11 and later); the helper is checked first, so a failure is a message.
 */
function execHelper(argv: string[], env: Record<string, string>): never {
  const gate = loadHandoverGate();
  const nodeExecve = (process as unknown as { execve?: (file: string, args: string[], env: Record<string, string>) => void }).execve;
  if (!gate && typeof nodeExecve !== 'function') throw new UserError(`exec needs its addon (${HANDOVER_ADDON_PATH}: rebuild with make) or Node 23.11 or later; this is ${process.version}`, EXIT_EXEC_FAILED);
  try {
    accessSync(argv[0]!, constants.X_OK);
  } catch (e) {
    throw new UserError(`cannot execute the helper ${argv[0]}: ${(e as Error).message}`, EXIT_EXEC_FAILED);
  }
  if (gate) gate.execve(argv[0]!, argv, env);
  else nodeExecve!.call(process, argv[0]!, argv, env);
  throw new Error('execve returned');
}
