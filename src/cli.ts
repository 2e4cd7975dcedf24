/**
 * tsnspawn: spawn a command or an OS in a lightweight container.
 * Entry point: parse, validate, prepare the plan, run, exit with the
 * container's status.
 */
import { settingsFromArgs } from './settings/from-args.js';
import { UserError, refuse } from './util/errors.js';
import { SUBCOMMANDS, subcommandHelp } from './commands/table.js';
import { errorLine, setQuiet } from './util/log.js';
import { releasePreforkedHelper, stdioTtys, takeLauncherFacts } from './runtime/launcher.js';
import { releaseImage } from './image/image-release.js';

// Before anything can start a process: what bin/tsnspawn handed us.
takeLauncherFacts();

async function main(argv: string[]): Promise<number> {
  // A subcommand (import-tar, list, stop, ...) instead of a container.
  const sub = argv[0] !== undefined && Object.hasOwn(SUBCOMMANDS, argv[0]) ? argv[0] : undefined;
  if (sub) {
    if (argv[1] === '--help' || argv[1] === '-h') {
      process.stdout.write(subcommandHelp(sub));
      return 0;
    }
    return SUBCOMMANDS[sub]!.run(argv.slice(1));
  }
  const settings = await settingsFromArgs(argv);
  if (settings === 'exit') return 0;
  setQuiet(settings.quiet || settings.pipe || settings.console === 'pipe');
  // Heavier modules load only once the command line is known to be good.
  const { prepare } = await import('./runtime/prepare.js');
  const prepared = await prepare(settings, stdioTtys());
  if (process.getuid?.() !== 0) refuse('containers need root privileges (CAP_SYS_ADMIN): run tsnspawn as root');
  const { runContainer } = await import('./runtime/run.js');
  return runContainer(prepared);
}

/** Exits, but not before a pre-forked monitor no container used has gone. */
async function exit(code: number): Promise<never> {
  await releasePreforkedHelper();
  // -i: the image holder gone (if the monitor has not ended it), so its loop device is detached when we are.
  await releaseImage();
  process.exit(code);
}

main(process.argv.slice(2)).then(
  (code) => exit(code),
  (err: unknown) => {
    if (err instanceof UserError) {
      errorLine(err.message);
      return exit(err.exitCode);
    }
    errorLine(`internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    return exit(1);
  },
);
