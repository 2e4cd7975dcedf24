/**
 * tsnspawn list / status / stop / kill on the bare host (no machined):
 * found through tsnspawn's runtime state, before and after the handover to
 * the supervisor; a second container of a running name refused; a record
 * left by a SIGKILLed tsnspawn recognised as stale and removed with the
 * cgroups it left; bad
 * arguments one line each. Needs root.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { image } from '../harness/images.js';
import { assertNoLeaks, assertOneErrorLine, run, start } from '../harness/run.js';
import { snapshot } from '../harness/host-state.js';
import { rootSkipReason } from '../harness/root.js';
import { STATE_DIR } from '../../src/runtime/state.js';

const skip = rootSkipReason();

interface Listed {
  name: string;
  leader: number;
  manager: number;
  root: string;
  boot: boolean;
  registered: string | null;
}

const listed = async (): Promise<Listed[]> => JSON.parse((await run(['list', '--json'])).stdout) as Listed[];

async function until(what: string, check: () => Promise<boolean> | boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting until ${what}`);
}

const cmdline = (pid: number): string => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
};

describe('tsnspawn list, status, stop, kill', { skip }, () => {
  let tree: string;
  let hostBefore: ReturnType<typeof snapshot>;
  before(() => {
    tree = image('busybox');
    hostBefore = snapshot();
  });
  after(async () => {
    if (tree) await assertNoLeaks(hostBefore, [tree]);
  });

  it('list shows a running container with its leader and root; status names it; kill signals its PID 1', async () => {
    const script = 'trap "echo got-usr1; exit 9" USR1; echo ready; while :; do sleep 0.1; done';
    const c = start(['-q', '-P', '--register=no', '-D', tree, '-M', 'cmd-a', '/bin/sh', '-c', script]);
    await until('it is listed', async () => (await listed()).some((m) => m.name === 'cmd-a'));
    const [m] = (await listed()).filter((x) => x.name === 'cmd-a');
    assert.equal(m!.root, tree);
    assert.equal(m!.manager, c.pid);
    assert.match(cmdline(m!.leader), /^\/bin\/sh -c trap/, 'the leader is the container init');
    const table = (await run(['list'])).stdout;
    assert.match(table, /^MACHINE +LEADER +REGISTERED +ROOT\n/);
    assert.match(table, new RegExp(`^cmd-a +${m!.leader} +- +${tree}$`, 'm'));
    const status = await run(['status', 'cmd-a']);
    assert.equal(status.exitCode, 0);
    assert.match(status.stdout, new RegExp(`^cmd-a\\n(.*\\n)*  Leader: ${m!.leader} `));
    // The shell sets its trap before anything else; give it that moment.
    await new Promise((r) => setTimeout(r, 300));
    const k = await run(['kill', 'cmd-a', 'SIGUSR1']);
    assert.equal(k.exitCode, 0, k.stderr);
    const r = await c;
    assert.equal(r.exitCode, 9, String(r.stderr));
    assert.equal(String(r.stdout), 'ready\ngot-usr1\n');
    assert.deepEqual((await listed()).filter((x) => x.name === 'cmd-a'), []);
    assert.equal(existsSync(`${STATE_DIR}/cmd-a`), false, 'the record goes with the container');
  });

  it('stop after the handover: the supervisor gets SIGTERM, kills a container without a kill signal, and removes the record', async () => {
    const c = start(['-q', '-P', '--register=no', '-D', tree, '-M', 'cmd-b', '/bin/sleep', '60']);
    await until('it is listed', async () => (await listed()).some((m) => m.name === 'cmd-b'));
    await until('the supervisor holds it', () => cmdline(c.pid!).includes(' --supervise '));
    const s = await run(['stop', 'cmd-b']);
    assert.equal(s.exitCode, 0, s.stderr);
    const r = await c;
    assert.equal(r.exitCode, 1, 'a killed container exits 1');
    assert.match(String(r.stderr), /terminated by signal KILL/);
    assert.equal(existsSync(`${STATE_DIR}/cmd-b`), false);
  });

  it('stop --timeout: a kill signal the container ignores, then SIGKILL', async () => {
    const c = start(['-q', '-P', '--register=no', '--kill-signal=SIGUSR2', '-D', tree, '-M', 'cmd-c', '/bin/sh', '-c', 'trap "" USR2; while :; do sleep 0.1; done']);
    await until('it is listed', async () => (await listed()).some((m) => m.name === 'cmd-c'));
    await new Promise((r) => setTimeout(r, 300));
    const s = await run(['stop', 'cmd-c', '--timeout=1']);
    assert.equal(s.exitCode, 0, s.stderr);
    assert.match(s.stderr, /^tsnspawn: cmd-c did not stop within 1 s; killing it$/m);
    assert.equal((await c).exitCode, 1);
  });

  it('refuses a second container of a running name, with one line; the first runs on', async () => {
    const c = start(['-q', '-P', '--register=no', '-D', tree, '-M', 'cmd-d', '/bin/sh', '-c', 'sleep 2; echo first-done']);
    await until('it is listed', async () => (await listed()).some((m) => m.name === 'cmd-d'));
    const second = await run(['-q', '-P', '--register=no', '-D', tree, '-M', 'cmd-d', '/bin/echo', 'second']);
    assertOneErrorLine(second, /a container named 'cmd-d' is already running/);
    assert.equal(second.stdout, '');
    assert.equal(String((await c).stdout), 'first-done\n');
  });

  it('a record left by a SIGKILLed tsnspawn is stale: not listed, removed, and the name can be used again', async () => {
    const c = start(['-q', '-P', '--register=no', '-D', tree, '-M', 'cmd-e', '/bin/sleep', '60']);
    await until('it is listed', async () => (await listed()).some((m) => m.name === 'cmd-e'));
    const cgroups = (JSON.parse(readFileSync(`${STATE_DIR}/cmd-e`, 'utf8')) as { cgroups: string[] }).cgroups;
    assert.ok(cgroups.length > 0 && cgroups.every((d) => existsSync(d)), 'the record names the container\'s cgroups');
    process.kill(c.pid!, 'SIGKILL');
    await c;
    assert.ok(existsSync(`${STATE_DIR}/cmd-e`), 'SIGKILL leaves the record');
    await until('the container died with tsnspawn', async () => !(await listed()).some((m) => m.name === 'cmd-e'));
    assert.equal(existsSync(`${STATE_DIR}/cmd-e`), false, 'list removed the stale record');
    assert.deepEqual(cgroups.filter((d) => existsSync(d)), [], 'and the cgroups the killed tsnspawn left');
    const again = await run(['-q', '-P', '--register=no', '-D', tree, '-M', 'cmd-e', '/bin/echo', 'again']);
    assert.equal(again.exitCode, 0, again.stderr);
    assert.equal(again.stdout, 'again\n');
  });

  it('bad arguments: one line each, non-zero', async () => {
    assertOneErrorLine(await run(['status', 'no-such-machine']), /no container named 'no-such-machine' is running/);
    assertOneErrorLine(await run(['stop']), /stop needs a machine name \(usage: tsnspawn stop NAME/);
    assertOneErrorLine(await run(['stop', 'x', '--timeout=soon']), /invalid --timeout=soon/);
    assertOneErrorLine(await run(['kill', 'no-such-machine', 'TERM']), /no container named 'no-such-machine'/);
    assertOneErrorLine(await run(['list', '--yaml']), /unknown argument '--yaml' for list/);
    const help = await run(['stop', '--help']);
    assert.equal(help.exitCode, 0);
    assert.match(help.stdout, /^usage: tsnspawn stop NAME \[--timeout=SECONDS\]/);
  });
});
