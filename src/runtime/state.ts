/**
 * tsnspawn's own record of each running container, so that `tsnspawn
 * list/status/stop/kill/exec` work with and without machined:
 * /run/tsnspawn/machines/NAME, one JSON object. Node claims the name with a
 * record that has no leader yet before it creates anything (the container's
 * cgroups are listed in it from the start), completes it when init exists
 * (before init runs anything), and the record goes when the container ends
 * (removed by Node, or by the supervisor that holds it then: --state). A
 * record whose manager is gone (SIGKILL of tsnspawn, at any moment) is
 * stale: recognised by pid and start time, never trusted, and removed with
 * the cgroups and overlay work directories it lists at the next start or
 * `tsnspawn list`.
 */
import type { PlanSyscallRule } from '../plan/syscall-filter.js';
import { removePropagateDir } from './propagate.js';
import { removeStaleTreeLock, type RecordedTreeLock } from './stale-tree-lock.js';
import { removeRecordedWorkdirs, type RecordedWorkdir } from './workdirs.js';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';

export const STATE_DIR = '/run/tsnspawn/machines';

/** A process as a pid and its start time (clock ticks after boot): a pid alone may be reused. */
export interface ProcessRef {
  pid: number;
  start: string;
}

export interface MachineState {
  version: 1;
  name: string;
  uuid: string;
  /** The tree on the host. */
  root: string;
  /** The container's PID 1, as the host sees it. */
  leader: ProcessRef;
  /** tsnspawn: Node, then the supervisor in the same pid. */
  manager: ProcessRef;
  /** Sent to init by `tsnspawn stop` first (none: SIGKILL at once). */
  killSignal?: number;
  /** The payload's capability bounding set, a hex mask (exec keeps to it). */
  caps: string;
  /** The payload runs under nspawn's system call filter (exec does too). */
  syscallFilter: boolean;
  /** --suppress-sync=yes: exec's commands get those rules too (absent: no). */
  suppressSync?: boolean;
  /** --system-call-filter's changes to the filter, as numbers (exec's commands get them too; absent: none). */
  syscallRules?: PlanSyscallRule[];
  /** With machined or systemd: machine, unit or scope. */
  registered?: string;
  boot: boolean;
  /** The container's own cgroups (host paths): a stale record's are removed with it. */
  cgroups?: string[];
  /** Overlay work directories on the host (workdirs.ts): a stale record's are removed with it. */
  workdirs?: RecordedWorkdir[];
  /** The tree's lock files (src/plan/tree-lock.ts): a stale record's go with it when nobody holds them. */
  treeLock?: RecordedTreeLock;
}

/**
 * What the file holds: a MachineState, or the claim written before anything
 * exists (no leader yet; list/stop/exec do not see it, but it owns its
 * name and cgroups while its manager lives).
 */
export type StateRecord = Omit<MachineState, 'leader'> & { leader?: ProcessRef };

/** Field 22 of /proc/PID/stat; undefined when there is no such process. */
export function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // After "pid (comm) ": comm may hold spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function processRef(pid: number): ProcessRef | undefined {
  const start = processStart(pid);
  return start === undefined ? undefined : { pid, start };
}

export function isAlive(p: ProcessRef): boolean {
  return processStart(p.pid) === p.start;
}

const pathOf = (name: string): string => `${STATE_DIR}/${name}`;

/** Where NAME's record is (the supervisor removes it when the container ends). */
export const stateFile = pathOf;

/** Machine names are safe file names (src/settings/values.ts allows no '/'), but be sure. */
function checkName(name: string): void {
  if (!name || name.includes('/') || name === '.' || name === '..') throw new Error(`not a machine name: ${name}`);
}

/** Written whole or not at all (a temporary file renamed into place), readable by root only. */
export function writeState(s: StateRecord): string {
  checkName(s.name);
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  const tmp = `${STATE_DIR}/.${s.name}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(s) + '\n', { mode: 0o600 });
  renameSync(tmp, pathOf(s.name));
  return pathOf(s.name);
}

const isRef = (p: unknown): p is ProcessRef =>
  typeof p === 'object' && p !== null && Number.isInteger((p as ProcessRef).pid) && typeof (p as ProcessRef).start === 'string';

function parse(text: string): StateRecord | undefined {
  try {
    const v = JSON.parse(text) as StateRecord;
    return v.version === 1 && typeof v.name === 'string' && (v.leader === undefined || isRef(v.leader)) && isRef(v.manager) ? v : undefined;
  } catch {
    return undefined;
  }
}

function readRecord(name: string): StateRecord | undefined | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(pathOf(name), 'utf8');
  } catch {
    return undefined;
  }
  return parse(text) ?? 'unreadable';
}

/**
 * The record of NAME whose manager lives (a running container, or one
 * still starting: no leader yet); a stale or unreadable one is removed
 * (with its cgroups) and undefined returned.
 */
export function liveRecord(name: string): StateRecord | undefined {
  checkName(name);
  const r = readRecord(name);
  if (r === undefined) return undefined;
  if (r !== 'unreadable' && r.name === name && isAlive(r.manager)) return r;
  // Left by a tsnspawn that was killed: nothing runs under it any more;
  // its cgroups went empty with its init (the kernel killed the rest).
  // A cgroup that cannot go yet (its last process still dying) keeps the
  // record, so that a later start or list tries again.
  // Work directories only once the cgroups are gone: the container's
  // mounts (its overlays) went with its last process.
  const cgroupsLeft = r === 'unreadable' ? [] : (r.cgroups ?? []).filter((dir) => !removeEmptyCgroup(dir));
  const left = r === 'unreadable' || cgroupsLeft.length ? cgroupsLeft : removeRecordedWorkdirs(r.workdirs ?? []);
  if (left.length === 0) {
    // A lock file another container holds now (it took the tree after us) stays; it is theirs.
    if (r !== 'unreadable') removeStaleTreeLock(r.treeLock);
    removePropagateDir(name);
    rmSync(pathOf(name), { force: true });
  }
  return undefined;
}

/** The live record of a running container NAME (init exists); a stale or unreadable one is removed and undefined returned. */
export function readState(name: string): MachineState | undefined {
  const r = liveRecord(name);
  return r?.leader && isAlive(r.leader) ? (r as MachineState) : undefined;
}

/** rmdir of an empty cgroup and its empty children; one with processes stays (rmdir refuses it). True when it is gone. */
export function removeEmptyCgroup(dir: string): boolean {
  if (!dir.startsWith('/sys/fs/cgroup/')) return true;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeEmptyCgroup(`${dir}/${e.name}`);
    rmdirSync(dir);
  } catch {
    // Gone already, or still in use.
  }
  return !existsSync(dir);
}

/**
 * Records being written are `.NAME.PID` (writeState) until renamed; a
 * SIGKILL between the write and the rename leaves one. Those whose writer
 * is gone are removed (a live pid keeps its file: it may be writing now).
 */
export function sweepUnfinishedRecords(): void {
  let names: string[];
  try {
    names = readdirSync(STATE_DIR).filter((n) => n.startsWith('.'));
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(/\.(\d+)$/.exec(n)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && !existsSync(`/proc/${pid}`)) rmSync(`${STATE_DIR}/${n}`, { force: true });
  }
}

/** The names of all records, live or not (files starting with '.' are records being written). */
function recordNames(): string[] {
  try {
    return readdirSync(STATE_DIR).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
}

/**
 * The cgroups the live records own (running or starting containers),
 * removing stale records on the way. A caller that removes cgroups no
 * record owns must list those cgroups before calling this: a tsnspawn
 * writes its record before it creates its cgroups.
 */
export function ownedCgroups(): Set<string> {
  const owned = new Set<string>();
  for (const n of recordNames()) for (const d of liveRecord(n)?.cgroups ?? []) owned.add(d);
  return owned;
}

/** Every live record, by name. */
export function listStates(): MachineState[] {
  return recordNames()
    .sort()
    .map((n) => readState(n))
    .filter((s): s is MachineState => s !== undefined);
}

/** Removes NAME's record if it is this manager's (a later container of the name may own it now). */
export function removeState(name: string, manager: number): void {
  let text: string;
  try {
    text = readFileSync(pathOf(name), 'utf8');
  } catch {
    return;
  }
  if (parse(text)?.manager.pid === manager) rmSync(pathOf(name), { force: true });
}
