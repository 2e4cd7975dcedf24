/**
 * Soak and load through the API (src/api), with the manager (this test
 * process, which holds the handles, pipes and event streams) sampled at
 * the start and the end: open descriptors, mounts, tsnspawn cgroups in
 * every hierarchy, runtime records, and heap after a full GC: no growth.
 *
 * - soak: N sequential start/stop cycles of a busybox container
 *   (TSNSPAWN_SOAK_CYCLES, default 200 to fit CI's time: 1000 took
 *   223 s here, 0.22 s a cycle through the API; the full size by hand:
 *   TSNSPAWN_SOAK_CYCLES=1000).
 * - boot soak: B sequential boots of Debian 12 (systemd as init, -x),
 *   each to READY=1 and `systemctl is-system-running --wait` = running,
 *   then powered off (TSNSPAWN_SOAK_BOOTS, default 10 for CI: about 3.5 s
 *   a boot; the full size by hand: TSNSPAWN_SOAK_BOOTS=100).
 * - load: M busybox containers started at once (--read-only: the tree's lock is
 *   shared then, as nspawn's), each checked to have run
 *   (TSNSPAWN_LOAD_CONTAINERS, default 100).
 *
 * Wall times go to the test's diagnostics (figures, not thresholds). Needs root.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { before, describe, it } from 'node:test';
import { boot, run } from '../../src/api/index.js';
import { snapshot, tsnspawnCgroups } from '../harness/host-state.js';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks } from '../harness/run.js';

const skip = rootSkipReason();

const CYCLES = Number(process.env.TSNSPAWN_SOAK_CYCLES ?? 200);
const CONTAINERS = Number(process.env.TSNSPAWN_LOAD_CONTAINERS ?? 100);
const BOOTS = Number(process.env.TSNSPAWN_SOAK_BOOTS ?? 10);
/** A leak bound for the heap, not a timing: 1000 cycles leaking 16 KiB each would cross it. */
const HEAP_GROWTH_LIMIT = 16 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Sample {
  fds: number;
  /** Mount points (with their fs types): other users of the machine may unmount theirs meanwhile, so only new ones count. */
  mounts: string[];
  cgroups: number;
  records: number;
  heap: number;
}

function sample(): Sample {
  gc();
  gc();
  let records = 0;
  try {
    records = readdirSync('/run/tsnspawn/machines').length;
  } catch {
    /* none */
  }
  return {
    fds: readdirSync('/proc/self/fd').length,
    mounts: readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        const f = l.split(' ');
        return `${f[4]} ${f[f.indexOf('-') + 1]}`;
      }),
    cgroups: tsnspawnCgroups().length,
    records,
    heap: process.memoryUsage().heapUsed,
  };
}

const brief = (s: Sample): string => `fds ${s.fds}, mounts ${s.mounts.length}, cgroups ${s.cgroups}, records ${s.records}, heap ${(s.heap / 1048576).toFixed(1)} MiB`;

/** Settles handles and pipes of the last containers before a sample. */
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 200));

function assertNoGrowth(start: Sample, end: Sample): void {
  assert.equal(end.fds, start.fds, 'open descriptors of the manager');
  assert.deepEqual(end.mounts.filter((m) => !start.mounts.includes(m)), [], 'new mounts');
  assert.equal(end.cgroups, start.cgroups, 'tsnspawn cgroups');
  assert.equal(end.records, start.records, 'runtime records');
  assert.ok(end.heap - start.heap < HEAP_GROWTH_LIMIT, `heap grew by ${end.heap - start.heap} bytes`);
}

describe('soak and load', { skip }, () => {
  let busybox = '';
  before(() => {
    busybox = image('busybox');
  });

  it(`${CYCLES} sequential start/stop cycles of a busybox container: each runs, nothing grows`, { timeout: CYCLES * 2_000 }, async (t) => {
    const host = snapshot();
    // One warm-up: the API's modules and tsnspawn's code cache are loaded once.
    await (await run({ directory: busybox, machine: 'soak', register: 'no', command: ['/bin/true'] })).exited();
    await settle();
    const start = sample();
    const began = performance.now();
    for (let i = 0; i < CYCLES; i++) {
      const c = await run({ directory: busybox, machine: 'soak', register: 'no', command: ['/bin/echo', `cycle-${i}`] });
      const end = await c.exited();
      assert.equal(end.status, 0, c.stderr());
      assert.equal(c.output().trim(), `cycle-${i}`);
    }
    const wallMs = performance.now() - began;
    await settle();
    const end = sample();
    t.diagnostic(`${CYCLES} cycles in ${(wallMs / 1000).toFixed(1)} s (${(wallMs / CYCLES).toFixed(0)} ms each); ${brief(start)} -> ${brief(end)}`);
    assertNoGrowth(start, end);
    await assertNoLeaks(host, [busybox]);
  });

  it(`${BOOTS} sequential boots of Debian 12: each reaches running and powers off, nothing grows`, { timeout: BOOTS * 60_000 + 120_000 }, async (t) => {
    const debian = image('debian12');
    const host = snapshot();
    const once = async (i: number): Promise<void> => {
      await using c = await boot({ directory: debian, ephemeral: true, machine: `soak-boot-${i}`, register: 'no', signal: t.signal });
      await c.ready({ timeout: 120_000, signal: t.signal });
      const state = await c.exec(['systemctl', 'is-system-running', '--wait'], { timeout: 120_000, signal: t.signal });
      assert.equal(state.stdout.trim(), 'running', `boot ${i}: ${state.stdout}${state.stderr}`);
      // A shutdown that takes long says what it waits for (the API kills it after 90 s, and the case fails then).
      let waitingFor = '';
      const slow = setTimeout(() => {
        void c
          .exec(['sh', '-c', 'systemctl list-jobs --no-pager; ps -eo pid,stat,args'], { timeout: 10_000 })
          .then((r) => (waitingFor = r.stdout), (e: Error) => (waitingFor = `(exec failed: ${e.message})`));
      }, 30_000);
      const still = (): string => (waitingFor && `; after 30 s the guest still had:\n${waitingFor}`);
      const status = await c
        .poweroff()
        .catch((e: Error) => {
          throw new Error(`boot ${i}: ${e.message}${still()}`);
        })
        .finally(() => clearTimeout(slow));
      assert.equal(status, 0, `boot ${i}: ${c.stderr()}${still()}`);
    };
    // One warm-up, as above.
    await once(-1);
    await settle();
    const start = sample();
    const began = performance.now();
    for (let i = 0; i < BOOTS; i++) await once(i);
    const wallMs = performance.now() - began;
    await settle();
    const end = sample();
    t.diagnostic(`${BOOTS} boots in ${(wallMs / 1000).toFixed(1)} s (${(wallMs / BOOTS / 1000).toFixed(2)} s each); ${brief(start)} -> ${brief(end)}`);
    assertNoGrowth(start, end);
    await assertNoLeaks(host, [debian]);
  });

  it(`${CONTAINERS} busybox containers started at once: each runs, nothing grows`, { timeout: 300_000 }, async (t) => {
    const host = snapshot();
    await settle();
    const start = sample();
    const began = performance.now();
    const containers = await Promise.all(
      Array.from({ length: CONTAINERS }, (_, i) => run({ directory: busybox, machine: `load-${i}`, register: 'no', command: ['/bin/echo', `ran-${i}`], extraArgs: ['--read-only'] })),
    );
    const ends = await Promise.all(containers.map((c) => c.exited()));
    const wallMs = performance.now() - began;
    ends.forEach((e, i) => {
      assert.equal(e.status, 0, containers[i]!.stderr());
      assert.equal(containers[i]!.output().trim(), `ran-${i}`);
    });
    containers.length = 0;
    await settle();
    const end = sample();
    t.diagnostic(`${CONTAINERS} at once in ${(wallMs / 1000).toFixed(1)} s; ${brief(start)} -> ${brief(end)}`);
    assertNoGrowth(start, end);
    await assertNoLeaks(host, [busybox]);
  });
});
