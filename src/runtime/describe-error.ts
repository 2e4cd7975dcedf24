/**
 * A helper "error" event as one line for the user, pointed back at the
 * option that caused it where there is one.
 */
import type { Settings } from '../settings/model.js';
import { sourcePathOf } from '../settings/values.js';
import { cpuListText, rlimitText } from '../settings/security.js';
import { treeLockHolder } from './tree-lock-holder.js';

export interface HelperError {
  step: string;
  op: string;
  path: string;
  errno: number;
  message: string;
}

const atOrBelow = (path: string, dir: string): boolean => path === dir || path.startsWith(`${dir === '/' ? '' : dir}/`);

/** Which option put a mount at this path inside the container (or one above it: a program run from a bind), if any. */
function optionFor(settings: Settings, e: HelperError): string | undefined {
  for (const b of settings.binds) if (e.path === b.destination || e.path === b.source || e.path === sourcePathOf(b.source)) return b.option;
  for (const t of settings.tmpfs) if (e.path === t.destination) return t.option;
  for (const o of settings.overlays) if ([o.destination, ...o.lowers, o.upper].includes(e.path)) return o.option;
  for (const i of settings.inaccessible) if (e.path === i.path) return i.option;
  for (const m of [...settings.binds, ...settings.overlays, ...settings.tmpfs]) if (atOrBelow(e.path, m.destination)) return m.option;
  if (e.step === 'chdir' && settings.chdir) return `--chdir=${settings.chdir}`;
  const limit = securityOptionFor(settings, e);
  if (limit) return limit;
  if (e.step === 'credentials' && ['setuid', 'setgid', 'setgroups'].includes(e.op) && settings.user) return `--user=${settings.user}`;
  return undefined;
}

/** The security and resource option behind a failure of step "limits" (native/proc-limits.c) or of the ambient/no_new_privs steps. */
function securityOptionFor(settings: Settings, e: HelperError): string | undefined {
  const sec = settings.security;
  const rlimit = /RLIMIT_([A-Z]+)/.exec(e.message)?.[1] as keyof typeof sec.rlimits | undefined;
  const spec = rlimit ? sec.rlimits[rlimit] : undefined;
  const options: Record<string, string | undefined> = {
    'oom-score-adjust': sec.oomScoreAdjust !== undefined ? `--oom-score-adjust=${sec.oomScoreAdjust}` : undefined,
    'cpu-affinity': sec.cpuAffinity ? `--cpu-affinity=${cpuListText(sec.cpuAffinity)}` : undefined,
    rlimit: spec ? `--rlimit=${rlimit}=${rlimitText(spec.soft)}:${rlimitText(spec.hard)}` : undefined,
    personality: sec.personality ? `--personality=${sec.personality}` : undefined,
    'ambient-capability': `--ambient-capability=${sec.ambientCapabilities.join(',')}`,
    'no-new-privileges': '--no-new-privileges',
  };
  return e.step === 'limits' || (e.step === 'credentials' && ['ambient-capability', 'no-new-privileges'].includes(e.op)) ? options[e.op] : undefined;
}

/** EXDEV from resolving a '+' path: the helper keeps those on the tree's own mount. */
const EXDEV = 18;

/**
 * Registration failures the user can act on, by the D-Bus error the
 * helper quotes (native/bus-register.c: "Name: text").
 */
const REGISTER_HINTS: ReadonlyArray<[RegExp, (m: RegExpExecArray) => string]> = [
  [/org\.freedesktop\.machine1\.MachineExists: Machine '(.*)' already exists/, (m) => `a machine named '${m[1]}' is already registered with systemd-machined; stop it first or use another -M name`],
];

export function describeHelperError(e: HelperError, settings: Settings): string {
  // The tree's lock (native/tree-lock.c): name the container that holds it.
  if (e.step === 'lock' && e.op === 'busy')
    return `${e.message.replace(/: Device or resource busy$/, '')}: it is in use by ${treeLockHolder(e.path)}, which holds ${e.path} (stop it first, run this one with -x, or both with --read-only)`;
  if (e.step === 'register')
    for (const [pattern, hint] of REGISTER_HINTS) {
      const m = pattern.exec(e.message);
      if (m) return `${hint(m)} (step ${e.step}, op ${e.op})`;
    }
  const option = optionFor(settings, e);
  const where = `(step ${e.step}${e.op ? `, op ${e.op}` : ''})`;
  const message =
    e.errno === EXDEV && option
      ? e.message.replace(/: [^:]*$/, ": it crosses a mount point (/proc, /sys, /dev, /run, a file the setup bound in, another --bind/--tmpfs or a mount inside the tree), and '+' paths must stay on the tree's own file system")
      : e.message;
  return option ? `${message} ${where}; check ${option}` : `${message} ${where}`;
}
