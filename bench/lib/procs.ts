/**
 * The manager's side of a running container: every process from the pid we
 * spawned down to, not including, the container's PID 1 (the first process
 * whose innermost PID-namespace pid is 1), and their memory from
 * /proc/PID/smaps_rollup. For tsnspawn that is the tsnspawn process (node,
 * or whatever it executes into) and the tsnspawn-helper processes above init;
 * for systemd-nspawn its main process and the child that is init's parent.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface Proc {
  pid: number;
  /** The executable's file name (node calls its main thread "MainThread" in comm). */
  name: string;
  rssKiB: number;
  pssKiB: number;
}

function read(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

/** ppid → children, from one scan of /proc. */
function childrenMap(): Map<number, number[]> {
  const map = new Map<number, number[]>();
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const stat = read(`/proc/${e}/stat`);
    if (!stat) continue;
    // Field 4 (ppid) follows the comm in parentheses, which may itself hold ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = map.get(ppid) ?? [];
    list.push(Number(e));
    map.set(ppid, list);
  }
  return map;
}

/** True when the process is PID 1 of its own (innermost) PID namespace. */
export function isContainerInit(pid: number): boolean {
  const nspid = read(`/proc/${pid}/status`)?.match(/^NSpid:\s*(.*)$/m)?.[1]?.trim().split(/\s+/);
  return !!nspid && nspid.length > 1 && nspid[nspid.length - 1] === '1';
}

function kib(text: string, field: string): number {
  return Number(text.match(new RegExp(`^${field}:\\s*(\\d+) kB`, 'm'))?.[1] ?? 0);
}

export function memoryOf(pid: number): Proc | null {
  const rollup = read(`/proc/${pid}/smaps_rollup`);
  let name: string;
  try {
    name = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '').split('/').pop()!;
  } catch {
    name = read(`/proc/${pid}/comm`)?.trim() ?? '?';
  }
  if (!rollup) return null;
  return { pid, name, rssKiB: kib(rollup, 'Rss'), pssKiB: kib(rollup, 'Pss') };
}

export interface ManagerSide {
  procs: Proc[];
  /** Container inits found below the root (one per container). */
  inits: number[];
}

/** Walks from root down to the containers' inits; the inits and everything under them are left out. */
export function managerSide(roots: number[]): ManagerSide {
  const children = childrenMap();
  const procs: Proc[] = [];
  const inits: number[] = [];
  const todo = [...roots];
  while (todo.length) {
    const pid = todo.pop()!;
    if (isContainerInit(pid)) {
      inits.push(pid);
      continue;
    }
    const m = memoryOf(pid);
    if (m) procs.push(m);
    todo.push(...(children.get(pid) ?? []));
  }
  return { procs, inits };
}

export const sumMiB = (procs: Proc[], key: 'rssKiB' | 'pssKiB'): number => procs.reduce((s, p) => s + p[key], 0) / 1024;
