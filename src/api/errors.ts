/** Typed failures, so a test can tell a timeout from a guest that died from a command that failed. */

/** Base class: everything the API throws on its own account (an abort throws the signal's reason). */
export class TsnspawnError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A wait ran out of time; `what` says which wait. */
export class TimeoutError extends TsnspawnError {
  constructor(
    readonly what: string,
    readonly timeoutMs: number,
  ) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`);
  }
}

/**
 * The container ended (or tsnspawn failed) while something waited on it:
 * its exit status, and the last of tsnspawn's stderr and the console.
 */
export class ContainerExitedError extends TsnspawnError {
  constructor(
    readonly what: string,
    readonly status: number,
    readonly stderr: string,
    readonly output: string,
  ) {
    super(`the container ended with status ${status} while waiting for ${what}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
  }
}

/** A command run with `exec(..., { check: true })` exited non-zero. */
export class ExecError extends TsnspawnError {
  constructor(
    readonly command: readonly string[],
    readonly code: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`${command.join(' ')} exited with ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`);
  }
}
