/**
 * --events=FD: started, ready, status, rebooting, exited as JSON lines on a
 * descriptor apart from the console, from Node and, after the handover,
 * from the supervisor; a reboot in place and a poweroff; a booted Debian's
 * readiness and status with --notify-ready=yes; a descriptor that is not
 * open refused before anything starts. Needs root.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { image } from '../harness/images.js';
import { BootProbe } from '../harness/boot-probe.js';
import { TSNSPAWN } from '../harness/paths.js';
import { assertNoLeaks, assertOneErrorLine, run } from '../harness/run.js';
import { snapshot } from '../harness/host-state.js';
import { rootSkipReason } from '../harness/root.js';

const skip = rootSkipReason();

type Event = Record<string, unknown> & { event: string };

describe('--events=FD', { skip }, () => {
  let dir: string;
  let busybox: string;
  let hostBefore: ReturnType<typeof snapshot>;
  before(() => {
    dir = mkdtempSync('/var/tmp/tsnspawn-events-');
    busybox = image('busybox');
    hostBefore = snapshot();
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (busybox) await assertNoLeaks(hostBefore, [busybox]);
  });

  /** Runs tsnspawn with fd 3 open on a file; returns its result and the events written there. */
  async function withEvents(args: string[], file: string): Promise<{ exitCode: number; stderr: string; events: Event[] }> {
    const r = await execa('/bin/sh', ['-c', `exec 3>"$0"; exec "$@"`, file, TSNSPAWN, '--events=3', ...args], { reject: false, stdin: 'ignore', timeout: 180_000 });
    const events = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Event);
    return { exitCode: r.exitCode ?? -1, stderr: String(r.stderr), events };
  }

  it('a command that outlives the handover: started, ready, and exited with its code from the supervisor', async () => {
    const r = await withEvents(['-q', '-P', '--register=no', '-D', busybox, '-M', 'ev-a', '/bin/sh', '-c', 'sleep 1.5; exit 3'], `${dir}/a`);
    assert.equal(r.exitCode, 3, r.stderr);
    assert.deepEqual(r.events.map((e) => e.event), ['started', 'ready', 'exited']);
    const [started, , exited] = r.events;
    assert.equal(started!.name, 'ev-a');
    assert.equal(started!.root, busybox);
    assert.ok(Number(started!.leader) > 1);
    assert.match(String(started!.uuid), /^[0-9a-f]{8}-[0-9a-f]{4}-/);
    assert.deepEqual(exited, { event: 'exited', status: 3, outcome: 'exited', code: 3 });
  });

  it('a reboot in place after the handover, then a poweroff: rebooting, started again, exited with poweroff', async () => {
    const marks = mkdtempSync(`${dir}/marks-`);
    const script = 'if [ -e /m/once ]; then poweroff -f; else touch /m/once; sleep 1.5; reboot -f; fi';
    const r = await withEvents(['-q', '-P', '--register=no', '-D', busybox, '-M', 'ev-b', `--bind=${marks}:/m`, '/bin/sh', '-c', script], `${dir}/b`);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.events.map((e) => e.event), ['started', 'ready', 'rebooting', 'started', 'ready', 'exited']);
    assert.notEqual(r.events[0]!.leader, r.events[3]!.leader, 'a new init');
    assert.equal(r.events[0]!.uuid, r.events[3]!.uuid, 'the same machine');
    assert.deepEqual(r.events.at(-1), { event: 'exited', status: 0, outcome: 'poweroff' });
  });

  it('a booted Debian with --notify-ready=yes: ready only once the guest said so, its status, and a clean halt', async () => {
    // The probe powers the guest off once it is running.
    const probe = new BootProbe();
    let r: Awaited<ReturnType<typeof withEvents>>;
    try {
      r = await withEvents(['-q', '--console=pipe', '--register=no', '-x', '--notify-ready=yes', '-D', image('debian12'), '-M', 'ev-c', ...probe.args(), '-b', ...probe.initArgs()], `${dir}/c`);
    } finally {
      probe.remove();
    }
    assert.equal(r.exitCode, 0, r.stderr);
    const names = r.events.map((e) => e.event);
    assert.equal(names[0], 'started');
    assert.ok(names.indexOf('ready') > 0, `ready came from the guest: ${names.join(' ')}`);
    assert.ok(r.events.some((e) => e.event === 'status' && typeof e.text === 'string' && e.text.length > 0), 'the guest reported a status');
    assert.deepEqual(r.events.at(-1), { event: 'exited', status: 0, outcome: 'poweroff' });
  });

  it('a descriptor that is not open: one line, nothing started', async () => {
    const r = await run(['-q', '--register=no', '--events=99', '-D', busybox, '/bin/true']);
    assertOneErrorLine(r, /invalid --events=99: descriptor 99 is not open/);
    assertOneErrorLine(await run(['--events=three', '-D', busybox, '/bin/true']), /invalid --events=three/);
  });
});
