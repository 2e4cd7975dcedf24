/**
 * The system bus and machined restarted under a running container, inside
 * the host image (systemd as PID 1, the real dbus-daemon and machined):
 * the helper dials the bus again, and `machinectl terminate` (or
 * `systemctl stop` of a --register=no scope) still stops the container
 * through tsnspawn's own stop policy (its --kill-signal, trapped by the
 * payload), not through systemd's SIGTERM and, 90 s later, SIGKILL; machined
 * forgets the machine and its scope is gone. A booted Debian halts
 * cleanly (exit 0). systemd-nspawn leaves its container running and
 * registered after a D-Bus restart: its scope waits in stop-sigterm for
 * systemd's SIGKILL (TimeoutStopSec). Needs root.
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
// A stop that comes through tsnspawn sends --kill-signal=SIGUSR1; systemd's own SIGTERM leaves this init running.
const TRAP = 'trap "echo got-usr1; exit 7" USR1; echo ready; while :; do sleep 0.1; done';

/**
 * host.run's exit status is systemd-run's, and systemd-run --wait loses
 * its own bus connection when dbus restarts (it then exits 0 at once,
 * while the service and its pipes go on): tsnspawn's status comes on
 * stdout instead, after the container's output.
 */
function started(host: HostMachine, args: string[]) {
  const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return host.sh(`${TSNSPAWN_INSIDE} ${quoted}; echo "tsnspawn-exit=$?"`).then((r) => {
    const m = /tsnspawn-exit=(\d+)\n$/.exec(r.stdout);
    return { exitCode: m ? Number(m[1]) : -1, stdout: m ? r.stdout.slice(0, m.index) : r.stdout, stderr: r.stderr };
  });
}

for (const unified of [false, true]) describe(`D-Bus and machined restarted under a running container (${unified ? 'pure cgroup v2' : 'hybrid cgroups'})`, { skip }, () => {
  let host: HostMachine;
  before(async () => {
    host = await HostMachine.boot({ unified, machines: { busybox: image('busybox'), debian12: image('debian12') } });
  });
  after(async () => host?.shutdown());

  const sh = async (script: string): Promise<string> => (await host.sh(script, { direct: true })).stdout;
  const listed = async (): Promise<string[]> =>
    (await sh('machinectl --no-pager list --no-legend')).split('\n').map((l) => l.split(/\s+/)[0]!).filter(Boolean);
  const ppid = async (pid: string | number): Promise<number> => Number(/^PPid:\s*(\d+)$/m.exec(await sh(`cat /proc/${pid}/status`))?.[1]);
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** The helper (init's parent) holds a connection to the bus, and systemd is back on it. */
  const helperOnBus = async (leader: string | number): Promise<boolean> => {
    const helper = await ppid(leader);
    const conns = await sh('busctl --system list --no-legend --unique 2>/dev/null; busctl --system status org.freedesktop.systemd1 >/dev/null 2>&1 && echo systemd-there');
    return conns.split('\n').some((l) => l.split(/\s+/)[1] === String(helper)) && conns.includes('systemd-there');
  };
  const restartUnder = async (unit: string, leader: string): Promise<void> => {
    const r = await host.sh(`systemctl restart ${unit}`, { direct: true });
    assert.equal(r.exitCode, 0, r.stderr);
    let back = false;
    for (let i = 0; i < 100 && !(back = await helperOnBus(leader)); i++) await pause(100);
    assert.ok(back, `the helper is on the bus again after the restart of ${unit}`);
  };

  for (const unit of ['dbus', 'systemd-machined']) {
    it(`systemctl restart ${unit}: the container stays registered, machinectl terminate stops it through tsnspawn, machined forgets it`, async () => {
      const name = `probe-${unit === 'dbus' ? 'bus' : 'md'}`;
      const run = started(host, ['--console=pipe', '--kill-signal=SIGUSR1', '-D', BUSYBOX, '-M', name, '/bin/sh', '-c', TRAP]);
      for (let i = 0; i < 50 && !(await listed()).includes(name); i++) await pause(100);
      const leader = (await sh(`machinectl show ${name} -p Leader --value`)).trim();
      const scope = (await sh(`machinectl show ${name} -p Unit --value`)).trim();
      assert.match(leader, /^\d+$/, `${name} is registered`);

      await restartUnder(unit, leader);
      assert.ok((await listed()).includes(name), 'still registered after the restart');
      assert.equal((await sh(`machinectl show ${name} -p Leader --value`)).trim(), leader, 'the same init');

      await sh(`machinectl terminate ${name}`);
      const r = await run;
      assert.equal(r.exitCode, 7, r.stderr);
      assert.equal(r.stdout, 'ready\ngot-usr1\n', 'the stop came as tsnspawn\'s kill signal');
      assert.doesNotMatch(r.stderr, /system bus/, 'no warning: the bus came back');
      assert.deepEqual(await listed(), []);
      assert.equal((await sh(`systemctl show -p ActiveState --value '${scope}'`)).trim(), 'inactive', 'the scope is gone');
      assert.equal((await host.sh(`test -e /proc/${leader}`, { direct: true })).exitCode, 1, 'init is gone');
    });
  }

  it('a booted Debian: after systemctl restart dbus, machinectl terminate halts it cleanly (exit 0), not systemd\'s SIGKILL 90 s later', async () => {
    const probe = new BootProbe({ parent: host.share, action: 'stay' });
    try {
      const run = started(host, ['-q', '--console=read-only', '-D', DEBIAN, '-M', 'deb-bus', ...probe.args(), '-b', ...probe.initArgs()]);
      await waitFor(() => probe.settled(), 90_000, 'the guest to boot');
      const leader = (await sh('machinectl show deb-bus -p Leader --value')).trim();
      await restartUnder('dbus', leader);
      await sh('machinectl terminate deb-bus');
      const r = await run;
      assert.equal(r.exitCode, 0, r.stderr);
      assert.deepEqual(await listed(), []);
    } finally {
      probe.remove();
    }
  });

  it('--register=no: after systemctl restart dbus, systemctl stop of its scope stops it through tsnspawn', async () => {
    const run = started(host, ['--console=pipe', '--kill-signal=SIGUSR1', '--register=no', '-D', BUSYBOX, '-M', 'probe-rn', '/bin/sh', '-c', TRAP]);
    const active = async (): Promise<boolean> => (await sh('systemctl is-active probe-rn.scope || true')).trim() === 'active';
    for (let i = 0; i < 50 && !(await active()); i++) await pause(100);
    const ours = JSON.parse(await sh(`${TSNSPAWN_INSIDE} list --json`)) as Array<{ name: string; leader: number }>;
    const leader = String(ours.find((m) => m.name === 'probe-rn')?.leader ?? '');
    assert.match(leader, /^\d+$/, 'tsnspawn lists the container with its init');

    await restartUnder('dbus', leader);
    await sh('systemctl stop probe-rn.scope');
    const r = await run;
    assert.equal(r.exitCode, 7, r.stderr);
    assert.equal(r.stdout, 'ready\ngot-usr1\n', 'the stop came as tsnspawn\'s kill signal');
    assert.doesNotMatch(r.stderr, /system bus/);
    assert.equal(await active(), false);
  });
});
