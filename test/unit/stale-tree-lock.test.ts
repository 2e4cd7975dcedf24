/**
 * The sweep of a SIGKILLed container's tree lock files (src/runtime/stale-tree-lock.ts):
 * a file nobody holds a lock on goes; one another process holds (here a BSD lock, which
 * /proc/locks lists as nspawn's OFD locks are) stays. Needs python3, not root.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, describe, it } from 'node:test';
import { removeStaleTreeLock } from '../../src/runtime/stale-tree-lock.js';

describe('stale tree lock files', () => {
  const dir = mkdtempSync(`${tmpdir()}/tsnspawn-lock-test-`);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('removes the files nobody locks, keeps the one another process holds, and takes a missing file as gone', async () => {
    const [held, free, missing] = [`${dir}/.#tree.lck`, `${dir}/inode-1:2`, `${dir}/gone`];
    writeFileSync(held, '');
    writeFileSync(free, '');
    // One process that holds the lock itself (flock(1) would pass it on to its command).
    const holder = spawn('python3', ['-c', 'import fcntl, sys, time\nf = open(sys.argv[1])\nfcntl.flock(f, fcntl.LOCK_EX)\nprint("locked", flush=True)\ntime.sleep(30)', held], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((r) => holder.stdout.once('data', r));
      assert.ok(readFileSync('/proc/locks', 'utf8').length > 0);
      assert.deepEqual(removeStaleTreeLock({ local: held, global: free }), [held]);
      assert.ok(existsSync(held), 'a held lock file stays');
      assert.ok(!existsSync(free), 'a free one goes');
      assert.deepEqual(removeStaleTreeLock({ local: missing, global: free }), []);
    } finally {
      holder.kill('SIGKILL');
    }
    await new Promise((r) => holder.once('exit', r));
    assert.deepEqual(removeStaleTreeLock({ local: held, global: free }), [], 'once its holder is gone');
    assert.ok(!existsSync(held));
  });
});
