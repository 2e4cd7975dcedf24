/** A failure the user can act on: printed as one line, "tsnspawn: MESSAGE", exit 1. */
export class UserError extends Error {
  constructor(message: string, readonly exitCode = 1) {
    super(message);
    this.name = 'UserError';
  }
}

/** Throws a UserError; keeps validation code to one line per rule. */
export function refuse(message: string): never {
  throw new UserError(message);
}
