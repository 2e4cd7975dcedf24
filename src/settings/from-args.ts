/**
 * The command line: one table of options with nspawn's names, parsed by
 * commander. Every value is checked here, before anything is touched.
 */
import { Command, CommanderError } from 'commander';
import { UserError } from '../util/errors.js';
import { defaultSettings, type Settings } from './model.js';
import {
  parseBind,
  parseChdir,
  parseConsoleMode,
  parseMachineName,
  parseRegisterMode,
  parseSetenv,
  parseTmpfs,
  isValidHostname,
} from './values.js';
import { parseSignal } from './signals.js';
import { refuse } from '../util/errors.js';

export const VERSION = '0.1.0';

interface OptionSpec {
  flags: string;
  help: string;
  /** Applies one occurrence of the option to the settings. */
  apply: (s: Settings, value: string | boolean) => void;
}

const str = (v: string | boolean): string => String(v);

/** All options, in --help order. Values are applied in command line order. */
export const OPTION_TABLE: readonly OptionSpec[] = [
  { flags: '-D, --directory <path>', help: 'root directory of the container', apply: (s, v) => (s.directory = str(v)) },
  { flags: '-M, --machine <name>', help: 'machine name (default: last component of the directory)', apply: (s, v) => (s.machine = parseMachineName(str(v))) },
  {
    flags: '--hostname <name>',
    help: 'hostname inside the container (default: the machine name)',
    apply: (s, v) => {
      if (!isValidHostname(str(v))) refuse(`invalid --hostname=${str(v)}: use 1 to 64 letters, digits, '-', '_' or '.'`);
      s.hostname = str(v);
    },
  },
  { flags: '--uuid <uuid>', help: 'machine UUID (default: the tree\'s /etc/machine-id, else random)', apply: (s, v) => (s.uuid = str(v)) },
  { flags: '-b, --boot', help: 'boot the tree\'s init as PID 1; arguments go to init', apply: (s) => (s.boot = true) },
  { flags: '-E, --setenv <NAME=VALUE>', help: 'set an environment variable for PID 1', apply: (s, v) => s.environment.push(parseSetenv(str(v))) },
  { flags: '-u, --user <user>', help: 'run the command as this user of the tree', apply: (s, v) => (s.user = str(v)) },
  { flags: '--chdir <path>', help: 'working directory inside the container', apply: (s, v) => (s.chdir = parseChdir(str(v))) },
  { flags: '--bind <src[:dst[:opts]]>', help: 'bind mount a host path (opts: rbind, norbind)', apply: (s, v) => s.binds.push(parseBind(str(v), false)) },
  { flags: '--bind-ro <src[:dst[:opts]]>', help: 'bind mount a host path read-only', apply: (s, v) => s.binds.push(parseBind(str(v), true)) },
  { flags: '--tmpfs <path[:options]>', help: 'mount an empty tmpfs at path', apply: (s, v) => s.tmpfs.push(parseTmpfs(str(v))) },
  { flags: '--read-only', help: 'mount the root directory read-only', apply: (s) => (s.readOnly = true) },
  { flags: '--console <mode>', help: 'interactive, read-only, passive, pipe or autopipe', apply: (s, v) => (s.console = parseConsoleMode(str(v))) },
  { flags: '-P, --pipe', help: 'same as --console=pipe, and quiet', apply: (s) => (s.pipe = true) },
  { flags: '-q, --quiet', help: 'do not show status messages', apply: (s) => (s.quiet = true) },
  { flags: '--kill-signal <signal>', help: 'signal sent to init on SIGTERM/SIGINT (default: SIGRTMIN+3 with -b, else SIGKILL)', apply: (s, v) => (s.killSignal = parseSignal(str(v), '--kill-signal')) },
  { flags: '--register <mode>', help: 'register with systemd-machined: yes, no or auto', apply: (s, v) => (s.register = parseRegisterMode(str(v))) },
  { flags: '--keep-unit', help: 'use the service unit tsnspawn runs in instead of a new scope', apply: (s) => (s.keepUnit = true) },
];

/** commander's error codes mapped to one-line messages with a fix. */
function commanderMessage(err: CommanderError): string {
  const msg = err.message.replace(/^error:\s*/, '');
  return `${msg} (see 'tsnspawn --help')`;
}

export function buildProgram(): Command {
  const program = new Command('tsnspawn')
    .description('Spawn a command or an OS in a lightweight container (systemd-nspawn compatible)')
    .version(VERSION, '--version', 'show the version')
    .helpOption('-h, --help', 'show this help')
    .argument('[command...]', 'command to run (default: the tree\'s root shell), or init arguments with -b')
    .passThroughOptions()
    .allowExcessArguments(true)
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  for (const o of OPTION_TABLE) program.option(o.flags, o.help);
  return program;
}

/**
 * Parses argv (without node and script) into Settings. Options are applied in
 * the order given, so repeated ones behave as in nspawn (last wins, lists add).
 */
export function settingsFromArgs(argv: string[]): Settings | 'exit' {
  const program = buildProgram();
  const occurrences: Array<{ spec: OptionSpec; value: string | boolean }> = [];
  for (const spec of OPTION_TABLE) {
    const long = spec.flags.match(/--([a-z-]+)/)![1]!;
    program.on(`option:${long}`, (value: string | undefined) => occurrences.push({ spec, value: value ?? true }));
  }
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 'exit';
      throw new UserError(commanderMessage(e));
    }
    throw e;
  }
  const settings = defaultSettings();
  for (const { spec, value } of occurrences) spec.apply(settings, value);
  settings.command = program.args;
  return settings;
}
