/**
 * The container's own cgroup: created below tsnspawn's cgroup in the
 * hierarchies systemd uses (the v2 tree, and name=systemd on hybrid/legacy
 * hosts), init placed in it at the barrier, removed after the run.
 */
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { refuse } from '../util/errors.js';
import { detectLayout, ownMembership, parseProcCgroup, type CgroupLayout, type CgroupMembership } from './cgroup-layout.js';

const MOUNT = '/sys/fs/cgroup';

export interface ContainerCgroup {
  layout: CgroupLayout;
  /** Host paths of the container's cgroup directory in each hierarchy. */
  dirs: string[];
}

function join(...parts: string[]): string {
  return parts.join('/').replace(/\/+/g, '/').replace(/\/$/, '');
}

/** Where the container's cgroup goes in each systemd hierarchy: LEAF below the base process's cgroup. */
export function plannedCgroupDirs(layout: CgroupLayout, leaf: string, own: CgroupMembership = ownMembership()): string[] {
  const dirs: string[] = [];
  if (layout === 'unified') dirs.push(join(MOUNT, own.unified ?? '/', leaf));
  else {
    if (layout === 'hybrid' && own.unified !== undefined) dirs.push(join(MOUNT, 'unified', own.unified, leaf));
    if (own.systemd !== undefined && existsSync(join(MOUNT, 'systemd'))) dirs.push(join(MOUNT, 'systemd', own.systemd, leaf));
  }
  return dirs;
}

/** Whether a cgroup or one below it has processes (an unreadable one counts as empty). */
export function hasProcesses(dir: string): boolean {
  try {
    if (readFileSync(`${dir}/cgroup.procs`, 'utf8').trim() !== '') return true;
    return readdirSync(dir, { withFileTypes: true }).some((e) => e.isDirectory() && hasProcesses(`${dir}/${e.name}`));
  } catch {
    return false;
  }
}

/** Checks before the start: a live cgroup of the same name means the machine already runs. */
export function prepareCgroup(machineName: string): ContainerCgroup {
  const layout = detectLayout();
  const dirs = plannedCgroupDirs(layout, `tsnspawn-${machineName}`);
  for (const d of dirs)
    if (hasProcesses(d)) refuse(`a container named '${machineName}' is already running (its cgroup ${d} has processes); use another -M name`);
  return { layout, dirs };
}

/**
 * Registered with CreateMachine, init already sits in machine-NAME.scope
 * (delegated to us): its cgroup goes one level below, as nspawn's "payload".
 */
export function moveBelowScope(cg: ContainerCgroup, pid: number): void {
  const scope = parseProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  cg.dirs = plannedCgroupDirs(cg.layout, 'payload', scope);
  attachCgroup(cg, pid);
}

/** Creates the cgroup directories (a stale empty one from a killed run is replaced). */
function makeDirs(cg: ContainerCgroup): void {
  for (const d of cg.dirs) {
    removeTree(d);
    mkdirSync(d, { recursive: true });
  }
}

/** At the barrier: create the cgroup and move init into it. */
export function attachCgroup(cg: ContainerCgroup, pid: number): void {
  makeDirs(cg);
  for (const d of cg.dirs) writeFileSync(`${d}/cgroup.procs`, `${pid}\n`);
}

/**
 * Before the helper starts, when it is to place init itself: the
 * directories it opens. False when they cannot be made: then the barrier
 * does it as attachCgroup, and reports why it cannot.
 */
export function makeCgroupDirs(cg: ContainerCgroup): boolean {
  try {
    makeDirs(cg);
    return true;
  } catch {
    return false;
  }
}

/** Removes a cgroup directory and the sub-cgroups the guest made, bottom-up. */
function removeTree(dir: string): void {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory()) removeTree(`${dir}/${e.name}`);
  try {
    rmdirSync(dir);
  } catch {
    /* busy: reported by the caller's check */
  }
}

/** After the run: remove the cgroups; returns the ones that could not be removed. */
export async function releaseCgroup(cg: ContainerCgroup): Promise<string[]> {
  // The kernel frees a cgroup a moment after its last process is reaped.
  for (let attempt = 0; attempt < 50; attempt++) {
    for (const d of cg.dirs) removeTree(d);
    const left = cg.dirs.filter((d) => existsSync(d));
    if (left.length === 0) return [];
    await new Promise((r) => setTimeout(r, 20));
  }
  return cg.dirs.filter((d) => existsSync(d));
}

/** What a delegated cgroup's owner needs to write (nspawn chowns the same files). */
const DELEGATED_FILES = ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'tasks', 'notify_on_release', 'cgroup.clone_children'];

/**
 * Under a user namespace the container's root (host uid base) must own its
 * cgroups, as systemd expects of a delegated one: the directories and the
 * files it writes to manage what is below.
 */
export function chownCgroup(cg: ContainerCgroup, uid: number): void {
  for (const d of cg.dirs) {
    chownSync(d, uid, uid);
    for (const f of DELEGATED_FILES) if (existsSync(`${d}/${f}`)) chownSync(`${d}/${f}`, uid, uid);
  }
}
