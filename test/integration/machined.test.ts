/**
 * Registration with the real systemd-machined, inside the host image (systemd
 * as PID 1), in the hybrid cgroup layout and in pure v2: machinectl sees the
 * container, drives it (shell, reboot, poweroff, terminate), duplicate names
 * are refused, --register=no stays away, and a SIGKILLed tsnspawn leaves
 * nothing registered or running. Needs root.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BootProbe, waitFor } from '../harness/boot-probe.js';
import { HostMachine, TSNSPAWN_INSIDE } from '../harness/host-machine.js';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { machineScopeName, unitObjectPath } from '../harness/systemd-names.js';

const skip = rootSkipReason();
const BUSYBOX = '/var/lib/machines/busybox';
const DEBIAN = '/var/lib/machines/debian12';

for (const unified of [false, true]) {
  describe(`machined registration (${unified ? 'pure cgroup v2' : 'hybrid cgroups'})`, { skip }, () => {
    let host: HostMachine;
    before(async () => {
      host = await HostMachine.boot({ unified, machines: { busybox: image('busybox'), debian12: image('debian12') } });
      const layout = (await host.sh('stat -f -c %T /sys/fs/cgroup; stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null || true', { direct: true })).stdout;
      assert.equal(layout, unified ? 'cgroup2fs\n' : 'tmpfs\ncgroup2fs\n', 'the host image runs the layout under test');
    });
    after(async () => host?.shutdown());

    const machinectl = async (args: string): Promise<string> => (await host.sh(`machinectl --no-pager ${args}`, { direct: true })).stdout;
    const show = async (name: string): Promise<Record<string, string>> =>
      Object.fromEntries(
        (await machinectl(`show ${name}`))
          .split('\n')
          .filter((l) => l.includes('='))
          .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    const listed = async (): Promise<string[]> =>
      (await machinectl('list --no-legend')).split('\n').map((l) => l.split(/\s+/)[0]!).filter(Boolean);

    it('machinectl list/show: leader is the container init, class container, service, root directory; gone after exit', async () => {
      const run = host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'probe-a', '/bin/sh', '-c', 'exec sleep 3']);
      let props: Record<string, string> = {};
      for (let i = 0; i < 50 && props.State !== 'running'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        props = await show('probe-a');
      }
      assert.equal(props.Class, 'container');
      assert.equal(props.Service, 'tsnspawn');
      assert.equal(props.RootDirectory, BUSYBOX);
      assert.equal(props.Unit, 'machine-probe\\x2da.scope');
      const leaderCmd = (await host.sh(`tr '\\0' ' ' < /proc/${props.Leader}/cmdline`, { direct: true })).stdout;
      assert.match(leaderCmd, /^sleep 3/, 'the leader is the container init');
      const r = await run;
      assert.equal(r.exitCode, 0, r.stderr);
      assert.deepEqual(await listed(), []);
    });

    it('machinectl terminate ends a command container', async () => {
      const run = host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'probe-t', '/bin/sleep', '60']);
      for (let i = 0; i < 50 && !(await listed()).includes('probe-t'); i++) await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      await machinectl('terminate probe-t');
      const r = await run;
      assert.equal(r.exitCode, 1, 'killed containers exit 1');
      assert.ok(Date.now() - t0 < 10_000);
      assert.deepEqual(await listed(), []);
    });

    it('once the supervisor holds the container, the helper is the scope\'s controller: a forged RequestStop from another user is ignored; machinectl terminate, also after systemd re-executes, halts it with the kill signal', async () => {
      const script = 'trap "echo got-usr1; exit 7" USR1; echo ready; while :; do sleep 0.1; done';
      // Not quiet (a pipe console would be): "Trying to halt" shows the stop came through tsnspawn's policy, not systemd's own kill.
      const run = host.run([TSNSPAWN_INSIDE, '--console=read-only', '--kill-signal=SIGUSR1', '-D', BUSYBOX, '-M', 'probe-c', '/bin/sh', '-c', script]);
      for (let i = 0; i < 50 && !(await listed()).includes('probe-c'); i++) await new Promise((r) => setTimeout(r, 100));
      const ppid = async (pid: string | number): Promise<number> =>
        Number(/^PPid:\s*(\d+)$/m.exec((await host.sh(`cat /proc/${pid}/status`, { direct: true })).stdout)?.[1]);
      const tsnspawnPid = await ppid(await ppid((await show('probe-c')).Leader!));
      const supervising = async (): Promise<boolean> =>
        (await host.sh(`tr '\\0' ' ' < /proc/${tsnspawnPid}/cmdline`, { direct: true })).stdout.includes(' --supervise ');
      for (let i = 0; i < 50 && !(await supervising()); i++) await new Promise((r) => setTimeout(r, 100));
      assert.ok(await supervising(), 'Node handed the container over to the supervisor');

      const unit = (await machinectl('show probe-c -p Unit --value')).trim();
      const controller = (await host.sh(`systemctl show -p Controller --value '${unit}'`, { direct: true })).stdout.trim();
      assert.match(controller, /^:\d+\.\d+$/, 'the scope has a D-Bus controller');
      const path = unitObjectPath(machineScopeName('probe-c'));
      await host.sh(`setpriv --reuid=65534 --regid=65534 --clear-groups dbus-send --system --type=signal --dest=${controller} ${path} org.freedesktop.systemd1.Scope.RequestStop`, { direct: true });
      await new Promise((r) => setTimeout(r, 1000));
      assert.ok((await listed()).includes('probe-c'), 'a RequestStop from nobody is not obeyed');

      // systemd comes back with a new unique name: the helper follows NameOwnerChanged.
      await host.sh('systemctl daemon-reexec', { direct: true });
      await machinectl('terminate probe-c');
      const r = await run;
      assert.equal(r.exitCode, 7, r.stderr);
      assert.equal(r.stdout.replace(/\r/g, ''), 'ready\ngot-usr1\n');
      assert.match(r.stderr, /Trying to halt container/);
      assert.deepEqual(await listed(), []);
    });

    it('tsnspawn list/exec/stop with machined: listed as registered, exec runs inside, stop ends it and machined forgets it', async () => {
      const run = host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'probe-cli', '/bin/sleep', '60']);
      for (let i = 0; i < 50 && !(await listed()).includes('probe-cli'); i++) await new Promise((r) => setTimeout(r, 100));
      const ours = JSON.parse((await host.sh(`${TSNSPAWN_INSIDE} list --json`, { direct: true })).stdout) as Array<{ name: string; registered: string | null; leader: number }>;
      const entry = ours.find((m) => m.name === 'probe-cli');
      assert.equal(entry?.registered, 'machine');
      assert.equal(String(entry?.leader), (await show('probe-cli')).Leader, 'the same leader machined knows');
      const exec = await host.run([TSNSPAWN_INSIDE, 'exec', 'probe-cli', '/bin/sh', '-c', 'echo "$container $(hostname)"; exit 4']);
      assert.equal(exec.exitCode, 4, exec.stderr);
      assert.equal(exec.stdout, 'systemd-nspawn probe-cli\n');
      const stop = await host.sh(`${TSNSPAWN_INSIDE} stop probe-cli`, { direct: true });
      assert.equal(stop.exitCode, 0, stop.stderr);
      assert.equal((await run).exitCode, 1, 'a container without a kill signal is killed');
      assert.deepEqual(await listed(), []);
    });

    it('machinectl kill signals the container (init traps it), not tsnspawn', async () => {
      const script = 'trap "echo got-usr1; exit 7" USR1; echo ready; while :; do sleep 0.1; done';
      const run = host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'probe-k', '/bin/sh', '-c', script]);
      for (let i = 0; i < 50 && !(await listed()).includes('probe-k'); i++) await new Promise((r) => setTimeout(r, 100));
      // Wait until init has its handler: SigCgt has SIGUSR1 (bit 10) in /proc/LEADER/status.
      const trapped = async (): Promise<boolean> => {
        const leader = (await show('probe-k')).Leader;
        const status = (await host.sh(`cat /proc/${leader}/status 2>/dev/null || true`, { direct: true })).stdout;
        const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(status);
        return m !== null && (BigInt(`0x${m[1]}`) & 0x200n) !== 0n;
      };
      for (let i = 0; i < 50 && !(await trapped()); i++) await new Promise((r) => setTimeout(r, 100));
      await machinectl('kill --kill-whom=leader --signal=SIGUSR1 probe-k');
      const r = await run;
      assert.equal(r.exitCode, 7, r.stderr);
      assert.equal(r.stdout, 'ready\ngot-usr1\n');
      assert.deepEqual(await listed(), []);
    });

    it('--slice and --property go to the scope machined makes; refused with --keep-unit', async () => {
      const args = ['--slice=tsnspawn-test.slice', '--property=MemoryMax=64M', '--property=TasksMax=50', '--property=CPUQuota=20%', '--property=CPUWeight=50'];
      const run = host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'probe-s', ...args, '/bin/sleep', '3']);
      for (let i = 0; i < 50 && !(await listed()).includes('probe-s'); i++) await new Promise((r) => setTimeout(r, 100));
      if (!(await listed()).includes('probe-s')) assert.fail(`not registered: ${(await run).stderr}`);
      const shown = (await host.sh('systemctl show "$(machinectl show probe-s -p Unit --value)" -p Slice -p MemoryMax -p TasksMax -p CPUQuotaPerSecUSec -p CPUWeight', { direct: true })).stdout;
      assert.deepEqual(shown.trim().split('\n').sort(), ['CPUQuotaPerSecUSec=200ms', 'CPUWeight=50', 'MemoryMax=67108864', 'Slice=tsnspawn-test.slice', 'TasksMax=50']);
      const r = await run;
      assert.equal(r.exitCode, 0, r.stderr);
      const refused = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '--keep-unit', '-D', BUSYBOX, '-M', 'probe-s2', '--property=TasksMax=5', '/bin/true']);
      assert.equal(refused.exitCode, 1);
      assert.match(refused.stderr, /^tsnspawn: cannot use --slice\/--property with --keep-unit/);
    });

    it('--register=no leaves machined untouched; systemd gives the container a scope of its own, as nspawn', async () => {
      const script = 'sleep 1.5; echo ran; cat /proc/self/cgroup | grep -c "0::/$"';
      const run = host.run([TSNSPAWN_INSIDE, '-q', '-P', '--register=no', '--slice=tsnspawn-test', '--property=TasksMax=40', '-D', BUSYBOX, '-M', 'probe-n', '/bin/sh', '-c', script]);
      const show = async (): Promise<string> => (await host.sh('systemctl show probe-n.scope -p ActiveState -p Slice -p TasksMax -p Delegate', { direct: true })).stdout;
      let shown = '';
      for (let i = 0; i < 50 && !shown.includes('ActiveState=active'); i++) {
        await new Promise((r) => setTimeout(r, 100));
        shown = await show();
      }
      assert.deepEqual(await listed(), [], 'not registered with machined');
      assert.deepEqual(shown.trim().split('\n').sort(), ['ActiveState=active', 'Delegate=yes', 'Slice=tsnspawn-test.slice', 'TasksMax=40']);
      const r = await run;
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, 'ran\n1\n', 'the container sees its cgroup as the root');
      assert.match(await show(), /ActiveState=inactive/, 'the scope is gone with the container');
    });

    it('--register=no: systemctl stop of its scope reaches tsnspawn, the scope\'s controller', async () => {
      const run = host.run([TSNSPAWN_INSIDE, '-q', '-P', '--register=no', '-D', BUSYBOX, '-M', 'probe-x', '/bin/sleep', '60']);
      const active = async (): Promise<boolean> => (await host.sh('systemctl is-active probe-x.scope || true', { direct: true })).stdout.trim() === 'active';
      for (let i = 0; i < 50 && !(await active()); i++) await new Promise((r) => setTimeout(r, 100));
      const t0 = Date.now();
      await host.sh('systemctl stop probe-x.scope', { direct: true });
      const r = await run;
      assert.equal(r.exitCode, 1, 'killed containers exit 1');
      assert.ok(Date.now() - t0 < 10_000);
      assert.equal(await active(), false);
    });

    it('--register=no: a name whose scope systemd already has gets no scope and fails with one line; the other runs on', async () => {
      // Not another tsnspawn (tsnspawn's own record refuses that first): a scope of the same name.
      const first = host.run(['systemd-run', '-q', '--scope', '--unit=probe-dd', '/bin/sh', '-c', 'sleep 3; echo first-done']);
      const active = async (): Promise<boolean> => (await host.sh('systemctl is-active probe-dd.scope || true', { direct: true })).stdout.trim() === 'active';
      for (let i = 0; i < 50 && !(await active()); i++) await new Promise((r) => setTimeout(r, 100));
      const second = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '--register=no', '-D', BUSYBOX, '-M', 'probe-dd', '/bin/echo', 'second']);
      assert.equal(second.exitCode, 1);
      assert.equal(second.stdout, '', 'the second payload never ran');
      assert.match(second.stderr, /^tsnspawn: cannot get a scope for the container from systemd: .*probe-dd\.scope.* \(step register, op StartTransientUnit\)\n$/);
      const r = await first;
      assert.equal(r.stdout, 'first-done\n');
    });

    it('refuses a name machined already has (a systemd-nspawn container) while that one keeps running; a second tsnspawn of a running name is refused too', async () => {
      const first = host.run(['systemd-nspawn', '-q', '--console=pipe', '-D', BUSYBOX, '-M', 'probe-d', '/bin/sh', '-c', 'sleep 4; echo first-done']);
      for (let i = 0; i < 50 && !(await listed()).includes('probe-d'); i++) await new Promise((r) => setTimeout(r, 100));
      // -x: no tree lock (nspawn's run holds the tree), so the name is what refuses it.
      const second = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-x', '-D', BUSYBOX, '-M', 'probe-d', '/bin/true']);
      assert.equal(second.exitCode, 1);
      assert.match(second.stderr, /^tsnspawn: a machine named 'probe-d' is already registered with systemd-machined/m);
      assert.equal(String((await first).stdout), 'first-done\n');

      const ours = host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'probe-d2', '/bin/sh', '-c', 'sleep 3; echo first-done']);
      for (let i = 0; i < 50 && !(await listed()).includes('probe-d2'); i++) await new Promise((r) => setTimeout(r, 100));
      const again = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-x', '-D', BUSYBOX, '-M', 'probe-d2', '/bin/true']);
      assert.equal(again.exitCode, 1);
      assert.match(again.stderr, /^tsnspawn: a container named 'probe-d2' is already running/m);
      assert.equal((await ours).stdout, 'first-done\n');
    });

    it('SIGKILL of tsnspawn leaves nothing registered or running', async () => {
      const run = host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'probe-k', '/bin/sleep', '300'], { unit: 'probe-k-run' });
      for (let i = 0; i < 50 && !(await listed()).includes('probe-k'); i++) await new Promise((r) => setTimeout(r, 100));
      await host.sh('systemctl kill -s KILL --kill-whom=main probe-k-run.service', { direct: true });
      await run;
      let left: string[] = ['probe-k'];
      for (let i = 0; i < 50 && left.length; i++) {
        await new Promise((r) => setTimeout(r, 100));
        left = await listed();
      }
      assert.deepEqual(left, []);
      const sleeping = await host.sh('pgrep -x sleep || true', { direct: true });
      assert.equal(sleeping.stdout.trim(), '', 'the container died with tsnspawn');
    });

    it('a booted Debian: systemctl -M answers, machinectl reboot restarts it in place, machinectl poweroff ends tsnspawn with 0', async () => {
      const probe = new BootProbe({ parent: host.share, action: 'stay', boots: 1 });
      try {
        const run = host.run([TSNSPAWN_INSIDE, '-q', '--console=read-only', '-D', DEBIAN, '-M', 'deb', ...probe.args(), '-b', ...probe.initArgs()], { timeoutMs: 180_000 });
        await waitFor(() => probe.settled(), 90_000, 'the guest to boot');
        const state = await host.sh('systemctl -M deb is-system-running', { direct: true });
        assert.match(state.stdout, /^(running|degraded)\n$/, state.stderr);
        const leader1 = (await show('deb')).Leader;
        await machinectl('reboot deb');
        await waitFor(() => probe.boot(2) !== undefined, 90_000, 'the guest to come up again');
        const leader2 = (await show('deb')).Leader;
        assert.notEqual(leader2, leader1, 'registered again with the new init');
        await machinectl('poweroff deb');
        const r = await run;
        assert.equal(r.exitCode, 0, r.stderr);
        assert.deepEqual(await listed(), []);
      } finally {
        probe.remove();
      }
    });

    it('with -U: registered, its delegated cgroup belongs to the container\'s root; a booted Debian answers systemctl -M and powers off with 0', async () => {
      const run = host.run([TSNSPAWN_INSIDE, '-q', '-P', '-U', '-x', '-D', BUSYBOX, '-M', 'probe-u', '/bin/sh', '-c', 'exec sleep 5']);
      let props: Record<string, string> = {};
      for (let i = 0; i < 50 && props.State !== 'running'; i++) {
        await new Promise((r) => setTimeout(r, 100));
        props = await show('probe-u');
      }
      assert.equal(props.State, 'running');
      const leader = props.Leader!;
      try {
        const base = (await host.sh(`awk '{print $2}' /proc/${leader}/uid_map`, { direct: true })).stdout.trim();
        assert.ok(Number(base) >= 0x80000, `uid_map base ${base}`);
        // The scope's cgroup as the host's systemd names it (below its own cgroup root); the container is in its payload.
        const scope = (await host.sh(`systemctl show -p ControlGroup --value '${props.Unit}'`, { direct: true })).stdout.trim();
        const dir = `${unified ? '/sys/fs/cgroup' : '/sys/fs/cgroup/unified'}${scope}/payload`;
        const owner = (await host.sh(`stat -c %u '${dir}' '${dir}/cgroup.procs'`, { direct: true })).stdout.trim();
        assert.equal(owner, `${base}\n${base}`, `${dir} and its cgroup.procs belong to the container's root`);
      } finally {
        await run;
      }
      assert.equal((await run).exitCode, 0);
      const deb = host.run([TSNSPAWN_INSIDE, '-q', '--console=read-only', '-U', '-x', '-D', DEBIAN, '-M', 'deb-u', '-b'], { timeoutMs: 180_000 });
      let state = '';
      for (let i = 0; i < 120 && !/^(running|degraded)$/.test(state); i++) {
        await new Promise((r) => setTimeout(r, 500));
        state = (await host.sh('systemctl -M deb-u is-system-running 2>/dev/null || true', { direct: true })).stdout.trim();
      }
      try {
        assert.equal(state, 'running');
      } finally {
        await machinectl('poweroff deb-u');
      }
      assert.equal((await deb).exitCode, 0);
      assert.deepEqual(await listed(), []);
    });

    it('--register=no: a booted Debian reboots in place (its scope given up and asked for again) and powers off with 0', async () => {
      const probe = new BootProbe({ parent: host.share, boots: 2 });
      try {
        const r = await host.run([TSNSPAWN_INSIDE, '-q', '--console=read-only', '--register=no', '-D', DEBIAN, '-M', 'deb-n', ...probe.args(), '-b', ...probe.initArgs()], { timeoutMs: 180_000 });
        assert.equal(r.exitCode, 0, r.stderr);
        assert.ok(probe.boot(2), 'the second boot ran');
        const state = (await host.sh('systemctl is-active deb-n.scope || true', { direct: true })).stdout.trim();
        assert.notEqual(state, 'active', 'the scope is gone');
      } finally {
        probe.remove();
      }
    });

    it('machinectl shell runs a command in a booted Debian; terminate after a reboot halts it cleanly', async () => {
      // The root session it opens (user@0.service) must not stall the guest's
      // shutdown: that needs cgroup-empty notifications from a unified tree.
      const probe = new BootProbe({ parent: host.share, action: 'stay' });
      try {
        const run = host.run([TSNSPAWN_INSIDE, '-q', '--console=read-only', '-D', DEBIAN, '-M', 'deb-shell', ...probe.args(), '-b', ...probe.initArgs()], { timeoutMs: 180_000 });
        await waitFor(() => probe.settled(), 90_000, 'the guest to boot');
        // After a reboot in place, a stop request must still mean one clean halt.
        await machinectl('reboot deb-shell');
        await waitFor(() => probe.boot(2) !== undefined, 90_000, 'the guest to come up again');
        const hi = await host.sh('machinectl shell deb-shell /bin/echo hi', { direct: true });
        assert.match(hi.stdout, /\bhi\b/);
        // terminate: systemd asks us (RequestStop); a booted guest gets the halt signal and stops cleanly.
        await machinectl('terminate deb-shell');
        const r = await run;
        assert.equal(r.exitCode, 0, r.stderr);
        assert.deepEqual(await listed(), []);
      } finally {
        probe.remove();
      }
    });
  });
}
