/** Helper events and their order: src/runtime/events.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventOrder, parseEvent, type HelperEvent } from '../../src/runtime/events.js';

const PID: HelperEvent = { event: 'pid', pid: 4242 };
const EXEC: HelperEvent = { event: 'exec' };
const NOTIFY: HelperEvent = { event: 'notify', message: 'READY=1' };
const ERROR: HelperEvent = { event: 'error', step: 'mount', op: 'bind', path: '/data', errno: 2, message: 'cannot bind /srv to /data' };
const EXIT: HelperEvent = { event: 'exit', code: 0 };

/** Feeds events in order; returns the index of the first one refused, or -1. */
function firstRefused(events: HelperEvent[]): number {
  const order = new EventOrder();
  for (let i = 0; i < events.length; i++) {
    try {
      order.accept(events[i]!);
    } catch (e) {
      assert.match((e as Error).message, /protocol error/);
      assert.ok((e as Error).message.includes(`'${events[i]!.event}'`), 'the message names the event');
      return i;
    }
  }
  return -1;
}

describe('EventOrder', () => {
  it('accepts pid -> exec -> exit', () => {
    assert.equal(firstRefused([PID, EXEC, EXIT]), -1);
  });

  it('accepts notify messages after exec, any number of them', () => {
    assert.equal(firstRefused([PID, EXEC, NOTIFY, { event: 'notify', message: 'STATUS=up' }, NOTIFY, EXIT]), -1);
  });

  it('accepts a handover only while the payload runs, and nothing after it (the supervisor reads on)', () => {
    const HANDOVER: HelperEvent = { event: 'handover', socket: '@tsnspawn-supervise-0123456789abcdef' };
    assert.equal(firstRefused([PID, EXEC, NOTIFY, HANDOVER]), -1);
    assert.equal(firstRefused([PID, HANDOVER]), 1);
    assert.equal(firstRefused([PID, EXEC, HANDOVER, EXIT]), 3);
  });

  it('accepts a setup error and then exit', () => {
    assert.equal(firstRefused([PID, ERROR, EXIT]), -1);
    assert.equal(firstRefused([ERROR, EXIT]), -1);
    assert.equal(firstRefused([ERROR, ERROR, EXIT]), -1);
  });

  it('accepts an error while running without ending the run', () => {
    assert.equal(firstRefused([PID, EXEC, ERROR, NOTIFY, EXIT]), -1);
  });

  it('accepts stop requests from pid on (systemd may ask before the payload runs), not before; warnings at any time before exit', () => {
    const STOP: HelperEvent = { event: 'stop' };
    const WARNING: HelperEvent = { event: 'warning', message: 'lost the connection to the system bus' };
    assert.equal(firstRefused([PID, STOP, EXEC, STOP, WARNING, NOTIFY, STOP, EXIT]), -1);
    assert.equal(firstRefused([PID, ERROR, STOP, EXIT]), -1);
    assert.equal(firstRefused([STOP]), 0);
    // The monitor warns while it makes the links of -n, before init is reported.
    assert.equal(firstRefused([WARNING, PID, EXEC, EXIT]), -1);
    assert.equal(firstRefused([PID, EXEC, EXIT, STOP]), 3);
  });

  it('accepts exit straight after pid (the child died before exec)', () => {
    assert.equal(firstRefused([PID, EXIT]), -1);
    assert.equal(firstRefused([EXIT]), -1);
  });

  it('refuses exec before pid', () => {
    assert.equal(firstRefused([EXEC]), 0);
  });

  it('refuses notify before exec', () => {
    assert.equal(firstRefused([NOTIFY]), 0);
    assert.equal(firstRefused([PID, NOTIFY]), 1);
  });

  it('refuses a second pid or exec', () => {
    assert.equal(firstRefused([PID, PID]), 1);
    assert.equal(firstRefused([PID, EXEC, EXEC]), 2);
    assert.equal(firstRefused([PID, EXEC, PID]), 2);
  });

  it('refuses exec or notify after a setup error', () => {
    assert.equal(firstRefused([PID, ERROR, EXEC]), 2);
    assert.equal(firstRefused([PID, ERROR, NOTIFY]), 2);
  });

  it('refuses anything after exit', () => {
    for (const e of [PID, EXEC, NOTIFY, ERROR, EXIT]) assert.equal(firstRefused([PID, EXEC, EXIT, e]), 3, e.event);
  });
});

describe('parseEvent', () => {
  it('parses one JSON object a line', () => {
    assert.deepEqual(parseEvent('{"event":"pid","pid":12}'), { event: 'pid', pid: 12 });
    assert.deepEqual(parseEvent('{"event":"pid","pid":12,"registered":"machine"}'), { event: 'pid', pid: 12, registered: 'machine' });
    assert.deepEqual(parseEvent('{"event":"exit","signal":9}'), { event: 'exit', signal: 9 });
    assert.deepEqual(parseEvent(JSON.stringify(ERROR)), ERROR);
  });

  it('refuses what is not JSON, quoting the line', () => {
    assert.throws(() => parseEvent('pid 12'), /not JSON: pid 12/);
    assert.throws(() => parseEvent(''), /protocol error/);
    assert.throws(() => parseEvent('{"event":"pid",'), /protocol error/);
  });

  it('refuses JSON that is not an event', () => {
    for (const line of ['42', 'null', '"pid"', '[]', '{}', '{"event":3}', '{"pid":12}'])
      assert.throws(() => parseEvent(line), /protocol error/, line);
  });

  it('keeps the quoted line short', () => {
    try {
      parseEvent('x'.repeat(10_000));
      assert.fail('accepted garbage');
    } catch (e) {
      assert.ok((e as Error).message.length < 400);
    }
  });
});
