/**
 * machinectl bind into a booted tsnspawn container, with the real
 * systemd-machined inside the host image: machined mounts into
 * /run/systemd/nspawn/propagate/NAME, the mount propagates to the
 * container's /run/host/incoming, and machined moves it into place. The
 * propagation directory is there while the container runs and gone after,
 * also after a SIGKILL of tsnspawn (swept at the next start). Needs root.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BootProbe, waitFor } from '../harness/boot-probe.js';
import { HostMachine, TSNSPAWN_INSIDE } from '../harness/host-machine.js';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';

const skip = rootSkipReason();
const BUSYBOX = '/var/lib/machines/busybox';
const DEBIAN = '/var/lib/machines/debian12';

describe('machinectl bind (real machined in the host image)', { skip }, () => {
  let host: HostMachine;
  before(async () => {
    host = await HostMachine.boot({ unified: false, machines: { busybox: image('busybox'), debian12: image('debian12') } });
  });
  after(async () => host?.shutdown());

  const sh = (script: string) => host.sh(script, { direct: true });
  const listed = async (): Promise<string[]> =>
    (await sh('machinectl --no-pager list --no-legend')).stdout.split('\n').map((l) => l.split(/\s+/)[0]!).filter(Boolean);
  const propagateDir = async (name: string): Promise<boolean> => (await sh(`test -d /run/systemd/nspawn/propagate/${name}`)).exitCode === 0;
  const inside = (name: string, script: string) => host.run([TSNSPAWN_INSIDE, 'exec', name, '/bin/sh', '-c', script]);

  it('a booted Debian: bind with --mkdir, --read-only --mkdir, and onto an existing directory; the directory is visible inside and machinectl exits 0', async () => {
    const probe = new BootProbe({ parent: host.share, action: 'stay' });
    try {
      await sh('mkdir -p /srv/a /srv/b /srv/c && echo from-a > /srv/a/f && echo from-b > /srv/b/f && echo from-c > /srv/c/f');
      const run = host.run([TSNSPAWN_INSIDE, '-q', '--console=read-only', '-x', '-D', DEBIAN, '-M', 'deb-bind', ...probe.args(), '-b', ...probe.initArgs()], { timeoutMs: 180_000 });
      await waitFor(() => probe.settled(), 90_000, 'the guest to boot');
      assert.ok(await propagateDir('deb-bind'), 'the propagation directory exists while the container runs');

      const mkdir = await sh('machinectl bind deb-bind /srv/a /mnt/new/a --mkdir');
      assert.equal(mkdir.exitCode, 0, mkdir.stderr);
      const ro = await sh('machinectl bind deb-bind /srv/b /mnt/ro-b --read-only --mkdir');
      assert.equal(ro.exitCode, 0, ro.stderr);
      const existing = await sh('machinectl bind deb-bind /srv/c /opt');
      assert.equal(existing.exitCode, 0, existing.stderr);

      const seen = await inside('deb-bind', 'cat /mnt/new/a/f /mnt/ro-b/f /opt/f; echo x > /mnt/new/a/w && echo rw-ok; echo x > /mnt/ro-b/w 2>/dev/null || echo ro-refused');
      assert.equal(seen.stdout, 'from-a\nfrom-b\nfrom-c\nrw-ok\nro-refused\n', seen.stderr);
      assert.equal((await sh('cat /srv/a/w')).stdout, 'x\n', 'the write went to the host directory');

      // Without --mkdir, a missing destination is machined's error, and nothing is left half done.
      const missing = await sh('machinectl bind deb-bind /srv/a /does/not/exist');
      assert.notEqual(missing.exitCode, 0);
      assert.deepEqual((await sh('ls -A /run/systemd/nspawn/propagate/deb-bind')).stdout, '', 'machined cleaned its temporary mount up');

      await sh('machinectl poweroff deb-bind');
      const r = await run;
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(await propagateDir('deb-bind'), false, 'the propagation directory is removed when the container ends');
      assert.deepEqual(await listed(), []);
    } finally {
      probe.remove();
    }
  });

  it('a command container: bind works, and the directory is removed on exit before the handover, after it, and swept after a SIGKILL', async () => {
    await sh('mkdir -p /srv/d && echo from-d > /srv/d/f');
    // Ends before Node hands over (under a second): Node removes it.
    const short = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'bb-short', '/bin/true']);
    assert.equal(short.exitCode, 0, short.stderr);
    assert.equal(await propagateDir('bb-short'), false, 'removed by Node');

    // Runs past the handover: the supervisor removes it.
    const run = host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'bb-bind', '/bin/sh', '-c', 'while [ ! -e /mnt/d/f ]; do sleep 0.1; done; cat /mnt/d/f; sleep 1.5']);
    for (let i = 0; i < 50 && !(await listed()).includes('bb-bind'); i++) await new Promise((r) => setTimeout(r, 100));
    const bind = await sh('machinectl bind bb-bind /srv/d /mnt/d --mkdir');
    assert.equal(bind.exitCode, 0, bind.stderr);
    const r = await run;
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'from-d\n');
    assert.equal(await propagateDir('bb-bind'), false, 'removed by the supervisor');

    // SIGKILL of tsnspawn: left behind, swept at the next start.
    const killed = host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'bb-kill', '/bin/sleep', '300'], { unit: 'bb-kill-run' });
    for (let i = 0; i < 50 && !(await listed()).includes('bb-kill'); i++) await new Promise((r) => setTimeout(r, 100));
    await sh('systemctl kill -s KILL --kill-whom=main bb-kill-run.service');
    await killed;
    for (let i = 0; i < 50 && (await listed()).includes('bb-kill'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(await propagateDir('bb-kill'), 'nobody was left to remove it');
    const next = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'bb-next', '/bin/true']);
    assert.equal(next.exitCode, 0, next.stderr);
    assert.equal(await propagateDir('bb-kill'), false, 'swept with the stale record at the next start');
  });
});
