/**
 * The lifecycle of one container run: start the helper with the plan, do
 * the barrier work when init exists, forward signals, report the outcome.
 */
import { encodePlan } from '../plan/encode.js';
import { SIGRTMIN } from '../settings/signals.js';
import { errorLine, info } from '../util/log.js';
import { describeHelperError, type HelperError } from './describe-error.js';
import type { HelperEvent } from './events.js';
import { Helper } from './helper.js';
import { classifyExit, exitStatus, outcomeMessage } from './outcome.js';
import type { Prepared } from './prepare.js';

const SIGKILL = 9;
/** systemd's "halt" request: a clean shutdown of a booted init. */
export const SIGRTMIN_PLUS_3 = SIGRTMIN + 3;

/** The signal sent to init on the first SIGTERM/SIGINT; undefined means kill at once. */
export function effectiveKillSignal(p: Prepared): number | undefined {
  return p.settings.killSignal ?? (p.settings.boot ? SIGRTMIN_PLUS_3 : undefined);
}

export function runContainer(p: Prepared): Promise<number> {
  info(`Spawning container ${p.machineName} on ${p.root}.`);
  if (p.console === 'interactive') info('Press ^] three times within 1s to kill container.');

  return new Promise((resolve) => {
    let failure: HelperError | undefined;
    let protocolError: Error | undefined;
    let status: number | undefined;
    const killSignal = effectiveKillSignal(p);
    const halted = new Set<string>();

    const onSignal = (name: NodeJS.Signals): void => {
      // nspawn: the first SIGTERM/SIGINT asks init to halt (if there is a
      // kill signal); the same signal again, or any without one, kills.
      if (killSignal !== undefined && !halted.has(name)) {
        halted.add(name);
        info('Trying to halt container. Send SIGTERM again to trigger immediate termination.');
        helper.kill(killSignal);
      } else helper.kill(SIGKILL);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    const finish = (): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (failure) errorLine(describeHelperError(failure, p.settings));
      else if (protocolError && status === undefined) errorLine(protocolError.message);
      resolve(failure || status === undefined ? 1 : status);
    };

    const onEvent = (e: HelperEvent): void => {
      switch (e.event) {
        case 'pid':
          // The barrier: init exists but has not run anything yet.
          helper.go();
          break;
        case 'exec':
        case 'notify':
          break;
        case 'error':
          failure ??= e;
          break;
        case 'exit': {
          if (failure) {
            status = 1;
            break;
          }
          const outcome = classifyExit(e, p.settings.boot);
          const msg = outcomeMessage(outcome, p.machineName);
          if (msg.always) errorLine(msg.text.replace(/^Container/, 'container'));
          else info(msg.text);
          status = exitStatus(outcome, p.settings.keepUnit);
          break;
        }
      }
    };

    const helper = new Helper(encodePlan(p.plan), onEvent, (err) => {
      protocolError ??= err;
    });
    void helper.exited().then(finish);
  });
}
