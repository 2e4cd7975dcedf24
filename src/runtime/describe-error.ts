/**
 * A helper "error" event as one line for the user, pointed back at the
 * option that caused it where there is one.
 */
import type { Settings } from '../settings/model.js';

export interface HelperError {
  step: string;
  op: string;
  path: string;
  errno: number;
  message: string;
}

/** Which option put a mount at this path inside the container, if any. */
function optionFor(settings: Settings, e: HelperError): string | undefined {
  for (const b of settings.binds) if (e.path === b.destination || e.path === b.source) return b.option;
  for (const t of settings.tmpfs) if (e.path === t.destination) return t.option;
  if (e.step === 'chdir' && settings.chdir) return `--chdir=${settings.chdir}`;
  if (e.step === 'credentials' && settings.user) return `--user=${settings.user}`;
  return undefined;
}

export function describeHelperError(e: HelperError, settings: Settings): string {
  const option = optionFor(settings, e);
  const where = `(step ${e.step}${e.op ? `, op ${e.op}` : ''})`;
  return option ? `${e.message} ${where}; check ${option}` : `${e.message} ${where}`;
}
