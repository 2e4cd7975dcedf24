/**
 * Who holds a tree's lock, for the line that refuses a second start (the
 * monitor reports step "lock", op "busy", with the lock file's path). OFD
 * locks show no owner in /proc/locks (pid -1), so the holder is found as
 * the process that has the lock file open: a tsnspawn monitor (named by
 * the runtime record of its parent, the container's manager) or a
 * systemd-nspawn (named by its -M, else its -D).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import { listStates } from './state.js';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Pids with lockPath open (other than ourselves and our children: a failed start has let go already). */
export function lockFileHolders(lockPath: string): number[] {
  const out: number[] = [];
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return out;
  }
  for (const pid of pids) {
    if (Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (readlinkSync(`/proc/${pid}/fd/${fd}`) === lockPath) {
          out.push(Number(pid));
          break;
        }
      } catch {
        /* gone meanwhile */
      }
    }
  }
  return out;
}

function parentOf(pid: number): number | undefined {
  const m = /^PPid:\s+(\d+)$/m.exec(read(`/proc/${pid}/status`) ?? '');
  return m ? Number(m[1]) : undefined;
}

/** systemd-nspawn's machine name from its command line: -M/--machine, else the directory's name. */
function nspawnMachineName(argv: string[]): string | undefined {
  let directory: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-M' || a === '--machine') return argv[i + 1];
    if (a.startsWith('--machine=')) return a.slice('--machine='.length);
    if (a.startsWith('-M') && a.length > 2) return a.slice(2);
    if (a === '-D' || a === '--directory') directory = argv[i + 1];
    else if (a.startsWith('--directory=')) directory = a.slice('--directory='.length);
    else if (a.startsWith('-D') && a.length > 2) directory = a.slice(2);
  }
  return directory !== undefined ? basename(directory.replace(/\/+$/, '')) : undefined;
}

/** The holder as the user knows it: "tsnspawn container NAME (pid N)", "systemd-nspawn container NAME (pid N)", ... */
export function describeHolder(pid: number): string {
  const comm = (read(`/proc/${pid}/comm`) ?? '').trim();
  // The monitor (comm "tsnspawn" or "tsnspawn-helper", cut to 15 bytes by the kernel).
  if (comm.startsWith('tsnspawn')) {
    const manager = parentOf(pid);
    const record = listStates().find((s) => s.manager.pid === manager);
    return record ? `tsnspawn container ${record.name} (pid ${manager})` : `a tsnspawn container (helper pid ${pid})`;
  }
  if (comm === 'systemd-nspawn') {
    const argv = (read(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean);
    const name = nspawnMachineName(argv.slice(1));
    return name ? `systemd-nspawn container ${name} (pid ${pid})` : `a systemd-nspawn container (pid ${pid})`;
  }
  return comm ? `${comm} (pid ${pid})` : `process ${pid}`;
}

/** "container X (...)", or a general word when no process has the file open any more. */
export function treeLockHolder(lockPath: string): string {
  const holders = lockFileHolders(lockPath);
  return holders.length > 0 ? holders.map(describeHolder).join(', ') : 'another container';
}
