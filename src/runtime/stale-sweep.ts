/**
 * What a SIGKILLed tsnspawn could not remove goes at the next start and at
 * `tsnspawn list`: stale runtime records (their manager is gone, by pid and
 * start time) with the cgroups they list, and empty tsnspawn-* cgroups
 * beside ours that no live record owns (left by an older tsnspawn, or a
 * record lost with /run).
 */
import { readdirSync } from 'node:fs';
import { detectLayout } from './cgroup-layout.js';
import { hasProcesses, plannedCgroupDirs } from './cgroup.js';
import { ownedCgroups, removeEmptyCgroup, sweepUnfinishedRecords } from './state.js';

const PREFIX = 'tsnspawn-';

/** Empty tsnspawn-* cgroups where this process would put a container's. */
function emptyCandidates(): string[] {
  let parents: string[];
  try {
    parents = plannedCgroupDirs(detectLayout(), 'x').map((d) => d.slice(0, d.lastIndexOf('/')));
  } catch {
    return []; // no cgroup file system we know
  }
  const out: string[] = [];
  for (const parent of parents) {
    let names: string[];
    try {
      names = readdirSync(parent, { withFileTypes: true })
        .filter((e) => e.isDirectory() && e.name.startsWith(PREFIX))
        .map((e) => e.name);
    } catch {
      continue;
    }
    for (const n of names) if (!hasProcesses(`${parent}/${n}`)) out.push(`${parent}/${n}`);
  }
  return out;
}

/** Removes stale records (and their cgroups) and orphaned empty tsnspawn-* cgroups. */
export function sweepStale(): void {
  // Candidates first, owners second: a tsnspawn writes its record before
  // it creates its cgroups, so an empty cgroup seen here whose owner is
  // starting is named by a record read after.
  sweepUnfinishedRecords();
  const candidates = emptyCandidates();
  const owned = ownedCgroups();
  for (const dir of candidates) if (!owned.has(dir)) removeEmptyCgroup(dir);
}
