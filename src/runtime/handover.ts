/**
 * Once the payload runs, Node is no longer needed: it execve()s into the
 * helper's supervisor mode (native/supervise.c) in its own pid, so the pid
 * a shell waits for, systemd's MAINPID and the monitor's parent stay the
 * same, and about 1 MB of C replaces a 50 MB Node process for the
 * container's whole life. The monitor hands the control channel over
 * ("handover" event); a guest reboot runs Node again with the same
 * command line, and the machine's name and UUID in the environment.
 */
import { accessSync, constants } from 'node:fs';
import { HELPER_PATH } from './helper.js';
import { loadHandoverGate, type HandoverGate } from './handover-gate.js';
import { workdirArgs, type RecordedWorkdir } from './workdirs.js';

const MACHINE_STATE_ENV = 'TSNSPAWN_MACHINE_STATE';
const REBOOT_ENV = 'TSNSPAWN_REBOOT';

export interface HandoverFacts {
  /** The monitor's abstract socket the supervisor connects to ("@NAME"). */
  socket: string;
  helperPid: number;
  machineName: string;
  uuid: string;
  killSignal?: number;
  /** READY=1 already went to our service manager (or there is none). */
  readySent: boolean;
  keepUnit: boolean;
  quiet: boolean;
  cgroupDirs: string[];
  /** Signals that already asked init to halt (the same one again kills). */
  halted: number[];
  /** Signals that came while the channel changed hands: the supervisor acts on them first. */
  pending: number[];
  /** Node's own command line, run again for a guest reboot. */
  nodeArgv: string[];
  /** tsnspawn's record of the container (state.ts): removed when it ends. */
  statePath: string;
  /** The host's propagation directory for machinectl bind (propagate.ts): removed with the record. */
  propagateDir?: string;
  /** --events=FD: the supervisor goes on writing to it (event-stream.ts). */
  events?: { fd: number; readySent: boolean };
  /** tsnspawn's descriptors the monitor hands over (plan.carryFds), to be at these numbers again. */
  carryFds: number[];
  /** Overlay work directories on the host: the supervisor removes them if the monitor is killed. */
  workdirs?: RecordedWorkdir[];
  /** The tree's lock files: the supervisor removes them (if nobody holds them) when the monitor is killed. */
  treeLockFiles?: string[];
}

/** The supervisor's command line (pure: pinned by unit tests). */
export function supervisorArgv(f: HandoverFacts): string[] {
  return [
    HELPER_PATH,
    '--supervise',
    '--monitor-pid',
    String(f.helperPid),
    '--monitor-socket',
    f.socket,
    '--machine',
    f.machineName,
    ...(f.killSignal !== undefined ? ['--kill-signal', String(f.killSignal)] : []),
    ...(f.readySent ? ['--ready-sent'] : []),
    ...(f.keepUnit ? ['--keep-unit'] : []),
    ...(f.quiet ? ['--quiet'] : []),
    ...f.cgroupDirs.flatMap((d) => ['--cgroup', d]),
    ...f.halted.flatMap((s) => ['--halted', String(s)]),
    ...f.pending.flatMap((s) => ['--pending', String(s)]),
    '--state',
    f.statePath,
    ...(f.propagateDir ? ['--propagate', f.propagateDir] : []),
    ...(f.events ? ['--events-fd', String(f.events.fd), ...(f.events.readySent ? ['--events-ready-sent'] : [])] : []),
    ...f.carryFds.flatMap((fd) => ['--carry-fd', String(fd)]),
    ...workdirArgs(f.workdirs ?? []),
    ...(f.treeLockFiles ?? []).flatMap((l) => ['--tree-lock', l]),
    '--',
    ...f.nodeArgv,
  ];
}

/**
 * What this Node replaces itself with the supervisor through: the addon
 * (handover-gate.ts), when it loads and the helper may be executed;
 * undefined keeps the container under Node. (Node's own process.execve
 * would do the execve, but not keep a SIGTERM from being lost on the way.)
 */
export function handoverGate(): HandoverGate | undefined {
  try {
    accessSync(HELPER_PATH, constants.X_OK);
  } catch {
    return undefined;
  }
  return loadHandoverGate();
}

/** Replaces this process with the supervisor (signals held by the gate); returns only by throwing. */
export function execSupervisor(gate: HandoverGate, f: HandoverFacts): never {
  process.env[MACHINE_STATE_ENV] = `${f.machineName}\n${f.uuid}`;
  const argv = supervisorArgv(f);
  gate.execve(argv[0]!, argv, process.env);
  throw new Error('execve returned');
}

/** After a guest reboot: the machine's name and UUID of the run that started it (taken out of the environment). */
export function takeRebootState(): { machineName: string; uuid: string } | undefined {
  const reboot = process.env[REBOOT_ENV];
  const state = process.env[MACHINE_STATE_ENV];
  delete process.env[REBOOT_ENV];
  delete process.env[MACHINE_STATE_ENV];
  if (reboot !== '1' || !state) return undefined;
  const [machineName, uuid] = state.split('\n');
  return machineName && uuid ? { machineName, uuid } : undefined;
}
