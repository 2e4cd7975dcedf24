/** sd_notify towards our own service manager, as systemd-nspawn sends it: src/runtime/notify-relay.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NotifyRelay, type NotifySink } from '../../src/runtime/notify-relay.js';

function recording(): NotifySink & { sent: string[] } {
  const sent: string[] = [];
  return { sent, send: (m: string) => void sent.push(m) };
}

describe('NotifyRelay', () => {
  describe('without --notify-ready (waitForGuest false)', () => {
    it('payloadStarted: "Container running." with the leader pid, then READY=1', () => {
      const s = recording();
      new NotifyRelay(s, false).payloadStarted(4242);
      assert.deepEqual(s.sent, ['STATUS=Container running.\nX_NSPAWN_LEADER_PID=4242', 'READY=1']);
    });

    it('a later READY=1 from the guest is not passed on again', () => {
      const s = recording();
      const r = new NotifyRelay(s, false);
      r.payloadStarted(7);
      r.fromGuest('READY=1');
      r.fromGuest('READY=1\nSTATUS=Up');
      assert.deepEqual(s.sent, ['STATUS=Container running.\nX_NSPAWN_LEADER_PID=7', 'READY=1', 'STATUS=Container running: Up']);
    });
  });

  describe('with --notify-ready=yes (waitForGuest true)', () => {
    it('payloadStarted sends the status only', () => {
      const s = recording();
      new NotifyRelay(s, true).payloadStarted(99);
      assert.deepEqual(s.sent, ['STATUS=Container running.\nX_NSPAWN_LEADER_PID=99']);
    });

    it("the guest's READY=1 is passed on, once", () => {
      const s = recording();
      const r = new NotifyRelay(s, true);
      r.payloadStarted(99);
      r.fromGuest('STATUS=Starting...');
      r.fromGuest('READY=1');
      r.fromGuest('READY=1');
      r.fromGuest('STATUS=Startup finished\nREADY=1');
      assert.deepEqual(s.sent, [
        'STATUS=Container running.\nX_NSPAWN_LEADER_PID=99',
        'STATUS=Container running: Starting...',
        'READY=1',
        'STATUS=Container running: Startup finished',
      ]);
    });

    it('READY=1 among other lines of one datagram', () => {
      const s = recording();
      new NotifyRelay(s, true).fromGuest('MAINPID=1\nREADY=1\nSTATUS=Reached target multi-user.target');
      assert.deepEqual(s.sent, ['READY=1', 'STATUS=Container running: Reached target multi-user.target']);
    });

    it('only an exact READY=1 line counts', () => {
      const s = recording();
      const r = new NotifyRelay(s, true);
      r.fromGuest('READY=0');
      r.fromGuest('READY=10');
      r.fromGuest('XREADY=1');
      r.fromGuest(' READY=1');
      assert.deepEqual(s.sent, []);
    });
  });

  describe("the guest's STATUS=", () => {
    it('is prefixed "Container running: "', () => {
      const s = recording();
      new NotifyRelay(s, true).fromGuest('STATUS=Reached target graphical.target');
      assert.deepEqual(s.sent, ['STATUS=Container running: Reached target graphical.target']);
    });

    it('keeps "=" and spaces of the text, and an empty text', () => {
      const s = recording();
      const r = new NotifyRelay(s, true);
      r.fromGuest('STATUS=a=b  c');
      r.fromGuest('STATUS=');
      assert.deepEqual(s.sent, ['STATUS=Container running: a=b  c', 'STATUS=Container running: ']);
    });

    it('CR LF line ends are split too', () => {
      const s = recording();
      new NotifyRelay(s, true).fromGuest('STATUS=one\r\nREADY=1\r\n');
      assert.deepEqual(s.sent, ['STATUS=Container running: one', 'READY=1']);
    });

    it("other assignments of the guest are not passed on (they would describe tsnspawn's own unit)", () => {
      const s = recording();
      new NotifyRelay(s, false).fromGuest('MAINPID=1\nWATCHDOG=1\nSTOPPING=1\nRELOADING=1\nERRNO=5\nX_NSPAWN_LEADER_PID=1\n');
      assert.deepEqual(s.sent, []);
    });
  });

  describe('stopping', () => {
    it('STOPPING=1 with "Terminating..."', () => {
      const s = recording();
      new NotifyRelay(s, false).stopping(false);
      assert.deepEqual(s.sent, ['STOPPING=1\nSTATUS=Terminating...']);
    });

    it('STOPPING=1 with "Restarting..." for a reboot of the guest', () => {
      const s = recording();
      new NotifyRelay(s, false).stopping(true);
      assert.deepEqual(s.sent, ['STOPPING=1\nSTATUS=Restarting...']);
    });
  });

  it('enabled() follows NOTIFY_SOCKET', () => {
    const old = process.env.NOTIFY_SOCKET;
    try {
      delete process.env.NOTIFY_SOCKET;
      assert.equal(NotifyRelay.enabled(), false);
      process.env.NOTIFY_SOCKET = '';
      assert.equal(NotifyRelay.enabled(), false);
      process.env.NOTIFY_SOCKET = '/run/systemd/notify';
      assert.equal(NotifyRelay.enabled(), true);
    } finally {
      if (old === undefined) delete process.env.NOTIFY_SOCKET;
      else process.env.NOTIFY_SOCKET = old;
    }
  });
});
