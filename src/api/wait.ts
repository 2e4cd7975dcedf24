/**
 * Every wait of the API has a timeout and honours an AbortSignal; these are
 * the two primitives the waits are built from.
 */
import { TimeoutError } from './errors.js';

export interface WaitOptions {
  /** Milliseconds before the wait fails with TimeoutError. */
  timeout?: number;
  /** Aborting rejects the wait with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Races `work` against the timeout and the signal. `onGiveUp` runs when the
 * wait is abandoned (to kill what `work` started); timers are always cleared.
 */
export function bounded<T>(work: Promise<T>, what: string, opts: WaitOptions, dflt: number, onGiveUp?: (why: unknown) => void): Promise<T> {
  const timeout = opts.timeout ?? dflt;
  const signal = opts.signal;
  if (signal?.aborted) {
    onGiveUp?.(signal.reason);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const give = (why: unknown): void => {
      cleanup();
      onGiveUp?.(why);
      reject(why);
    };
    const onAbort = (): void => give(signal!.reason);
    const timer = Number.isFinite(timeout) ? setTimeout(() => give(new TimeoutError(what, timeout)), timeout) : undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    work.then(
      (v) => {
        cleanup();
        resolve(v);
      },
      (e: unknown) => {
        cleanup();
        reject(e);
      },
    );
  });
}

/** Thrown by a poll attempt to end the poll with `reason` (a condition that can no longer come true). */
export class StopPolling {
  constructor(readonly reason: unknown) {}
}

export interface PollOptions extends WaitOptions {
  /** Milliseconds between attempts (default 250). */
  interval?: number;
}

/**
 * Calls `attempt` until it returns something other than undefined/false
 * (a thrown error counts as "not yet", StopPolling ends it), like testcontainers' wait strategies
 * and `incus wait --interval`. The last error is the TimeoutError's cause.
 */
export async function poll<T>(attempt: (signal: AbortSignal) => Promise<T | undefined | false> | T | undefined | false, what: string, opts: PollOptions = {}, dflt = 60_000): Promise<T> {
  const ac = new AbortController();
  const interval = opts.interval ?? 250;
  let last: unknown;
  const loop = async (): Promise<T> => {
    for (;;) {
      if (ac.signal.aborted) throw ac.signal.reason;
      try {
        const v = await attempt(ac.signal);
        if (v !== undefined && v !== false) return v;
        last = undefined;
      } catch (e) {
        if (e instanceof StopPolling) throw e.reason;
        if (ac.signal.aborted) throw e;
        last = e;
      }
      await new Promise((r) => setTimeout(r, interval));
    }
  };
  return bounded(loop(), what, opts, dflt, (why) => {
    if (why instanceof Error && last !== undefined && why.cause === undefined) (why as { cause?: unknown }).cause = last;
    ac.abort(why);
  });
}
