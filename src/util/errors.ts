/**
 * Control characters of a value quoted in a message (a newline in an
 * option's value, an escape sequence in a file name) as \n, \xNN: the
 * message stays one line and cannot drive the terminal.
 */
export function oneLine(text: string): string {
  return text.replace(/[\x00-\x1f\x7f]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
}

/** A failure the user can act on: printed as one line, "tsnspawn: MESSAGE", exit 1. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(oneLine(message));
    this.name = 'UserError';
  }
}

/** Throws a UserError; keeps validation code to one line per rule. */
export function refuse(message: string): never {
  throw new UserError(message);
}
