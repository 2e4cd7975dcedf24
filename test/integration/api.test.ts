/**
 * The API's promises about the end of a container: whichever way a handle
 * is left (dispose, the caller's AbortSignal, a timeout, the test process
 * exiting or being killed), nothing remains on the host. And what a test
 * gets back: exec codes and output, the guest's own exit status, an early
 * end reported instead of waited out. Needs root.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { before, describe, it } from 'node:test';
import { boot, ContainerExitedError, ExecError, run, TimeoutError, type Container } from '../../src/api/index.js';
import { tracked } from '../../src/api/reaper.js';
import { waitFor } from '../harness/boot-probe.js';
import { snapshot } from '../harness/host-state.js';
import { image } from '../harness/images.js';
import { TOP } from '../harness/paths.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks } from '../harness/run.js';

const skip = rootSkipReason();

/** A long sleep as PID 1 of a throwaway busybox. */
function sleeper(tree: string, extra: { signal?: AbortSignal } = {}): Promise<Container> {
  return run({ directory: tree, ephemeral: true, register: 'no', command: ['/bin/sleep', '1000'], ...extra });
}

/** No such process, or a zombie (reparented to a host init that may reap late). */
function gone(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').startsWith('Z');
  } catch {
    return true;
  }
}

/** `work`'s value, or undefined once `ms` have passed (the timer does not outlive the wait). */
async function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([work, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

describe('API: cleanup leaves nothing behind', { skip }, () => {
  let busybox = '';
  before(() => {
    busybox = image('busybox');
  });

  it('disposing a handle (await using) stops its container', async () => {
    const before = snapshot();
    let leader = 0;
    {
      await using c = await sleeper(busybox);
      leader = c.facts.leader;
      assert.ok(!gone(leader));
    }
    assert.ok(gone(leader));
    assert.deepEqual(tracked(), []);
    await assertNoLeaks(before, [busybox]);
  });

  it("the caller's AbortSignal kills the container, and aborts a wait on it", async () => {
    const before = snapshot();
    const ac = new AbortController();
    const c = await sleeper(busybox, { signal: ac.signal });
    const waiting = c.waitFor(() => false, { signal: ac.signal, timeout: 60_000 });
    ac.abort(new Error('test over'));
    await assert.rejects(waiting, /test over/);
    const end = await c.exited({ timeout: 30_000 });
    assert.equal(end.outcome, 'killed');
    await assertNoLeaks(before, [busybox]);
  });

  it('a readiness that never comes times out (TimeoutError), and the handle still stops the guest', async () => {
    const before = snapshot();
    // busybox init never says READY=1, so a boot's readiness never comes.
    await using c = await boot({ directory: busybox, ephemeral: true, register: 'no' });
    const e = await c.ready({ timeout: 300 }).catch((x: unknown) => x);
    assert.ok(e instanceof TimeoutError, String(e));
    assert.match(e.message, /ready/);
    // busybox init knows neither systemd's poweroff signal nor its halt one: stop's SIGKILL ends it.
    assert.equal((await c.stop({ timeout: 500 })).outcome, 'killed');
    await assertNoLeaks(before, [busybox]);
  });

  it('a boot abandoned by its own timeout leaves nothing running', async () => {
    const before = snapshot();
    await assert.rejects(boot({ directory: busybox, ephemeral: true, register: 'no', timeout: 1 }), TimeoutError);
    assert.deepEqual(tracked(), []);
    await assertNoLeaks(before, [busybox]);
  });

  for (const mode of ['exit', 'hang'] as const) {
    it(`a test process that ${mode === 'exit' ? 'calls process.exit' : 'is killed with SIGKILL'} takes its containers with it`, async () => {
      const before = snapshot();
      const child = spawn(process.execPath, [`${TOP}/dist/test/harness/api-child.js`, busybox, mode], { stdio: ['ignore', 'pipe', 'inherit'] });
      const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
      const { pid, leader, name } = JSON.parse(first) as { pid: number; leader: number; name: string };
      if (mode === 'hang') child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      // tsnspawn, left alone, kills its guest and cleans up on its own: wait for it to finish.
      await waitFor(() => gone(pid) && gone(leader), 30_000, 'tsnspawn and its container to end');
      // tsnspawn got two SIGTERMs (the exit handler's, then the parent-death one): the second must not cut its cleanup short.
      assert.ok(!existsSync(`/run/tsnspawn/machines/${name}`), `the runtime record of ${name} was left behind`);
      await assertNoLeaks(before, [busybox]);
    });
  }
  it('a handle that is dropped is collected and its container ended, while its process runs on', async () => {
    const before = snapshot();
    const child = spawn(process.execPath, ['--expose-gc', `${TOP}/dist/test/harness/api-child.js`, busybox, 'abandon'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
    const { pid, leader } = JSON.parse((await lines.next()).value as string) as { pid: number; leader: number };
    const closed = new Promise((r) => child.once('close', r));
    // The child prints "collected" once its handle was collected and tsnspawn is gone.
    const next = await within(lines.next(), 60_000);
    if (next === undefined) child.kill('SIGKILL');
    assert.equal(next?.value, 'collected', 'the dropped handle was never collected (or its container never ended)');
    await closed;
    await waitFor(() => gone(pid) && gone(leader), 30_000, 'tsnspawn and its container to end');
    await assertNoLeaks(before, [busybox]);
  });

  it('a wait alone keeps the test process alive until the container ends', async () => {
    const before = snapshot();
    const child = spawn(process.execPath, [`${TOP}/dist/test/harness/api-child.js`, busybox, 'await'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((r) => child.once('close', r));
    // Node ends a process whose loop is empty with a pending top-level await as 13, before the line.
    assert.equal(code, 0);
    assert.equal(out.trim().split('\n')[1], '7');
    await assertNoLeaks(before, [busybox]);
  });

  it('a process that returns without disposing its container ends by itself, and takes the container with it', async () => {
    const before = snapshot();
    const child = spawn(process.execPath, [`${TOP}/dist/test/harness/api-child.js`, busybox, 'return'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const first = await new Promise<string>((resolve) => createInterface({ input: child.stdout! }).once('line', resolve));
    const { pid, leader } = JSON.parse(first) as { pid: number; leader: number };
    // A live container must not keep the test process's event loop alive once nobody waits on it.
    const ended = (await within(new Promise<true>((r) => child.once('close', () => r(true))), 30_000)) ?? false;
    if (!ended) child.kill('SIGKILL');
    assert.ok(ended, 'the test process did not end while its container was running');
    await waitFor(() => gone(pid) && gone(leader), 30_000, 'tsnspawn and its container to end');
    await assertNoLeaks(before, [busybox]);
  });
});

describe('API: what a test gets back', { skip }, () => {
  let busybox = '';
  before(() => {
    busybox = image('busybox');
  });

  it("exec: the command's code and output, stdin, 127, and ExecError with check", async () => {
    const before = snapshot();
    {
      await using c = await sleeper(busybox);
      assert.deepEqual(await c.exec(['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']), { code: 3, stdout: 'out\n', stderr: 'err\n' });
      assert.equal((await c.exec(['/bin/cat'], { input: 'piped' })).stdout, 'piped');
      assert.equal((await c.exec(['no-such-command'])).code, 127);
      const e = await c.exec(['/bin/false'], { check: true }).catch((x: unknown) => x);
      assert.ok(e instanceof ExecError && e.code === 1);
      // A command killed by exec's timeout: SIGTERM reaches it through tsnspawn exec.
      await assert.rejects(c.exec(['/bin/sleep', '100'], { timeout: 200 }), TimeoutError);
    }
    await assertNoLeaks(before, [busybox]);
  });

  it('a container that ends while a test waits on it rejects the wait at once with its status', async () => {
    const c = await run({ directory: busybox, ephemeral: true, register: 'no', command: ['/bin/sh', '-c', 'sleep 0.3; exit 3'] });
    const e = await c.waitFor(() => false, { timeout: 60_000 }).catch((x: unknown) => x);
    assert.ok(e instanceof ContainerExitedError, String(e));
    assert.equal(e.status, 3);
    assert.deepEqual(await c.exited(), { event: 'exited', status: 3, outcome: 'exited', code: 3 });
  });

  it("a booted systemd's `systemctl exit 42` reaches the caller as 42; events come in order", async () => {
    const tree = image('debian12');
    const before = snapshot();
    const c = await boot({ directory: tree, ephemeral: true, register: 'no' });
    await c.ready({ timeout: 120_000 });
    await c.waitForCommand(['systemctl', 'is-system-running'], { timeout: 120_000 });
    await c.exec(['systemctl', 'exit', '42']);
    assert.equal((await c.exited({ timeout: 60_000 })).status, 42);
    const names: string[] = [];
    for await (const e of c.events) names.push(e.event);
    assert.deepEqual([names[0], names.at(-1)], ['started', 'exited']);
    assert.ok(names.includes('ready'));
    await assertNoLeaks(before, [tree]);
  });
});
