/** Signal names and numbers as --kill-signal takes them: src/settings/signals.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSignal, signalName, SIGRTMIN, SIGRTMAX } from '../../src/settings/signals.js';
import { throwsUserError } from './helpers.js';

describe('parseSignal', () => {
  it('accepts names with and without SIG, and numbers', () => {
    assert.equal(parseSignal('TERM', '--kill-signal'), 15);
    assert.equal(parseSignal('SIGTERM', '--kill-signal'), 15);
    assert.equal(parseSignal('15', '--kill-signal'), 15);
    assert.equal(parseSignal('SIGKILL', '--kill-signal'), 9);
    assert.equal(parseSignal('HUP', '--kill-signal'), 1);
    assert.equal(parseSignal('SIGUSR1', '--kill-signal'), 10);
  });

  it('accepts real-time signals relative to SIGRTMIN (34) and SIGRTMAX (64)', () => {
    assert.equal(SIGRTMIN, 34);
    assert.equal(SIGRTMAX, 64);
    assert.equal(parseSignal('RTMIN+3', '--kill-signal'), 37);
    assert.equal(parseSignal('SIGRTMIN+3', '--kill-signal'), 37);
    assert.equal(parseSignal('SIGRTMIN+4', '--kill-signal'), 38);
    assert.equal(parseSignal('RTMIN', '--kill-signal'), 34);
    assert.equal(parseSignal('RTMAX', '--kill-signal'), 64);
    assert.equal(parseSignal('SIGRTMAX-1', '--kill-signal'), 63);
    assert.equal(parseSignal('37', '--kill-signal'), 37);
  });

  it('refuses unknown names, 0, numbers out of range and the glibc-reserved 32/33, naming the option and value', () => {
    for (const bad of ['FOO', 'SIGFOO', '0', '65', '32', '33', '-1', '', 'SIG', 'RTMIN+31', 'RTMIN-1', 'RTMAX+1', '1.5', 'TERM ', '0x0f'])
      throwsUserError(() => parseSignal(bad, '--kill-signal'), `--kill-signal=${bad}`);
  });
});

describe('signalName', () => {
  it('names classic signals with SIG', () => {
    assert.equal(signalName(15), 'SIGTERM');
    assert.equal(signalName(9), 'SIGKILL');
    assert.equal(signalName(2), 'SIGINT');
  });

  it('names real-time signals as SIGRTMIN+N', () => {
    assert.equal(signalName(34), 'SIGRTMIN');
    assert.equal(signalName(37), 'SIGRTMIN+3');
    assert.equal(signalName(38), 'SIGRTMIN+4');
  });

  it('round-trips with parseSignal for every valid number', () => {
    for (let n = 1; n <= 64; n++) {
      if (n === 32 || n === 33) continue;
      assert.equal(parseSignal(signalName(n), '--kill-signal'), n, `signal ${n} (${signalName(n)})`);
    }
  });
});
