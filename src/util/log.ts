/** Messages of tsnspawn itself go to stderr, as systemd-nspawn's do. */
let quiet = false;

// A reader that went away (the process that started us died: the API's
// parent-death SIGTERM) must not stop tsnspawn from ending its container
// and removing its runtime record: unheard, EPIPE on stderr is an uncaught
// exception that kills Node mid-cleanup.
process.stderr.on('error', () => {});

export function setQuiet(value: boolean): void {
  quiet = value;
}

export function isQuiet(): boolean {
  return quiet;
}

/** Informational messages, suppressed by -q. */
export function info(message: string): void {
  if (!quiet) process.stderr.write(message + '\n');
}

/** Warnings are shown even with -q. */
export function warn(message: string): void {
  process.stderr.write(`tsnspawn: ${message}\n`);
}

export function errorLine(message: string): void {
  process.stderr.write(`tsnspawn: ${message}\n`);
}
