/**
 * tsnspawn's programmatic API: boot OS trees from tests, wait for them,
 * run commands in them, power them off. See README.md, "API".
 */
export { boot, run } from './boot.js';
export { Container, type StartedFacts } from './container.js';
export { ContainerExitedError, ExecError, TimeoutError, TsnspawnError } from './errors.js';
export type { ContainerEvent, ExitedEvent } from './events.js';
export type { ExecOptions, ExecResult } from './exec.js';
export type { BootOptions, RunOptions, StartOptions } from './options.js';
export { StopPolling, type PollOptions, type WaitOptions } from './wait.js';
