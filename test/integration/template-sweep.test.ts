/**
 * --template and a SIGKILL mid-copy (src/image/template.ts): the copy goes
 * into a hidden sibling that the kill leaves behind; the cp dies with
 * tsnspawn, and the next --template start into the same directory removes
 * the sibling (its tsnspawn is gone, by pid and start time), keeps one whose
 * tsnspawn lives, and makes the tree. The kill lands mid-copy without
 * timing: a file of the template is held by a write lease
 * (test/harness/lease-hold.py), so cp blocks inside its open() of it, and
 * the lease holder hears of that open. Needs root.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { processStart } from '../../src/runtime/state.js';
import { waitFor } from '../harness/boot-probe.js';
import { snapshot } from '../harness/host-state.js';
import { image } from '../harness/images.js';
import { TOP } from '../harness/paths.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, runClean, start } from '../harness/run.js';

const skip = rootSkipReason();
const STAGING = '.#tsnspawn-template-';

/** Pids of running (not zombie) processes whose command line mentions text. */
function processesMentioning(text: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const state = stat[stat.lastIndexOf(')') + 2];
      if (state !== 'Z' && readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) out.push(Number(entry));
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

describe('--template after a SIGKILL mid-copy', { skip }, () => {
  let scratch = '';
  let template = '';
  let parent = '';
  before(() => {
    scratch = mkdtempSync('/var/tmp/tsnspawn-template-sweep-');
    template = `${scratch}/template`;
    parent = `${scratch}/machines`;
    execFileSync('cp', ['-a', image('busybox'), template]);
    writeFileSync(`${template}/held-by-a-lease`, 'copied\n');
    mkdirSync(parent);
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  it('the next start removes the hidden copy the kill left, keeps a live one, and makes the tree', async () => {
    const target = `${parent}/guest`;
    const holder = spawn('python3', [`${TOP}/test/harness/lease-hold.py`, `${template}/held-by-a-lease`], { stdio: ['pipe', 'pipe', 'inherit'] });
    let heard = '';
    holder.stdout.on('data', (d: Buffer) => (heard += d.toString()));
    const holderExit = new Promise((resolve) => holder.on('exit', resolve));
    try {
      await waitFor(() => heard.includes('held'), 30_000, 'the lease on the template file');
      const before = snapshot();
      const killed = start(['-q', '-P', '--register=no', `--template=${template}`, '-D', target, '/bin/true']);
      // cp is inside open() of the leased file: the copy has begun and cannot end.
      await waitFor(() => heard.includes('opened'), 60_000, 'cp to open the leased file');
      const copiers = processesMentioning(`${parent}/${STAGING}`);
      assert.ok(copiers.length > 0, 'a cp writes into a hidden sibling');
      killed.kill('SIGKILL');
      const r = await killed;
      assert.equal(r.signal, 'SIGKILL');
      // The cp dies with tsnspawn (its parent-death signal), though it is still blocked in open().
      await waitFor(() => processesMentioning(`${parent}/${STAGING}`).length === 0, 30_000, 'the cp to die with tsnspawn');
      await assertNoLeaks(before, [template, target]);
      const left = readdirSync(parent);
      assert.equal(left.length, 1, `one hidden copy left, not the tree: ${left}`);
      assert.match(left[0]!, new RegExp(`^\\.#tsnspawn-template-${killed.pid}-\\d+-guest$`), 'named by the killed tsnspawn');
    } finally {
      holder.stdin.end();
      await holderExit;
    }

    // Beside it: one of a live tsnspawn (this test's pid and start time: kept),
    // and one whose pid lives but with another start time (a reused pid: stale).
    const live = `${STAGING}${process.pid}-${processStart(process.pid)}-other`;
    const reused = `${STAGING}${process.pid}-1-other`;
    mkdirSync(`${parent}/${live}`);
    mkdirSync(`${parent}/${reused}`);
    const r = await runClean(['-q', '-P', '--register=no', `--template=${template}`, '-D', target, '/bin/cat', '/held-by-a-lease'], [template, target]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'copied\n');
    assert.deepEqual(readdirSync(parent).sort(), [live, 'guest'].sort());
  });
});
