/** How the container's end becomes tsnspawn's exit status and message: src/runtime/outcome.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyExit, EXIT_FORCE_RESTART, exitStatus, outcomeMessage } from '../../src/runtime/outcome.js';

/** Exit status for init's end, as a user of systemd-nspawn sees it. */
const status = (exit: { code?: number; signal?: number }, keepUnit = false): number => exitStatus(classifyExit(exit), keepUnit);

describe('exit status', () => {
  it("passes the command's exit code through", () => {
    assert.equal(status({ code: 0 }), 0);
    assert.equal(status({ code: 1 }), 1);
    assert.equal(status({ code: 42 }), 42);
    assert.equal(status({ code: 255 }), 255);
  });

  it('does not pass 133 through (it would ask the service manager for a restart)', () => {
    assert.equal(EXIT_FORCE_RESTART, 133);
    assert.equal(status({ code: 133 }), 1);
    assert.equal(status({ code: 133 }, true), 1);
  });

  it('a booted init that powers off (SIGINT) is a clean end', () => {
    assert.deepEqual(classifyExit({ signal: 2 }), { kind: 'poweroff' });
    assert.equal(status({ signal: 2 }), 0);
    assert.equal(status({ signal: 2 }, true), 0);
  });

  it('a booted init that reboots (SIGHUP) exits 0, or 133 with --keep-unit so systemd restarts the unit', () => {
    assert.deepEqual(classifyExit({ signal: 1 }), { kind: 'reboot' });
    assert.equal(status({ signal: 1 }, false), 0);
    assert.equal(status({ signal: 1 }, true), 133);
  });

  it('a killed init is a failure', () => {
    assert.deepEqual(classifyExit({ signal: 9 }), { kind: 'killed', signal: 9 });
    assert.equal(status({ signal: 9 }), 1);
    assert.equal(status({ signal: 9 }), 1);
    assert.equal(status({ signal: 15 }, true), 1);
    assert.equal(status({ signal: 11 }), 1);
  });

  it('a command that powers the container off (reboot(2) -> SIGINT) is a clean end without -b too, as in nspawn', () => {
    // systemd-nspawn's wait_for_container() maps CLD_KILLED+SIGINT to "has been shut down" whatever the start mode.
    assert.deepEqual(classifyExit({ signal: 2 }), { kind: 'poweroff' });
    assert.equal(status({ signal: 2 }), 0);
  });

  it('an exit without code or signal is a failure', () => {
    assert.equal(status({}), 1);
  });
});

describe('closing message', () => {
  it('uses systemd-nspawn\'s wording', () => {
    assert.deepEqual(outcomeMessage({ kind: 'exited', code: 0 }, 'deb'), { text: 'Container deb exited successfully.', always: false });
    assert.deepEqual(outcomeMessage({ kind: 'exited', code: 3 }, 'deb'), { text: 'Container deb failed with error code 3.', always: false });
    assert.deepEqual(outcomeMessage({ kind: 'poweroff' }, 'deb'), { text: 'Container deb has been shut down.', always: false });
    assert.deepEqual(outcomeMessage({ kind: 'reboot' }, 'deb'), { text: 'Container deb is being rebooted.', always: false });
  });

  it('always shows death by a signal, named without SIG as nspawn does', () => {
    assert.deepEqual(outcomeMessage({ kind: 'killed', signal: 9 }, 'deb'), { text: 'Container deb terminated by signal KILL.', always: true });
    assert.equal(outcomeMessage({ kind: 'killed', signal: 37 }, 'x').text, 'Container x terminated by signal RTMIN+3.');
  });
});
