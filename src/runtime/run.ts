/**
 * The lifecycle of a container run: start the helper with the plan, do the
 * barrier work when init exists (cgroup), forward signals, relay readiness,
 * start again after a guest reboot, report the outcome, clean up.
 */
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import { SIGRTMIN } from '../settings/signals.js';
import { constants } from 'node:os';
import { errorLine, info, isQuiet, warn } from '../util/log.js';
import { execSupervisor, handoverGate, type HandoverFacts } from './handover.js';
import type { HandoverGate } from './handover-gate.js';
import { attachCgroup, chownCgroup, makeCgroupDirs, moveBelowScope, releaseCgroup } from './cgroup.js';
import { systemBusSocket } from '../machined/bus-address.js';
import { liveRecord, processRef, removeState, STATE_DIR, stateFile, writeState, type StateRecord } from './state.js';
import { sweepStale } from './stale-sweep.js';
import { noteWorkdir, removeRecordedWorkdirs, type RecordedWorkdir } from './workdirs.js';
import { removeStaleTreeLock } from './stale-tree-lock.js';
import { createPropagateDir, propagateDirOf, removePropagateDir } from './propagate.js';
import { refuse } from '../util/errors.js';
import { planRegistration } from '../machined/registration.js';
import type { HelperRegistration, LaunchPlan } from '../plan/types.js';
import { describeHelperError, type HelperError } from './describe-error.js';
import type { HelperEvent } from './events.js';
import { Helper } from './helper.js';
import { NotifyRelay } from './notify-relay.js';
import { EventStream } from './event-stream.js';
import { LISTEN_FDS_START } from './socket-activation.js';
import { classifyExit, exitStatus, outcomeMessage, type Outcome } from './outcome.js';
import type { Prepared } from './prepare.js';

const SIGKILL = 9;

const signalNumber = (name: NodeJS.Signals): number => constants.signals[name];

/**
 * How long the payload runs before Node hands over: a short-lived command
 * never pays for the handover (loading the addon, the supervisor's start).
 */
const HANDOVER_DELAY_MS = 1000;
/** systemd's "halt" request: a clean shutdown of a booted init. */
export const SIGRTMIN_PLUS_3 = SIGRTMIN + 3;

/** The signal sent to init on the first SIGTERM/SIGINT; undefined means kill at once. */
export function effectiveKillSignal(p: Prepared): number | undefined {
  return p.settings.killSignal ?? (p.settings.boot ? SIGRTMIN_PLUS_3 : undefined);
}

type BootResult = { kind: 'failed' } | { kind: 'ended'; outcome: Outcome };

/** One start of the container, from helper spawn to init's exit. */
function bootOnce(
  p: Prepared,
  relay: NotifyRelay | undefined,
  registration: HelperRegistration | undefined,
  events: EventStream | undefined,
  workdirs: RecordedWorkdir[],
  onHelper: (h: Helper) => void,
): Promise<BootResult> {
  return new Promise((resolve) => {
    let failure: HelperError | undefined;
    let protocolError: Error | undefined;
    let outcome: Outcome | undefined;
    const killSignal = effectiveKillSignal(p);
    const halted = new Set<NodeJS.Signals>();

    // From the handover request to the execve the monitor no longer reads
    // our commands: signals wait for the supervisor, which acts on them
    // first. Those Node saw are passed on (pending); the gate holds the
    // rest in the kernel, blocked in every thread, through the execve.
    let handingOver = false;
    let handoverTimer: NodeJS.Timeout | undefined;
    let held: HandoverGate | undefined;
    const pending: NodeJS.Signals[] = [];
    /** The handover is off: what was held reaches Node's handlers again. */
    const releaseHeld = (): void => {
      held?.releaseStopSignals();
      held = undefined;
    };
    /** The execve into the supervisor, with everything it must know; returns only if it failed. */
    const handOver = (socket: string): void => {
      const facts: HandoverFacts = {
        socket,
        helperPid: helper.pid!,
        machineName: p.machineName,
        uuid: p.uuid.dashed,
        killSignal,
        readySent: relay?.readySent ?? true,
        keepUnit: p.settings.keepUnit,
        quiet: isQuiet(),
        cgroupDirs: p.cgroup.dirs,
        halted: [...halted].map(signalNumber),
        pending: pending.map(signalNumber),
        nodeArgv: [process.execPath, ...process.execArgv, ...process.argv.slice(1)],
        statePath: stateFile(p.machineName),
        propagateDir: propagateDirOf(p.machineName),
        events: events ? { fd: events.fd, readySent: events.readySent } : undefined,
        carryFds: plan.carryFds ?? [],
        workdirs,
        ...(p.treeLock ? { treeLockFiles: [p.treeLock.local, p.treeLock.global] } : {}),
      };
      try {
        execSupervisor(held!, facts);
      } catch (err) {
        releaseHeld();
        failure = { step: 'handover', op: 'execve', path: '', errno: 0, message: `cannot hand the container over to the supervisor: ${(err as Error).message}` };
        helper.killProcess();
      }
    };
    const onSignal = (name: NodeJS.Signals): void => {
      if (handingOver) {
        pending.push(name);
        return;
      }
      // nspawn: the first SIGTERM/SIGINT asks init to halt (if there is a
      // kill signal); the same signal again, or any without one, kills.
      if (killSignal !== undefined && !halted.has(name)) {
        halted.add(name);
        info(`Trying to halt container. Send ${name} again to trigger immediate termination.`);
        helper.kill(killSignal);
      } else helper.kill(SIGKILL);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);

    /**
     * The barrier: init exists but runs nothing yet, and the helper has
     * registered it (registered: machine or scope, when in a new scope).
     * Put it in its cgroup, go.
     */
    const atBarrier = (pid: number, registered: string | undefined, uidBase: number | undefined): void => {
      try {
        if (registered === 'machine' || registered === 'scope') moveBelowScope(p.cgroup, pid);
        // With plan.cgroups the helper has placed init itself (nothing was registered).
        else if (!plan.cgroups) attachCgroup(p.cgroup, pid);
        // -U: the guest's root manages its cgroup (a delegated one, as nspawn's).
        // (With plan.cgroups the helper did it before it let init go.)
        if (uidBase !== undefined && !plan.cgroups) chownCgroup(p.cgroup, uidBase);
        leaderPid = pid;
        helper.go();
        recordState(p, plan, pid, killSignal, registered, workdirs);
      } catch (err) {
        failure = { step: 'cgroup', op: 'attach', path: '', errno: 0, message: `cannot place the container in its cgroup: ${(err as Error).message}` };
        helper.kill(SIGKILL);
      }
    };

    const onEvent = (e: HelperEvent): void => {
      switch (e.event) {
        case 'workdir':
          // In the record before the monitor makes it: a SIGKILL of everything leaves it to the stale sweep.
          noteWorkdir(workdirs, { path: e.path, ...(e.dev !== undefined && e.ino !== undefined ? { dev: e.dev, ino: e.ino } : {}) });
          claimName(p, workdirs);
          break;
        case 'pid':
          atBarrier(e.pid, e.registered, e.uidBase);
          break;
        case 'stop':
          // machinectl terminate, systemctl stop: systemd asked the helper, the scope's controller.
          onSignal('SIGTERM');
          break;
        case 'warning':
          warn(e.message);
          break;
        case 'exec':
          relay?.payloadStarted(leaderPid);
          events?.started({ name: p.machineName, uuid: p.uuid.dashed, leader: leaderPid, root: p.root });
          // The steady state needs no Node: the supervisor takes over in our pid.
          handoverTimer = setTimeout(() => {
            const gate = handoverGate();
            if (!gate) return;
            try {
              gate.holdStopSignals();
            } catch {
              return; // Node keeps the container: nothing is lost, it only costs memory
            }
            held = gate;
            handingOver = true;
            // A signal libuv caught before the hold is in its pipe already:
            // the poll phase after this timer reads it (into `pending`), and
            // only then, in the check phase, goes the request. What comes
            // after the hold stays in the kernel.
            setImmediate(() => {
              if (handingOver) helper.handover();
            });
          }, HANDOVER_DELAY_MS);
          break;
        case 'handover':
          // At once: the monitor closes our old socket next, and its end must not be taken for the helper's.
          handOver(e.socket);
          break;
        case 'notify':
          relay?.fromGuest(e.message);
          events?.fromGuest(e.message);
          break;
        case 'error':
          failure ??= e;
          break;
        case 'exit':
          // The container ended before the handover: Node sees it through.
          clearTimeout(handoverTimer);
          if (handingOver) {
            handingOver = false;
            for (const name of pending.splice(0)) onSignal(name);
            releaseHeld();
          }
          if (!failure) outcome = classifyExit(e);
          // Unless the guest reboots in place, the service is stopping now.
          if (relay && !(outcome?.kind === 'reboot' && !p.settings.keepUnit)) relay.stopping(outcome?.kind === 'reboot');
          helper.quit();
          break;
      }
    };

    let leaderPid = 0;
    const plan = { ...p.makePlan(), ...(registration ? { registration } : {}) };
    // Node's execve keeps only stdio: the supervisor gets these from the helper.
    const carry = [...Array.from({ length: plan.listenFds ?? 0 }, (_, i) => LISTEN_FDS_START + i), ...(events && events.fd > 2 ? [events.fd] : [])];
    if (carry.length) plan.carryFds = carry;
    // Nothing to register: the helper puts init in its cgroups as it forks it
    // (no migration, and no round trip through Node before init goes on).
    if (!registration && makeCgroupDirs(p.cgroup)) plan.cgroups = p.cgroup.dirs;
    const helper = new Helper(plan, onEvent, (err) => {
      protocolError ??= err;
    });
    onHelper(helper);
    void helper.exited().then(() => {
      releaseHeld();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      if (failure) errorLine(describeHelperError(failure, p.settings));
      else if (!outcome) errorLine(protocolError?.message ?? 'the helper ended without reporting the container\'s end');
      resolve(outcome && !failure ? { kind: 'ended', outcome } : { kind: 'failed' });
    });
  });
}


/** --link-journal's host side: the directory to bind, or the symlink to the guest's journal. */
function prepareJournal(p: Prepared): void {
  if (p.journal.hostDirectory) mkdirSync(p.journal.hostDirectory, { recursive: true, mode: 0o2755 });
  if (p.journal.hostSymlink && !existsSync(p.journal.hostSymlink.path)) symlinkSync(p.journal.hostSymlink.target, p.journal.hostSymlink.path);
}

/** What the record says before init exists: who runs the name, and which cgroups it may create. */
function claimRecord(p: Prepared, manager: NonNullable<ReturnType<typeof processRef>>, workdirs: RecordedWorkdir[]): StateRecord {
  return {
    version: 1,
    name: p.machineName,
    uuid: p.uuid.dashed,
    root: p.root,
    manager,
    boot: p.settings.boot,
    caps: '0',
    syscallFilter: true,
    cgroups: p.cgroup.dirs,
    ...(workdirs.length ? { workdirs } : {}),
    ...(p.treeLock ? { treeLock: { local: p.treeLock.local, global: p.treeLock.global } } : {}),
  };
}

/**
 * Before anything is created: the record claims the name and lists the
 * cgroups about to be made, so that whatever moment a SIGKILL ends us, the
 * next start (or `tsnspawn list`) finds the record stale (by our pid and
 * start time) and removes what it lists. Without it (a read-only /run) the
 * container still runs, but a SIGKILL may leave empty cgroups until a sweep.
 */
function claimName(p: Prepared, workdirs: RecordedWorkdir[]): void {
  const manager = processRef(process.pid);
  if (!manager) return;
  try {
    writeState(claimRecord(p, manager, workdirs));
  } catch (e) {
    warn(`cannot record the container in ${STATE_DIR} (tsnspawn list/stop will not see it): ${(e as Error).message}`);
  }
}

/** tsnspawn's record of the running container (state.ts), for list/stop/exec; a failure to write it is only worth a warning. */
function recordState(p: Prepared, plan: LaunchPlan, pid: number, killSignal: number | undefined, registered: string | undefined, workdirs: RecordedWorkdir[]): void {
  const leader = processRef(pid);
  const manager = processRef(process.pid);
  if (!leader || !manager) return; // init is gone already: the exit event follows
  try {
    writeState({
      ...claimRecord(p, manager, workdirs),
      leader,
      ...(killSignal !== undefined ? { killSignal } : {}),
      caps: plan.capsRetain,
      syscallFilter: plan.syscallFilter,
      ...(plan.suppressSync ? { suppressSync: true } : {}),
      ...(plan.syscallRules ? { syscallRules: plan.syscallRules } : {}),
      ...(registered ? { registered } : {}),
      // After moveBelowScope: the cgroups below the registered scope.
      cgroups: p.cgroup.dirs,
    });
  } catch (e) {
    warn(`cannot record the container in ${STATE_DIR} (tsnspawn list/stop will not see it): ${(e as Error).message}`);
  }
}

export async function runContainer(p: Prepared): Promise<number> {
  // Records a SIGKILLed tsnspawn left go now, with their empty cgroups.
  sweepStale();
  // One container of a name at a time: list/stop/exec find it by its name
  // (a record whose manager lives, even one still starting, holds it).
  const running = liveRecord(p.machineName);
  if (running && running.manager.pid !== process.pid)
    refuse(`a container named '${p.machineName}' is already running (tsnspawn pid ${running.manager.pid}); stop it first or use another -M name`);
  // Before anything is touched: what cannot be registered is refused here.
  const registration = planRegistration(p.settings, {
    machineName: p.machineName,
    uuid: p.uuid.plain,
    root: p.root,
    killSignal: effectiveKillSignal(p),
    busSocket: systemBusSocket(),
    resumed: p.resumed,
  });
  // Overlay work directories the helpers make on the host (workdirs.ts), while they exist.
  const workdirs: RecordedWorkdir[] = [];
  claimName(p, workdirs);
  // Between two boots, and from the container's end to our exit (cgroups,
  // propagation directory, record), a SIGTERM/SIGINT must not take Node's
  // default action and leave things behind: a test harness often sends a
  // second SIGTERM (its exit handler, then a parent-death signal). One
  // outside a boot means: no reboot. (bootOnce has its own handler meanwhile.)
  const late: LateSignals = { stopRequested: false };
  const onLateSignal = (): void => {
    late.stopRequested = true;
  };
  process.on('SIGINT', onLateSignal);
  process.on('SIGTERM', onLateSignal);
  try {
    return await runClaimed(p, registration, late, workdirs);
  } finally {
    // Also on a failure before init exists (the supervisor removes it after
    // a handover); the cgroups it lists go first, or it would be their last
    // trace. A work directory that could not go keeps it for the stale sweep.
    if (p.cgroup.dirs.some((d) => existsSync(d))) await releaseCgroup(p.cgroup);
    if (workdirs.length === 0) removeState(p.machineName, process.pid);
    process.off('SIGINT', onLateSignal);
    process.off('SIGTERM', onLateSignal);
  }
}

/** A SIGTERM/SIGINT that came while no boot was running. */
interface LateSignals {
  stopRequested: boolean;
}

/** The runs of the container once its name is claimed; the outcome's exit status. */
async function runClaimed(p: Prepared, firstRegistration: HelperRegistration | undefined, late: LateSignals, workdirs: RecordedWorkdir[]): Promise<number> {
  let registration = firstRegistration;
  const events = EventStream.open(p.settings.eventsFd, p.settings.notifyReady);
  prepareJournal(p);
  try {
    createPropagateDir(p.machineName);
  } catch (e) {
    refuse(`cannot create ${propagateDirOf(p.machineName)} (for machinectl bind): ${(e as Error).message}`);
  }
  try {
    return await runBoots(p, registration, events, late, workdirs);
  } finally {
    if (!removePropagateDir(p.machineName)) warn(`could not remove ${propagateDirOf(p.machineName)}: something machined mounted is still in it`);
  }
}

/** The boots of one run (a guest reboot starts the next), until the container ends for good. */
async function runBoots(
  p: Prepared,
  initialRegistration: HelperRegistration | undefined,
  events: EventStream | undefined,
  late: LateSignals,
  workdirs: RecordedWorkdir[],
): Promise<number> {
  let registration = initialRegistration;
  info(`Spawning container ${p.machineName} on ${p.root}.`);
  if (p.console === 'interactive') info('Press ^] three times within 1s to kill container.');
  // The relay's datagrams go out through the current helper (a reboot brings a new one).
  let current: Helper | undefined;
  const relay = NotifyRelay.enabled() ? new NotifyRelay({ send: (m) => current?.sdnotify(m) }, p.settings.notifyReady) : undefined;
  relay?.startWatchdog();
  let status = 1;
  for (;;) {
    const result = await bootOnce(p, relay, registration, events, workdirs, (h) => (current = h));
    // The helper let go of the registration before it reported the end.
    const left = await releaseCgroup(p.cgroup);
    if (left.length) warn(`could not remove the container's cgroup ${left.join(', ')}: processes remain in it`);
    // The monitor removed its work directories, unless it was killed: then they go here (the container's mounts went with its cgroups).
    // (With processes left in the cgroups, those still there stay for the stale sweep.)
    const stuck = left.length ? workdirs.filter((w) => existsSync(w.path)) : removeRecordedWorkdirs(workdirs);
    if (!left.length) for (const w of stuck) warn(`could not remove the overlay work directory ${w.path}; the next start tries again`);
    workdirs.splice(0, workdirs.length, ...stuck);
    // The monitor removes the tree's lock files as their last holder, unless it was killed: then here, if nobody holds them.
    if (!left.length) removeStaleTreeLock(p.treeLock);
    if (result.kind === 'failed') {
      status = 1;
      events?.exited(status, undefined);
      break;
    }
    const msg = outcomeMessage(result.outcome, p.machineName);
    if (msg.always) errorLine(msg.text.replace(/^Container/, 'container'));
    else info(msg.text);
    status = exitStatus(result.outcome, p.settings.keepUnit);
    // A guest reboot starts the same container again, unless a service
    // manager is to do it (--keep-unit: exit 133, RestartForceExitStatus=).
    if (result.outcome.kind === 'reboot' && !p.settings.keepUnit && !late.stopRequested) {
      if (registration) registration = { ...registration, retry: true };
      events?.rebooting();
      continue;
    }
    events?.exited(status, result.outcome);
    break;
  }
  relay?.stopWatchdog();
  return status;
}
