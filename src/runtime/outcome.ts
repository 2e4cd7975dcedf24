/** How the container's end maps to tsnspawn's exit status and last message (as systemd-nspawn). */
import { signalName } from '../settings/signals.js';

/** 133 is reserved: with --keep-unit it asks the service manager for a restart. */
export const EXIT_FORCE_RESTART = 133;

export type Outcome =
  | { kind: 'exited'; code: number }
  | { kind: 'poweroff' }
  | { kind: 'reboot' }
  | { kind: 'killed'; signal: number };

const SIGINT = 2;
const SIGHUP = 1;

/**
 * Classifies init's end. Death by SIGINT is the kernel's mark of reboot(2)
 * halt/poweroff in a PID namespace, SIGHUP of reboot; nspawn reads them so
 * whether or not it booted an init (a payload may call reboot(2) too).
 */
export function classifyExit(exit: { code?: number; signal?: number }): Outcome {
  if (exit.signal !== undefined) {
    if (exit.signal === SIGINT) return { kind: 'poweroff' };
    if (exit.signal === SIGHUP) return { kind: 'reboot' };
    return { kind: 'killed', signal: exit.signal };
  }
  return { kind: 'exited', code: exit.code ?? 1 };
}

export function exitStatus(o: Outcome, keepUnit: boolean): number {
  switch (o.kind) {
    case 'exited':
      return o.code === EXIT_FORCE_RESTART ? 1 : o.code;
    case 'poweroff':
      return 0;
    case 'reboot':
      return keepUnit ? EXIT_FORCE_RESTART : 0;
    case 'killed':
      return 1;
  }
}

/** The closing line, and whether it is shown even with -q. */
export function outcomeMessage(o: Outcome, name: string): { text: string; always: boolean } {
  switch (o.kind) {
    case 'exited':
      return o.code === 0
        ? { text: `Container ${name} exited successfully.`, always: false }
        : { text: `Container ${name} failed with error code ${o.code}.`, always: false };
    case 'poweroff':
      return { text: `Container ${name} has been shut down.`, always: false };
    case 'reboot':
      return { text: `Container ${name} is being rebooted.`, always: false };
    case 'killed':
      return { text: `Container ${name} terminated by signal ${signalName(o.signal).replace(/^SIG/, '')}.`, always: true };
  }
}
