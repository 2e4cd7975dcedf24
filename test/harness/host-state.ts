/**
 * What a run may not leave behind on the host: mounts, helper processes,
 * processes living inside a test tree, temp dirs, cgroups named
 * tsnspawn-* in any hierarchy, runtime records. Snapshot before, compare after.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { HELPER } from './paths.js';

export interface HostState {
  mounts: string[];
  helpers: number[];
  tmpEntries: string[];
  cgroups: string[];
  records: string[];
  /** /run/systemd/nspawn/propagate/NAME: machinectl bind's path into a container (src/runtime/propagate.ts). */
  propagate: string[];
}

/** Directories named tsnspawn-* in every cgroup hierarchy (a few levels deep: below our own cgroup). */
function tsnspawnCgroups(dir = '/sys/fs/cgroup', depth = 6): string[] {
  if (depth === 0) return [];
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((e) => e.isDirectory())
    .flatMap((e) => (e.name.startsWith('tsnspawn-') ? [`${dir}/${e.name}`] : tsnspawnCgroups(`${dir}/${e.name}`, depth - 1)));
}

function records(): string[] {
  return entries('/run/tsnspawn/machines');
}

function entries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** Mount points with their fs types, without the ids that change from run to run. */
function mounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const f = l.split(' ');
      const sep = f.indexOf('-');
      return `${f[4]} ${f[sep + 1]} ${f[3]}`;
    })
    .sort();
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

function rootOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/root`);
  } catch {
    return undefined;
  }
}

export function snapshot(): HostState {
  return {
    mounts: mounts(),
    helpers: pids().filter((p) => exeOf(p) === HELPER),
    tmpEntries: readdirSync('/tmp').filter((n) => n.startsWith('tsnspawn')).sort(),
    cgroups: tsnspawnCgroups().sort(),
    records: records(),
    propagate: entries('/run/systemd/nspawn/propagate'),
  };
}

/** Processes whose root directory is inside one of the given trees (i.e. container processes). */
export function processesInside(trees: string[]): number[] {
  return pids().filter((p) => {
    const r = rootOf(p);
    return r !== undefined && trees.some((t) => r === t || r.startsWith(t + '/'));
  });
}

/** Differences between two snapshots, as readable lines (empty when nothing leaked). */
export function leaks(before: HostState, after: HostState, trees: string[]): string[] {
  const out: string[] = [];
  const b = new Set(before.mounts);
  const a = new Set(after.mounts);
  for (const m of after.mounts) if (!b.has(m)) out.push(`new mount: ${m}`);
  for (const m of before.mounts) if (!a.has(m)) out.push(`mount gone: ${m}`);
  for (const p of after.helpers) if (!before.helpers.includes(p)) out.push(`helper process still running: ${p}`);
  for (const t of after.tmpEntries) if (!before.tmpEntries.includes(t)) out.push(`temp entry left: /tmp/${t}`);
  for (const c of after.cgroups) if (!before.cgroups.includes(c)) out.push(`cgroup left: ${c}`);
  for (const r of after.records) if (!before.records.includes(r)) out.push(`runtime record left: /run/tsnspawn/machines/${r}`);
  for (const d of after.propagate) if (!before.propagate.includes(d)) out.push(`propagation directory left: /run/systemd/nspawn/propagate/${d}`);
  for (const p of processesInside(trees)) out.push(`process ${p} still runs inside a test tree`);
  return out;
}
