/**
 * -a/--as-pid2: the command runs as PID 2 under the helper's stub init,
 * which reaps orphans (a command as PID 1 leaves them as zombies; checked
 * against systemd-nspawn -a), shows no host environment in /proc/1/environ,
 * passes on the exit code and turns a halt signal into SIGTERM + SIGHUP for
 * the command. Needs root (and gcc, for the probe).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rootSkipReason } from '../harness/root.js';
import { ProbeTree } from '../harness/probe-tree.js';
import { runClean, start } from '../harness/run.js';

const skip = rootSkipReason();

describe('-a/--as-pid2', { skip }, () => {
  let probe: ProbeTree;
  let tree = '';
  before(() => {
    probe = new ProbeTree('orphan-probe.c');
    tree = probe.tree;
  });
  after(() => probe.remove());

  it('reaps orphans a command as PID 1 would leave as zombies, as systemd-nspawn -a', async () => {
    const zombies = async (...options: string[]): Promise<string> => {
      const r = await probe.ours(options);
      assert.equal(r.exitCode, 0, r.stderr);
      return r.stdout;
    };
    assert.equal(await zombies(), 'zombies=1\n', 'as PID 1 the probe keeps its orphan as a zombie');
    assert.equal(await zombies('-a'), 'zombies=0\n');
    assert.equal(await probe.theirs(['-a']), 'zombies=0');
  });

  it('is PID 2 under a stub init that shows no host arguments or environment, and passes on the exit code', async () => {
    const script = 'echo pid=$$; cat /proc/1/comm; tr "\\0" "\\n" < /proc/1/cmdline | grep . ; tr "\\0" "\\n" < /proc/1/environ | grep . ; exit 7';
    const r = await runClean(['-q', '-P', '-D', tree, '-a', '/bin/sh', '-c', script], [tree], { env: { TSNSPAWN_TEST_SECRET: 'host-only' } });
    assert.equal(r.exitCode, 7, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 3), ['pid=2', '(stub-init)', '(stub-init)'], "PID 1's name and command line: the helper's arguments (a host pid) are gone");
    assert.deepEqual(lines.slice(3).map((l) => l.split('=')[0]), ['container', 'container_uuid'], "PID 1's environment: only the container's variables");
    const refused = await runClean(['-q', '-D', tree, '-a', '-b'], [tree]);
    assert.match(refused.stderr, /^tsnspawn: cannot combine --as-pid2 with --boot/);
  });

  it('turns a halt signal to the stub init into SIGTERM and SIGHUP for the command; a clean stop exits 0', async () => {
    const child = start(['-q', '--console=pipe', '-D', tree, '-a', '--kill-signal=SIGRTMIN+3', '/bin/sh', '-c', 'trap "echo stopping; exit 3" TERM HUP; echo up; while :; do sleep 0.1; done']);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    for (let i = 0; i < 100 && !out.includes('up'); i++) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGTERM');
    const r = await child;
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(out, 'up\nstopping\n');
  });
});
