/**
 * With registration: inside the debian12-host image (systemd as PID 1, the
 * real systemd-machined; test/harness/host-machine.ts), both managers
 * register their container as they do by default (machined makes
 * machine-NAME.scope).
 * - start: `/bin/true` in the busybox tree, alternating, timed inside the
 *   host image by one shell loop (the same clock and overhead for both);
 * - memory: a Debian 12 guest booted on a throwaway layer
 *   (--volatile=overlay: neither manager copies the tree) until running,
 *   then the summed RSS of the manager's processes, as in memory.ts.
 */
import { HostMachine, TSNSPAWN_INSIDE } from '../test/harness/host-machine.js';
import { hasRecipe, image, runs } from './lib/env.js';
import { row, skipped, type Row } from './lib/row.js';

const SECTION = 'registered';
const BUSYBOX = '/var/lib/machines/busybox';
const DEBIAN = '/var/lib/machines/debian12';
const NSPAWN_INSIDE = '/usr/bin/systemd-nspawn';
const SETTLE_S = 3;

/** Alternating runs of both, one "tsnspawn MS" / "nspawn MS" line each. */
function startLoop(n: number): string {
  const one = (label: string, cmd: string): string =>
    `s=$(date +%s%N); ${cmd} -q -D ${BUSYBOX} -M bench-${label} /bin/true || exit 1; e=$(date +%s%N); echo ${label} $(( (e - s) / 1000 ))`;
  return `for i in $(seq 0 ${n}); do ${one('tsnspawn', TSNSPAWN_INSIDE)}; ${one('nspawn', NSPAWN_INSIDE)}; done`;
}

/**
 * Boots the guest in the background, waits until it runs, settles, and
 * prints the RSS (KiB) summed over the manager's processes: the one
 * started and its descendants down to, not including, the container's
 * init (the process whose NSpid ends in 1 below the host image's own).
 */
function memoryScript(cmd: string, name: string): string {
  return [
    `${cmd} -q --console=passive --volatile=overlay -D ${DEBIAN} -M ${name} -b >/dev/null 2>&1 </dev/null & pid=$!`,
    `systemctl -M ${name} is-system-running --wait >/dev/null 2>&1 || true`,
    `sleep ${SETTLE_S}`,
    'walk() { for c in $(cat /proc/$1/task/*/children 2>/dev/null); do grep -Eq "^NSpid:.*[[:space:]]1$" /proc/$c/status || { echo $c; walk $c; }; done; }',
    'total=0; for p in $pid $(walk $pid); do r=$(awk \'/^Rss:/ {print $2}\' /proc/$p/smaps_rollup 2>/dev/null); total=$((total + ${r:-0})); done',
    'echo $total',
    `machinectl poweroff ${name} >/dev/null 2>&1; wait $pid`,
  ].join('\n');
}

export async function registered(): Promise<Row[]> {
  if (!hasRecipe('debian12-host')) return [skipped(SECTION, 'with registration', 'tsnspawn', 'systemd-nspawn', 'no recipe images/debian12-host')];
  const host = await HostMachine.boot({ unified: false, machines: { busybox: image('busybox'), debian12: image('debian12') } });
  try {
    const out = (await host.sh(startLoop(runs(20)), { timeoutMs: 600_000 })).stdout;
    const times = (label: string): number[] =>
      out
        .split('\n')
        .filter((l) => l.startsWith(`${label} `))
        .slice(1) // the first of each is a warm-up
        .map((l) => Number(l.split(' ')[1]) / 1000);
    const rows = [
      row(SECTION, 'start /bin/true (busybox tree), registered with machined', 'ms', 'tsnspawn', times('tsnspawn'), 'systemd-nspawn', times('nspawn'),
        'inside the debian12-host image (systemd 252, real machined); both: -q -D tree -M NAME (default registration: machine-NAME.scope)'),
    ];
    const ours: number[] = [];
    const theirs: number[] = [];
    for (let i = 0; i < runs(3); i++) {
      ours.push(Number((await host.sh(memoryScript(TSNSPAWN_INSIDE, 'bench-mem-t'), { timeoutMs: 180_000 })).stdout.trim()) / 1024);
      theirs.push(Number((await host.sh(memoryScript(NSPAWN_INSIDE, 'bench-mem-n'), { timeoutMs: 180_000 })).stdout.trim()) / 1024);
    }
    rows.push(
      row(SECTION, 'manager memory, Debian 12 booted, registered, idle (RSS)', 'MiB', 'tsnspawn', ours, 'systemd-nspawn', theirs,
        `inside the debian12-host image; both --volatile=overlay -b; measured ${SETTLE_S} s after running`),
    );
    return rows;
  } finally {
    await host.shutdown();
  }
}
