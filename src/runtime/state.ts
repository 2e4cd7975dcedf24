/**
 * tsnspawn's own record of each running container, so that `tsnspawn
 * list/status/stop/kill/exec` work with and without machined:
 * /run/tsnspawn/machines/NAME, one JSON object, written by Node when init
 * exists (before it runs anything), removed when the container ends (by
 * Node, or by the supervisor that holds it then: --state). A record whose
 * manager or init is gone (SIGKILL of tsnspawn) is stale: recognised by pid
 * and start time, never trusted, and removed when found.
 */
import { removePropagateDir } from './propagate.js';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';

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
  /** With machined or systemd: machine, unit or scope. */
  registered?: string;
  boot: boolean;
  /** The container's own cgroups (host paths): a stale record's are removed with it. */
  cgroups?: string[];
}

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
export function writeState(s: MachineState): string {
  checkName(s.name);
  mkdirSync(STATE_DIR, { recursive: true, mode: 0o700 });
  const tmp = `${STATE_DIR}/.${s.name}.${process.pid}`;
  writeFileSync(tmp, JSON.stringify(s) + '\n', { mode: 0o600 });
  renameSync(tmp, pathOf(s.name));
  return pathOf(s.name);
}

function parse(text: string): MachineState | undefined {
  try {
    const v = JSON.parse(text) as MachineState;
    const ref = (p: unknown): boolean => typeof p === 'object' && p !== null && Number.isInteger((p as ProcessRef).pid) && typeof (p as ProcessRef).start === 'string';
    return v.version === 1 && typeof v.name === 'string' && ref(v.leader) && ref(v.manager) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** The live record of NAME; a stale or unreadable one is removed and undefined returned. */
export function readState(name: string): MachineState | undefined {
  checkName(name);
  let text: string;
  try {
    text = readFileSync(pathOf(name), 'utf8');
  } catch {
    return undefined;
  }
  const s = parse(text);
  if (s && s.name === name && isAlive(s.manager) && isAlive(s.leader)) return s;
  // Left by a tsnspawn that was killed: nothing runs under it any more;
  // its cgroups went empty with its init (the kernel killed the rest).
  if (!s || !isAlive(s.manager)) {
    for (const dir of s?.cgroups ?? []) removeEmptyCgroup(dir);
    removePropagateDir(name);
    rmSync(pathOf(name), { force: true });
  }
  return undefined;
}

/** rmdir of an empty cgroup and its empty children; one with processes stays (rmdir refuses it). */
function removeEmptyCgroup(dir: string): void {
  if (!dir.startsWith('/sys/fs/cgroup/')) return;
  try {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) removeEmptyCgroup(`${dir}/${e.name}`);
    rmdirSync(dir);
  } catch {
    // Gone already, or still in use.
  }
}

/** Every live record, by name. */
export function listStates(): MachineState[] {
  let names: string[];
  try {
    names = readdirSync(STATE_DIR).filter((n) => !n.startsWith('.'));
  } catch {
    return [];
  }
  return names
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
