/**
 * tsnspawn's subcommands. `tsnspawn [OPTIONS] [COMMAND]` (no subcommand)
 * starts a container, as systemd-nspawn; a first word from this table runs
 * that instead. Each loads its module only when asked, so the container
 * start path pays nothing for them. native/launch.c keeps the same names
 * (none of them needs the monitor it forks for a container).
 */
import { UserError } from '../util/errors.js';

export interface Subcommand {
  usage: string;
  summary: string;
  run(args: string[]): Promise<number>;
}

export const SUBCOMMANDS: Record<string, Subcommand> = {
  'import-tar': {
    usage: 'tsnspawn import-tar [--output=DIR] [--force] [-q] FILE|- [NAME]',
    summary: 'unpack a rootfs archive into /var/lib/machines/NAME',
    run: async (args) => (await import('./import-tar.js')).importTarCommand(args),
  },
  exec: {
    usage: 'tsnspawn exec [-t] [-u USER] [-E NAME=VALUE]... [--chdir=PATH] NAME [--] [COMMAND [ARGS...]]',
    summary:
      "run a command (default: the user's login shell) in a running container: its namespaces, cgroups, capabilities and system call filter, an environment like its PID 1's; exit status the command's, or 125 (tsnspawn could not), 126 (cannot execute), 127 (not found)",
    run: async (args) => (await import('./exec.js')).execCommand(args),
  },
  list: {
    usage: 'tsnspawn list [--json]',
    summary: 'the running containers',
    run: async (args) => (await import('./list.js')).listCommand(args),
  },
  status: {
    usage: 'tsnspawn status NAME',
    summary: 'one running container',
    run: async (args) => (await import('./status.js')).statusCommand(args),
  },
  stop: {
    usage: 'tsnspawn stop NAME [--timeout=SECONDS]',
    summary: "stop a container: its kill signal (a clean shutdown for -b), then SIGKILL after the timeout (default 90)",
    run: async (args) => (await import('./stop.js')).stopCommand(args),
  },
  kill: {
    usage: 'tsnspawn kill NAME [SIGNAL]',
    summary: "send a signal (default SIGTERM) to the container's PID 1",
    run: async (args) => (await import('./kill.js')).killCommand(args),
  },
};

/** --help for a subcommand: its usage line and summary. */
export function subcommandHelp(name: string): string {
  const c = SUBCOMMANDS[name]!;
  return `usage: ${c.usage.replace(/^tsnspawn /, 'tsnspawn ')}\n\n${c.summary}\n`;
}

/** Refuses arguments a subcommand does not take, naming it and its usage. */
export function usageError(name: string, what: string): UserError {
  return new UserError(`${what} (usage: ${SUBCOMMANDS[name]!.usage})`);
}
