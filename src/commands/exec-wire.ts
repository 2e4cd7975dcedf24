/**
 * What Node hands the helper's exec mode (native/exec.c): one command line,
 * and the command's environment as the helper's own (the helper never
 * reads its environment for itself; it passes it on whole). Pure.
 *
 *   tsnspawn-helper --exec --machine NAME --leader PID:START --caps HEX
 *       [--no-syscall-filter] [--suppress-sync] [--syscall-allow|--syscall-deny ABI:NR,NR,...]...
 *       --uid N --gid N --groups G,G,...
 *       --chdir PATH [--chdir-fallback] [--tty] -- COMMAND [ARGS...]
 *
 * --chdir-fallback: PATH is the user's home, and / serves when it is
 * missing (machinectl shell's WorkingDirectory=-~); an explicit --chdir
 * must exist.
 */
import type { ProcessRef } from '../runtime/state.js';
import type { ContainerUser } from './exec-user.js';
import type { PlanSyscallRule } from '../plan/syscall-filter.js';

export interface ExecRequest {
  machine: string;
  leader: ProcessRef;
  caps: string;
  syscallFilter: boolean;
  /** The container runs with --suppress-sync=yes: the command gets those filter rules too. */
  suppressSync: boolean;
  /** The container's --system-call-filter, as numbers: the command gets it too. */
  syscallRules?: readonly PlanSyscallRule[];
  user: ContainerUser;
  chdir: string;
  chdirFallback: boolean;
  tty: boolean;
  command: string[];
}

export function execHelperArgv(helper: string, r: ExecRequest): string[] {
  return [
    helper,
    '--exec',
    '--machine', r.machine,
    '--leader', `${r.leader.pid}:${r.leader.start}`,
    '--caps', r.caps,
    ...(r.syscallFilter ? [] : ['--no-syscall-filter']),
    ...(r.suppressSync ? ['--suppress-sync'] : []),
    ...(r.syscallRules ?? []).flatMap((x) => [
      ...(x.allow.length ? ['--syscall-allow', `${x.abi}:${x.allow.join(',')}`] : []),
      ...(x.deny.length ? ['--syscall-deny', `${x.abi}:${x.deny.join(',')}`] : []),
    ]),
    '--uid', String(r.user.uid),
    '--gid', String(r.user.gid),
    '--groups', r.user.groups.join(','),
    '--chdir', r.chdir,
    ...(r.chdirFallback ? ['--chdir-fallback'] : []),
    ...(r.tty ? ['--tty'] : []),
    '--',
    ...r.command,
  ];
}
