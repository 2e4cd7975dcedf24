/** The API's pure parts: event lines, command lines, bounded waits and polls, the output tail. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventLineParser, exitFromProcess, parseEventLine } from '../../src/api/events.js';
import { bootArgs, runArgs } from '../../src/api/options.js';
import { execArgs } from '../../src/api/exec.js';
import { Tail } from '../../src/api/tail.js';
import { bounded, poll, StopPolling } from '../../src/api/wait.js';
import { ContainerExitedError, TimeoutError, TsnspawnError } from '../../src/api/errors.js';

describe('api: the event stream', () => {
  it('joins lines split across chunks and keeps their order', () => {
    const p = new EventLineParser();
    assert.deepEqual(p.push('{"event":"sta'), []);
    assert.deepEqual(p.push('rted","name":"a","uuid":"u","leader":5,"root":"/r"}\n{"event":"ready"}\n{"ev'), [
      { event: 'started', name: 'a', uuid: 'u', leader: 5, root: '/r' },
      { event: 'ready' },
    ]);
    assert.deepEqual(p.push('ent":"exited","status":0,"outcome":"poweroff"}\n'), [{ event: 'exited', status: 0, outcome: 'poweroff' }]);
  });

  it('skips what is not one of its events (a newer tsnspawn may add some)', () => {
    assert.equal(parseEventLine('not json'), undefined);
    assert.equal(parseEventLine('{"event":"future"}'), undefined);
    assert.equal(parseEventLine('[1]'), undefined);
    assert.equal(parseEventLine(''), undefined);
  });

  it('a tsnspawn that wrote no exited event: its exit code, or 128+N after signal N', () => {
    assert.deepEqual(exitFromProcess(125, null), { event: 'exited', status: 125, outcome: 'exited', code: 125 });
    assert.deepEqual(exitFromProcess(null, 'SIGKILL'), { event: 'exited', status: 137, outcome: 'killed', signal: 9 });
  });
});

describe('api: command lines', () => {
  it('boot: quiet, events on fd 3, the console piped, readiness from the guest, -b last with init args', () => {
    assert.deepEqual(bootArgs({ directory: '/t', ephemeral: true, machine: 'm', initArgs: ['systemd.unit=rescue.target'] }), [
      '-q', '--events=3', '--console=pipe', '--kill-signal=SIGKILL', '-D', '/t', '-M', 'm', '-x', '--notify-ready=yes', '-b', 'systemd.unit=rescue.target',
    ]);
  });

  it('image is a synonym of directory; options map to their tsnspawn flags', () => {
    assert.deepEqual(
      bootArgs({ image: '/t', console: 'passive', bind: ['/a:/b'], bindReadOnly: ['/c'], env: { A: '1' }, privateNetwork: true, register: 'no', extraArgs: ['--read-only'] }),
      ['-q', '--events=3', '--console=passive', '--kill-signal=SIGKILL', '-D', '/t', '--bind=/a:/b', '--bind-ro=/c', '--setenv=A=1', '--private-network', '--register=no', '--read-only', '--notify-ready=yes', '-b'],
    );
  });

  it('run: the command after --, as PID 2 with asPid2; a tarball', () => {
    assert.deepEqual(runArgs({ tarball: '/x.tar', asPid2: true, command: ['/bin/sh', '-c', 'true'] }), [
      '-q', '--events=3', '--console=pipe', '--kill-signal=SIGKILL', '--tarball=/x.tar', '-a', '--', '/bin/sh', '-c', 'true',
    ]);
  });

  it('no tree at all is refused before anything runs', () => {
    assert.throws(() => bootArgs({}), TypeError);
    assert.throws(() => runArgs({ ephemeral: true }), TypeError);
  });

  it('exec: options, the name, then the command after --', () => {
    assert.deepEqual(execArgs('m', ['id', '-u'], { user: 'tester', env: { X: 'y' }, cwd: '/tmp' }), ['exec', '-u', 'tester', '-E', 'X=y', '--chdir=/tmp', 'm', '--', 'id', '-u']);
  });
});

describe('api: bounded waits', () => {
  it('a timeout rejects with TimeoutError naming the wait, and runs the give-up hook', async () => {
    let gaveUp: unknown;
    const never = new Promise<never>(() => {});
    const e = await bounded(never, 'the thing', { timeout: 5 }, 1000, (why) => (gaveUp = why)).catch((x: unknown) => x);
    assert.ok(e instanceof TimeoutError && e instanceof TsnspawnError);
    assert.equal(e.what, 'the thing');
    assert.equal(gaveUp, e);
  });

  it('an abort rejects with the signal reason, also when aborted before the wait', async () => {
    const ac = new AbortController();
    const p = bounded(new Promise(() => {}), 'x', { signal: ac.signal }, 60_000);
    ac.abort(new Error('stop now'));
    await assert.rejects(p, /stop now/);
    await assert.rejects(bounded(Promise.resolve(1), 'x', { signal: ac.signal }, 60_000), /stop now/);
  });

  it('the value when the work finishes first', async () => {
    assert.equal(await bounded(Promise.resolve(7), 'x', {}, 1000), 7);
  });
});

describe('api: poll', () => {
  it('retries through "not yet" (false, undefined, a thrown error) until a value', async () => {
    let n = 0;
    const v = await poll(
      () => {
        n++;
        if (n === 1) return false;
        if (n === 2) throw new Error('not up');
        return n === 3 ? undefined : 'up';
      },
      'up',
      { interval: 1 },
    );
    assert.equal(v, 'up');
    assert.equal(n, 4);
  });

  it('StopPolling ends it with its reason', async () => {
    const dead = new ContainerExitedError('x', 1, '', '');
    await assert.rejects(poll(() => { throw new StopPolling(dead); }, 'x', { interval: 1 }), (e) => e === dead);
  });

  it('a timeout carries the last error as its cause', async () => {
    const e = await poll(() => { throw new Error('connection refused'); }, 'x', { interval: 1, timeout: 20 }).catch((x: unknown) => x);
    assert.ok(e instanceof TimeoutError);
    assert.match(String((e.cause as Error).message), /connection refused/);
  });
});

describe('api: output tail', () => {
  it('keeps the last bytes only', () => {
    const t = new Tail(4);
    for (const c of 'abcdefghij') t.push(c);
    assert.equal(t.toString(), 'ghij');
  });
});
