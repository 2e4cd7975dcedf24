/**
 * tsnspawn@.service, installed by `make install`, inside the host image
 * (systemd as PID 1, the real machined): start waits for the guest, stop
 * shuts it down cleanly, restart, a reboot inside the guest ends in a
 * running container under the same unit (exit 133, forced restart),
 * machinectl poweroff leaves the unit inactive with success, the
 * watchdog (pinged while healthy, a stopped manager caught), and socket
 * activation into a booted guest. Needs root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { HostMachine } from '../harness/host-machine.js';
import { image } from '../harness/images.js';
import { TOP } from '../harness/paths.js';
import { rootSkipReason } from '../harness/root.js';

const skip = rootSkipReason();
const UNIT = 'tsnspawn@deb.service';

describe('tsnspawn@.service (make install, inside the host image)', { skip }, () => {
  let host: HostMachine;
  let copies: string;
  let prefix: string;

  before(async () => {
    // The guest boots writable: a private copy of the cached tree.
    copies = mkdtempSync('/var/tmp/tsnspawn-service-');
    execFileSync('cp', ['-a', '--reflink=auto', image('debian12'), `${copies}/deb`]);
    // network: the unit runs -n (as nspawn's); its ve- link stays in the host image's own namespace.
    host = await HostMachine.boot({ unified: false, network: true, machines: { deb: `${copies}/deb` } });
    // Installed into the shared directory, seen at the same path inside.
    prefix = `${host.share}/prefix`;
    execFileSync('make', ['-s', '-C', TOP, 'install', `PREFIX=${prefix}`], { stdio: ['ignore', 'ignore', 'inherit'] });
    const installed = execFileSync('find', [prefix, '!', '-type', 'd'], { encoding: 'utf8' }).trim().split('\n').sort();
    const manifest = execFileSync('make', ['-s', '-C', TOP, 'install-manifest', `PREFIX=${prefix}`], { encoding: 'utf8' }).trim().split('\n').sort();
    assert.deepEqual(installed, manifest, 'make install makes exactly the listed files');
    await sh(`ln -s ${prefix}/lib/systemd/system/tsnspawn@.service /run/systemd/system/ && systemctl daemon-reload`);
  });

  after(async () => {
    await host?.sh(`systemctl stop ${UNIT}; systemctl reset-failed ${UNIT}`, { direct: true }).catch(() => undefined);
    await host?.shutdown();
    rmSync(copies, { recursive: true, force: true });
  });

  const sh = async (script: string, timeoutMs = 120_000): Promise<string> => {
    const r = await host.sh(script, { direct: true, timeoutMs });
    assert.equal(r.exitCode, 0, `${script}: ${r.stderr}`);
    return r.stdout.trim();
  };
  const prop = async (name: string): Promise<string> => sh(`systemctl show -p ${name} --value ${UNIT}`);
  const leader = async (): Promise<string> => sh('machinectl show deb -p Leader --value 2>/dev/null || true');
  const until = async (what: string, check: () => Promise<boolean>): Promise<void> => {
    for (let i = 0; i < 300; i++) {
      if (await check()) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`timed out waiting until ${what}`);
  };

  it('systemctl start returns once the guest is up; machined names the unit; the installed copy runs it', async () => {
    await sh(`systemctl start ${UNIT}`);
    assert.equal(await prop('ActiveState'), 'active');
    assert.match(await sh('systemctl -M deb is-system-running || true'), /^(running|degraded)$/, 'the guest reported ready before start returned');
    assert.equal(await sh('machinectl show deb -p Unit --value'), UNIT);
    const mainPid = await prop('MainPID');
    await until('the supervisor holds the container', async () => (await sh(`readlink /proc/${mainPid}/exe`)).endsWith('/native/tsnspawn-helper'));
    assert.equal(await sh(`readlink /proc/${mainPid}/exe`), `${prefix}/lib/tsnspawn/native/tsnspawn-helper`);
  });

  it('systemctl restart boots it again', async () => {
    const before = await leader();
    await sh(`systemctl restart ${UNIT}`);
    assert.equal(await prop('ActiveState'), 'active');
    assert.notEqual(await leader(), before);
  });

  it('a reboot inside the guest: exit 133 and systemd starts the same unit again', async () => {
    const before = await leader();
    const restarts = Number(await prop('NRestarts'));
    await sh('systemctl -M deb reboot');
    await until('the guest runs again under the unit', async () => {
      const l = await leader();
      return l !== '' && l !== before && (await prop('ActiveState')) === 'active';
    });
    assert.equal(Number(await prop('NRestarts')), restarts + 1);
  });

  it('the watchdog is pinged while the container runs; a stopped manager is caught', async () => {
    await sh(`mkdir -p /run/systemd/system/${UNIT}.d && printf '[Service]\\nWatchdogSec=2s\\nLimitCORE=0\\n' > /run/systemd/system/${UNIT}.d/watchdog.conf && systemctl daemon-reload`);
    try {
      await sh(`systemctl restart ${UNIT}`);
      // Four intervals, most of them after the handover to the supervisor.
      await new Promise((r) => setTimeout(r, 8000));
      assert.equal(await prop('ActiveState'), 'active');
      assert.notEqual(await prop('WatchdogTimestampMonotonic'), '0', 'a ping arrived');
      await sh(`systemctl kill -s SIGSTOP --kill-whom=main ${UNIT}`);
      await until('systemd notices', async () => (await prop('Result')) === 'watchdog');
      await until('the unit is down', async () => /inactive|failed/.test(await prop('ActiveState')));
      assert.equal(await sh('machinectl list --no-legend | wc -l'), '0', 'the container went with its manager');
    } finally {
      await sh(`rm -r /run/systemd/system/${UNIT}.d && systemctl daemon-reload && systemctl reset-failed ${UNIT} || true`);
    }
  });

  it('systemctl stop shuts the guest down cleanly, with success', async () => {
    await sh(`systemctl start ${UNIT}`);
    await sh(`systemctl stop ${UNIT}`);
    assert.equal(await prop('ActiveState'), 'inactive');
    assert.equal(await prop('Result'), 'success');
    assert.equal(await prop('ExecMainStatus'), '0', 'the guest shut down, not killed');
  });

  it('socket activation: a socket unit on the host starts a tsnspawn service whose guest takes the socket over and answers', async () => {
    // Loopback only; a port per test run.
    const port = 20000 + (process.pid % 20000);
    const dir = `${host.share}/echo`;
    mkdirSync(dir);
    writeFileSync(`${dir}/echo.socket`, `[Socket]\nListenStream=127.0.0.1:${port}\nAccept=yes\n`);
    writeFileSync(`${dir}/echo@.service`, '[Service]\nExecStart=/bin/echo hello-from-the-guest\nStandardInput=socket\nStandardOutput=socket\n');
    writeFileSync(`${dir}/tsnspawn-echo.socket`, `[Socket]\nListenStream=127.0.0.1:${port}\n`);
    writeFileSync(
      `${dir}/tsnspawn-echo.service`,
      `[Service]\nType=notify\nExecStart=${prefix}/bin/tsnspawn -q --keep-unit --notify-ready=yes -D /var/lib/machines/deb -M deb-echo ` +
        `--bind-ro=${dir}/echo.socket:/run/systemd/system/echo.socket --bind-ro=${dir}/echo@.service:/run/systemd/system/echo@.service -b systemd.wants=echo.socket\n`,
    );
    try {
      await sh(`ln -s ${dir}/tsnspawn-echo.socket ${dir}/tsnspawn-echo.service /run/systemd/system/ && systemctl daemon-reload && systemctl start tsnspawn-echo.socket`);
      // The first connection starts the container; its systemd answers on the socket it was given.
      const answer = await sh(`timeout 90 bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}; cat <&3'`);
      assert.equal(answer, 'hello-from-the-guest');
      // Up (the guest said READY=1 after its socket answered).
      await until('the service is active', async () => (await sh('systemctl is-active tsnspawn-echo.service || true')) === 'active');
    } finally {
      await host.sh('systemctl stop tsnspawn-echo.socket tsnspawn-echo.service; rm -f /run/systemd/system/tsnspawn-echo.*; systemctl daemon-reload', { direct: true });
    }
  });

  it('machinectl poweroff leaves the unit inactive with result success; nothing left registered', async () => {
    await sh(`systemctl start ${UNIT}`);
    await sh('machinectl poweroff deb');
    await until('the unit stops', async () => (await prop('ActiveState')) === 'inactive');
    assert.equal(await prop('Result'), 'success');
    assert.equal(await sh('machinectl list --no-legend | wc -l'), '0');
    assert.deepEqual(readdirSync(prefix).sort(), ['bin', 'lib']);
  });
});
