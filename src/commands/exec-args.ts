/**
 * `tsnspawn exec`'s command line: options, then the machine name, then the
 * command (an optional `--` before it). Everything after the name belongs
 * to the command, as with `docker exec` and `machinectl shell`, so
 * `tsnspawn exec deb ls -l` needs no `--`. A bad command line is a failure
 * of tsnspawn's own: exit 125, as every exec failure before the command runs.
 */
import { UserError } from '../util/errors.js';
import { SUBCOMMANDS } from './table.js';

/** Container tools share these: tsnspawn could not do it, the command cannot be executed, no such command. */
export const EXIT_EXEC_FAILED = 125;
export const EXIT_CANNOT_EXECUTE = 126;
export const EXIT_NOT_FOUND = 127;

export interface ExecArgs {
  tty: boolean;
  /** -u: a user name or number of the container's; undefined: root. */
  user?: string;
  /** -E in order: NAME=VALUE, or NAME alone for the host's value (as nspawn's --setenv). */
  setenv: string[];
  chdir?: string;
  name: string;
  /** Empty: the user's login shell. */
  command: string[];
}

/** A usage error that exits 125 and names the usage line. */
export function execUsageError(what: string): UserError {
  return new UserError(`${what} (usage: ${SUBCOMMANDS['exec']?.usage ?? 'tsnspawn exec'})`, EXIT_EXEC_FAILED);
}

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkSetenv(v: string): string {
  const name = v.includes('=') ? v.slice(0, v.indexOf('=')) : v;
  if (!ENV_NAME.test(name)) throw execUsageError(`invalid -E ${v}: give NAME=VALUE or NAME`);
  return v;
}

export function parseExecArgs(args: string[]): ExecArgs {
  const out: Omit<ExecArgs, 'name' | 'command'> = { tty: false, setenv: [] };
  let i = 0;
  // An option's value: "--opt=V", "--opt V", "-oV" or "-o V".
  const value = (a: string, long: string, short: string | undefined): string | undefined => {
    if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
    if (short && a.startsWith(short) && a.length > short.length) return a.slice(short.length);
    if (a === long || a === short) {
      const v = args[++i];
      if (v === undefined) throw execUsageError(`${a} needs a value`);
      return v;
    }
    return undefined;
  };
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      i++;
      break;
    }
    if (!a.startsWith('-') || a === '-') break;
    let v: string | undefined;
    if (a === '-t' || a === '--tty') out.tty = true;
    else if ((v = value(a, '--user', '-u')) !== undefined) {
      if (v === '') throw execUsageError('-u needs a user name or number');
      out.user = v;
    } else if ((v = value(a, '--setenv', '-E')) !== undefined) out.setenv.push(checkSetenv(v));
    else if ((v = value(a, '--chdir', undefined)) !== undefined) {
      if (!v.startsWith('/')) throw execUsageError(`invalid --chdir=${v}: give an absolute path inside the container`);
      out.chdir = v;
    } else throw execUsageError(`unknown option '${a}' for exec`);
  }
  const name = args[i];
  if (name === undefined) throw execUsageError('exec needs a machine name');
  let rest = args.slice(i + 1);
  if (rest[0] === '--') rest = rest.slice(1);
  return { ...out, name, command: rest };
}
