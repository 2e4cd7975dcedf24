/**
 * The handover addon (native/addon/handover-gate.c) in a Node of its own:
 * after holdStopSignals every thread of that Node blocks SIGTERM and SIGINT
 * (libuv's thread pool and V8's workers included, not only the calling
 * thread), a SIGTERM sent then stays pending instead of reaching a handler,
 * and releaseStopSignals hands it to Node's handler after all. No root.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { HANDOVER_ADDON_PATH } from '../../src/runtime/handover-gate.js';

/** Runs in the child: loads the addon, wakes libuv's thread pool, holds, signals itself, reports, releases. */
const SCRIPT = `
const fs = require('node:fs');
const blocksStop = (status) => (BigInt('0x' + status.match(/SigBlk:\\s*(\\w+)/)[1]) & 0x4002n) === 0x4002n;
const threads = () => fs.readdirSync('/proc/self/task').map((t) => fs.readFileSync('/proc/self/task/' + t + '/status', 'utf8'));
const m = { exports: {} };
process.dlopen(m, process.argv[1]);
let caught = 0;
process.on('SIGTERM', () => caught++);
fs.readFile('/proc/self/status', () => {
  const before = threads();
  m.exports.holdStopSignals();
  const held = threads();
  process.kill(process.pid, 'SIGTERM');
  setTimeout(() => {
    const pending = (BigInt('0x' + fs.readFileSync('/proc/self/status', 'utf8').match(/ShdPnd:\\s*(\\w+)/)[1]) & 0x4000n) !== 0n;
    const report = { threads: held.length, blockedBefore: before.filter(blocksStop).length, blockedHeld: held.filter(blocksStop).length, caughtWhileHeld: caught, pending };
    m.exports.releaseStopSignals();
    setTimeout(() => console.log(JSON.stringify({ ...report, caughtAfterRelease: caught })), 100);
  }, 100);
});
`;

describe('the handover addon', () => {
  it('holds SIGTERM pending in every thread until released', () => {
    const r = spawnSync(process.execPath, ['-e', SCRIPT, HANDOVER_ADDON_PATH], { encoding: 'utf8', env: { ...process.env, UV_THREADPOOL_SIZE: '2' } });
    assert.equal(r.status, 0, r.stderr);
    const report = JSON.parse(r.stdout) as Record<string, number | boolean>;
    assert.ok((report.threads as number) > 2, `Node runs more threads than one: ${r.stdout}`);
    assert.ok((report.blockedBefore as number) < (report.threads as number), `some thread took SIGTERM before the hold: ${r.stdout}`);
    assert.equal(report.blockedHeld, report.threads, 'every thread blocks SIGTERM and SIGINT');
    assert.equal(report.caughtWhileHeld, 0, 'no handler saw the SIGTERM while held');
    assert.equal(report.pending, true, 'the SIGTERM waits, pending for the process');
    assert.equal(report.caughtAfterRelease, 1, "released, it reaches Node's handler");
  });
});
