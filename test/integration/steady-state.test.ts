/**
 * Who holds a running container: once the payload runs, tsnspawn's pid is
 * the native supervisor (Node execve()d into tsnspawn-helper --supervise),
 * the monitor its child; signals, the exit status and cleanup still work
 * as before. Needs root.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { image } from '../harness/images.js';
import { HELPER } from '../harness/paths.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, start } from '../harness/run.js';
import { snapshot } from '../harness/host-state.js';

const skip = rootSkipReason();

const exeOf = (pid: number): string | undefined => {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
};
const childrenOf = (pid: number): number[] => {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

/** The supervisor has SIGTERM blocked (it reads it from a signalfd): from then on a signal is handled, not fatal. */
const handlesSigterm = (pid: number): boolean => {
  try {
    const blk = /^SigBlk:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return blk !== null && (BigInt(`0x${blk[1]}`) & (1n << 14n)) !== 0n;
  } catch {
    return false;
  }
};

async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  assert.fail(`timed out waiting until ${what}`);
}

describe('the steady state is held by native code', { skip }, () => {
  let tree = '';
  let flags = '';
  before(() => {
    tree = image('busybox');
    flags = mkdtempSync('/var/tmp/tsnspawn-steady-');
  });
  after(() => rmSync(flags, { recursive: true, force: true }));

  it("tsnspawn's own pid becomes the supervisor, the monitor stays its child, and the command's status comes back", async () => {
    const before = snapshot();
    const proc = start(['-q', '-P', '--register=no', '-D', tree, `--bind=${flags}:/flags`, '/bin/sh', '-c', 'touch /flags/up; while [ ! -e /flags/go ]; do sleep 0.05; done; exit 5']);
    const pid = proc.pid!;
    try {
      // exe changes during the execve, the command line a moment later.
      await until("the supervisor runs in tsnspawn's pid", () => exeOf(pid) === HELPER && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--supervise'));
      const kids = childrenOf(pid);
      assert.equal(kids.length, 1, 'one child: the monitor');
      assert.equal(exeOf(kids[0]!), HELPER);
    } finally {
      // Always let the container end, or the next case finds its name taken.
      writeFileSync(`${flags}/go`, '');
    }
    const r = await proc;
    assert.equal(r.exitCode, 5, String(r.stderr));
    await assertNoLeaks(before, [tree]);
  });

  it('SIGTERM to the supervisor reaches the container with the kill signal, and a second one kills', async () => {
    rmSync(`${flags}/up`, { force: true });
    rmSync(`${flags}/go`, { force: true });
    const before = snapshot();
    const script = 'trap "echo halt-asked" USR1; touch /flags/up; while :; do sleep 0.05; done';
    const proc = start(['--register=no', '--kill-signal=SIGUSR1', '-D', tree, `--bind=${flags}:/flags`, '/bin/sh', '-c', script]);
    const pid = proc.pid!;
    await until('the container runs under the supervisor', () => exeOf(pid) === HELPER && handlesSigterm(pid));
    await until('the payload is up', () => {
      try {
        readFileSync(`${flags}/up`);
        return true;
      } catch {
        return false;
      }
    });
    process.kill(pid, 'SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGTERM');
    const r = await proc;
    assert.equal(r.exitCode, 1);
    assert.match(String(r.stdout), /halt-asked/);
    assert.match(String(r.stderr), /Trying to halt container\. Send SIGTERM again to trigger immediate termination\./);
    assert.match(String(r.stderr), /^tsnspawn: container .* terminated by signal KILL\.$/m);
    await assertNoLeaks(before, [tree]);
  });
});
