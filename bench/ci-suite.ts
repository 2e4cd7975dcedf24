/**
 * The examples/ suite's work (Debian 12 and 13 booted at once on throwaway
 * layers, `systemctl is-system-running`, the release's codename and
 * `apt-get --version` in each, a clean poweroff), timed two ways:
 * - with the API: boot(), ready(), exec(), poweroff();
 * - the usual way: `systemd-nspawn -x -b` in the background, polling until
 *   the guest answers, commands run in it, SIGRTMIN+4 to its init.
 *
 * The usual glue polls `machinectl shell NAME /bin/true` and ends with
 * `machinectl poweroff`, but machinectl needs systemd-machined, which needs
 * systemd as the host's PID 1 and a system bus: a bare CI host (this one)
 * has neither, and `systemd-run -M` needs machined as well. So the baseline
 * enters the guest with `nsenter -t LEADER -a` (what machinectl shell does
 * underneath, minus the D-Bus round trips, so the baseline is if anything
 * faster than the real glue) and sends SIGRTMIN+4 to the leader itself,
 * exactly what `machinectl poweroff` sends. It polls every 100 ms.
 * Both boot from the same private copy of each tree (systemd-nspawn -x
 * copies a tree that is not on btrfs next to it; the copy is made there).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { boot as apiBoot } from '../src/api/index.js';
import { hasRecipe, image, NSPAWN, runs, withTreeCopy } from './lib/env.js';
import { isContainerInit } from './lib/procs.js';
import { alternate, sleep, start, until } from './lib/run.js';
import { row, skipped, type Row } from './lib/row.js';

const SECTION = 'ci-suite';
const RELEASES = [
  { recipe: 'debian12', codename: 'bookworm' },
  { recipe: 'debian13', codename: 'trixie' },
];
const POLL_MS = 100;
const run = promisify(execFile);

function check(ok: boolean, what: string): void {
  if (!ok) throw new Error(`check failed: ${what}`);
}

/** The example's checks, on a guest that runs commands through `exec`. */
async function checks(exec: (cmd: string[]) => Promise<{ code: number; stdout: string }>, codename: string): Promise<void> {
  check((await exec(['/bin/sh', '-c', '. /etc/os-release && echo $VERSION_CODENAME'])).stdout.trim() === codename, 'codename');
  check(/^apt \d/.test((await exec(['apt-get', '--version'])).stdout), 'apt-get --version');
}

async function withApi(tree: string, codename: string): Promise<void> {
  await using c = await apiBoot({ directory: tree, ephemeral: true, register: 'no' });
  await c.ready({ timeout: 120_000 });
  check((await c.exec(['systemctl', 'is-system-running', '--wait'], { timeout: 120_000 })).stdout.trim() === 'running', 'running');
  await checks((cmd) => c.exec(cmd), codename);
  check((await c.poweroff({ timeout: 60_000 })) === 0, 'poweroff status 0');
}

/** The container's init: the descendant of pid that is PID 1 of its own namespace. */
function leaderOf(pid: number): number | undefined {
  const kids = (p: number): number[] =>
    readdirSync(`/proc/${p}/task`).flatMap((t) => {
      try {
        return readFileSync(`/proc/${p}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
      } catch {
        return [];
      }
    });
  const queue = [pid];
  while (queue.length) {
    const p = queue.shift()!;
    try {
      for (const c of kids(p)) {
        if (isContainerInit(c)) return c;
        queue.push(c);
      }
    } catch {
      // Gone while we looked.
    }
  }
  return undefined;
}

async function nsenter(leader: number, cmd: string[]): Promise<{ code: number; stdout: string }> {
  try {
    const r = await run('nsenter', ['-t', String(leader), '-a', ...cmd], { encoding: 'utf8' });
    return { code: 0, stdout: r.stdout };
  } catch (e) {
    const x = e as { code?: number; stdout?: string };
    return { code: typeof x.code === 'number' ? x.code : 1, stdout: x.stdout ?? '' };
  }
}

async function usualWay(tree: string, codename: string): Promise<void> {
  // --keep-unit: no system bus here for nspawn to ask for a scope.
  const m = start([NSPAWN, ['--register=no', '--keep-unit', '-q', '--console=pipe', '-x', '-D', tree, '-b']]);
  let leader: number | undefined;
  try {
    await until(() => (leader = leaderOf(m.pid)) !== undefined || m.child.exitCode !== null, 60_000, 'the guest init', 10);
    check(leader !== undefined, 'systemd-nspawn started a guest');
    // Poll until the guest's systemd answers and has finished starting up.
    for (let state = ''; state !== 'running'; ) {
      check(m.child.exitCode === null, 'systemd-nspawn still runs');
      state = (await nsenter(leader!, ['systemctl', 'is-system-running'])).stdout.trim();
      if (state === 'degraded') throw new Error('degraded');
      if (state !== 'running') await sleep(POLL_MS);
    }
    await checks((cmd) => nsenter(leader!, cmd), codename);
    // Node has no names for real-time signals; kill(1) has.
    await run('kill', ['-s', 'RTMIN+4', String(leader)]);
    check((await m.exited) === 0, 'systemd-nspawn exit 0');
  } finally {
    // SIGKILL of systemd-nspawn would leave its guest running (it has no
    // parent-death signal): kill the guest's init, then nspawn ends by itself.
    if (m.child.exitCode === null) {
      if (leader !== undefined) await run('kill', ['-s', 'KILL', String(leader)]).catch(() => null);
      else m.child.kill('SIGTERM');
      await m.exited.catch(() => null);
    }
  }
}

/** Both releases at once; waits for every one to end before failing, so none is left running. */
async function both(one: (tree: string, codename: string) => Promise<void>, trees: string[]): Promise<void> {
  const results = await Promise.allSettled(RELEASES.map((r, i) => one(trees[i]!, r.codename)));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

export async function ciSuite(): Promise<Row[]> {
  const measure = 'boot Debian 12 + 13 in parallel, check, power off';
  const missing = RELEASES.find((r) => !hasRecipe(r.recipe));
  if (missing) return [skipped(SECTION, measure, 'tsnspawn API', 'systemd-nspawn + nsenter', `no recipe images/${missing.recipe}`)];
  return withTreeCopy(image('debian12'), (d12) =>
    withTreeCopy(image('debian13'), async (d13) => {
      const trees = [d12, d13];
      const all = (one: (tree: string, codename: string) => Promise<void>) => () => timed(() => both(one, trees));
      const [api, usual] = await alternate(runs(3), [all(withApi), all(usualWay)]);
      return [row(SECTION, measure, 'ms', 'tsnspawn API', api!, 'nspawn -x + nsenter poll', usual!, 'the examples/ suite\'s work; baseline polls `nsenter -a systemctl is-system-running` every 100 ms (no machined for machinectl shell), SIGRTMIN+4 as machinectl poweroff')];
    }),
  );
}
