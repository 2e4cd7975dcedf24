/**
 * A pure cgroup v2 world (what most users run): the host image booted with
 * SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1, tsnspawn inside it booting Debian 12
 * as a transient service. The guest must reach running with cgroup2 at
 * /sys/fs/cgroup, and the container's cgroup must be gone afterwards.
 * Needs root.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BootProbe } from '../harness/boot-probe.js';
import { HostMachine, TSNSPAWN_INSIDE } from '../harness/host-machine.js';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';

const skip = rootSkipReason();

describe('booting under a pure cgroup v2 host', { skip }, () => {
  let host: HostMachine;
  before(async () => {
    host = await HostMachine.boot({ unified: true, machines: { debian12: image('debian12'), busybox: image('busybox') } });
  });
  after(async () => host?.shutdown());

  it('the host world is pure v2', async () => {
    const r = await host.sh('stat -f -c %T /sys/fs/cgroup', { direct: true });
    assert.equal(r.stdout.trim(), 'cgroup2fs');
  });

  it('a command container gets a writable cgroup2 at /sys/fs/cgroup rooted at its own cgroup', async () => {
    const r = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', '/var/lib/machines/busybox', '/bin/sh', '-c', 'awk \'$5=="/sys/fs/cgroup"{print $(NF-2)}\' /proc/self/mountinfo; grep ^0:: /proc/self/cgroup; mkdir /sys/fs/cgroup/sub && echo writable']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'cgroup2\n0::/\nwritable\n');
  });

  it('Debian 12 boots to running, powers off with exit 0 and leaves no cgroup behind', async () => {
    const probe = new BootProbe({ parent: host.share });
    try {
      const r = await host.run([TSNSPAWN_INSIDE, '-q', '--console=pipe', '-D', '/var/lib/machines/debian12', ...probe.args(), '-b', ...probe.initArgs()], { timeoutMs: 120_000 });
      assert.equal(r.exitCode, 0, r.stderr);
      const facts = probe.boot(1);
      assert.ok(facts, 'the probe ran');
      assert.match(facts.state!, /^(running|degraded)$/);
      assert.equal(facts.state, 'running', `failed units: ${facts.failed}`);
      assert.equal(facts.cgroupfs, 'cgroup2fs', 'cgroup2 at /sys/fs/cgroup');
      // The cgroup namespace is rooted at the container's cgroup.
      assert.match(facts.cgroup!, /(^| )0::\/system\.slice\/tsnspawn-probe\.service( |$)/);
      const left = await host.sh('find /sys/fs/cgroup -type d -name "tsnspawn-*"', { direct: true });
      assert.equal(left.stdout.trim(), '', 'the container cgroup was removed');
    } finally {
      probe.remove();
    }
  });
});
