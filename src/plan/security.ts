/**
 * The payload's security and resource settings into the plan (pure). The
 * checks against the host (which CPUs it has, fs.nr_open) are in
 * src/runtime/security-check.ts, before anything is touched.
 */
import type { SecuritySettings } from '../settings/security.js';
import { PERSONALITIES, RLIMIT_NAMES, rlimitText } from '../settings/security.js';
import { capabilityMask } from './capabilities.js';
import type { PlanProcess } from './types.js';

/** undefined when every setting is the default (the plan then has no such records). */
export function planProcess(s: SecuritySettings, arch: string = process.arch): PlanProcess | undefined {
  const rlimits = RLIMIT_NAMES.filter((n) => s.rlimits[n]).map((name) => ({ name, soft: rlimitText(s.rlimits[name]!.soft), hard: rlimitText(s.rlimits[name]!.hard) }));
  const p: PlanProcess = {
    noNewPrivileges: s.noNewPrivileges,
    rlimits,
    capsAmbient: capabilityMask(s.ambientCapabilities).toString(16),
    ...(s.oomScoreAdjust !== undefined ? { oomScoreAdjust: s.oomScoreAdjust } : {}),
    ...(s.cpuAffinity ? { cpuAffinity: s.cpuAffinity } : {}),
    ...(s.personality !== undefined ? { personality: PERSONALITIES[arch]![s.personality]! } : {}),
  };
  const anything = p.noNewPrivileges || rlimits.length > 0 || p.capsAmbient !== '0' || p.oomScoreAdjust !== undefined || p.cpuAffinity || p.personality;
  return anything ? p : undefined;
}
