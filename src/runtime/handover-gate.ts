/**
 * The handover's native part (native/addon/handover-gate.c, built beside the
 * helper as tsnspawn-handover.node): JavaScript cannot block a signal, and
 * Node's own signal handling (libuv's) drops one that comes between the
 * event loop's last look and the execve into the supervisor. The addon makes
 * every thread block SIGINT and SIGTERM, so they stay pending through the
 * execve and the supervisor reads them first thing; and it does the execve.
 */
import { dirname, join } from 'node:path';
import { HELPER_PATH } from './helper.js';

export interface HandoverGate {
  /** Every thread blocks SIGINT and SIGTERM from now on (they stay pending); throws if that cannot be done. */
  holdStopSignals(): void;
  /** Node's main thread takes SIGINT and SIGTERM again, pending ones included: the handover was not made. */
  releaseStopSignals(): void;
  /** execve(2) with stdio kept open, the environment as process.env has it; returns only by throwing. */
  execve(file: string, argv: string[], env: Record<string, string | undefined>): void;
}

/** What the addon exports: execve takes the environment as "NAME=value" strings. */
type NativeGate = Omit<HandoverGate, 'execve'> & { execve(file: string, argv: string[], envp: string[]): void };

/** Beside the helper, wherever the helper is (checkout, install, npm package). */
export const HANDOVER_ADDON_PATH = join(dirname(HELPER_PATH), 'tsnspawn-handover.node');

let loaded: HandoverGate | null | undefined;

/** The addon, loaded on first use (the handover, a second into a run: never on the start path); undefined if it cannot be. */
export function loadHandoverGate(): HandoverGate | undefined {
  if (loaded === undefined) {
    try {
      const module = { exports: {} as NativeGate };
      process.dlopen(module, HANDOVER_ADDON_PATH);
      const native = module.exports;
      loaded =
        typeof native.holdStopSignals === 'function'
          ? {
              holdStopSignals: () => native.holdStopSignals(),
              releaseStopSignals: () => native.releaseStopSignals(),
              execve: (file, argv, env) =>
                native.execve(
                  file,
                  argv,
                  Object.entries(env).map(([k, v]) => `${k}=${v ?? ''}`),
                ),
            }
          : null;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}
