/** boot() and run(): start a container and hand back its handle once tsnspawn reports it started. */
import { Container } from './container.js';
import { tsnspawnPath } from './locate.js';
import { bootArgs, runArgs, type BootOptions, type RunOptions } from './options.js';

/**
 * Boots the tree's init (-b) and resolves once the container exists (its
 * name, leader and root are known); wait for the guest with ready(). A boot
 * that fails, times out or is aborted leaves nothing running and rejects.
 */
export async function boot(opts: BootOptions): Promise<Container> {
  const c = new Container(tsnspawnPath(), bootArgs(opts), true, opts.signal);
  await c.started({ timeout: opts.timeout, signal: opts.signal });
  return c;
}

/** Starts a command (or the login shell) as the container's PID 1 (-a: as PID 2). */
export async function run(opts: RunOptions): Promise<Container> {
  const c = new Container(tsnspawnPath(), runArgs(opts), false, opts.signal);
  await c.started({ timeout: opts.timeout, signal: opts.signal });
  return c;
}
