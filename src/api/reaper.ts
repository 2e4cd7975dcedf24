/**
 * Containers that must not outlive this process. On exit (normal end,
 * process.exit, an uncaught error) each live tsnspawn gets SIGTERM: exit
 * handlers cannot wait, and tsnspawn (started with --kill-signal=SIGKILL)
 * then kills its guest and cleans up by itself. A process killed outright
 * runs no handler; the parent-death SIGTERM set through setpriv covers that.
 */

const live = new Set<number>();
let installed = false;

function killAll(): void {
  for (const pid of live) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

export function track(pid: number): void {
  if (!installed) {
    installed = true;
    process.on('exit', killAll);
  }
  live.add(pid);
}

export function untrack(pid: number): void {
  live.delete(pid);
}

/** The pids still tracked (for tests). */
export function tracked(): number[] {
  return [...live];
}
