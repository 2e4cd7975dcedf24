/**
 * -b boots the tree's own init: Debian 12 and 13 reach running (or no more
 * failed units than under systemd-nspawn), shut down cleanly on SIGTERM,
 * reboot in place, power off with exit 0; readiness is relayed to a
 * service manager's NOTIFY_SOCKET; busybox init boots and powers off.
 * Needs root.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { BootProbe, waitFor } from '../harness/boot-probe.js';
import { snapshot } from '../harness/host-state.js';
import { image } from '../harness/images.js';
import { TOP } from '../harness/paths.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, runClean, start } from '../harness/run.js';

const skip = rootSkipReason();

/** Failed units of the same tree booted by systemd-nspawn, for comparison. */
async function nspawnFailedUnits(tree: string): Promise<string[]> {
  const probe = new BootProbe();
  try {
    const child = spawn(
      'systemd-nspawn',
      ['--register=no', '--keep-unit', '-q', '--console=pipe', '-D', tree, ...probe.args(), '-b', ...probe.initArgs()],
      { stdio: 'ignore' },
    );
    await new Promise((resolve) => child.on('exit', resolve));
    return (probe.boot(1)?.failed ?? '?').split(' ').filter(Boolean);
  } finally {
    probe.remove();
  }
}

for (const release of ['debian12', 'debian13']) {
  describe(`booting ${release}`, { skip }, () => {
    let tree = '';
    before(() => {
      tree = image(release);
    });

    it('reaches running (or no more failed units than systemd-nspawn), is a container, then powers off with exit 0', async () => {
      const probe = new BootProbe({ kmsg: true });
      try {
        const uuid = '5e1f0c3a-8b7d-4e2f-9a6c-1d2e3f4a5b6c';
        // An earlier boot committed a machine id into the cached tree; empty it
        // so this boot shows systemd initialising it from $container_uuid.
        writeFileSync(`${tree}/etc/machine-id`, '');
        const r = await runClean(['-D', tree, '--uuid', uuid, ...probe.args(), '-b', ...probe.initArgs()], [tree], { timeoutMs: 120_000 });
        const facts = probe.boot(1);
        assert.ok(facts, `the probe did not run; output:\n${r.stdout}\n${r.stderr}`);
        assert.equal(r.exitCode, 0, r.stderr);
        // The console shows the boot.
        assert.match(r.stdout, /Reached target .*[Mm]ulti-[Uu]ser/);
        assert.match(r.stderr, /has been shut down\./);
        assert.equal(facts.virt, 'systemd-nspawn', 'tsnspawn says it is systemd-nspawn (--container-name)');
        assert.equal(facts.machine_id, uuid.replace(/-/g, ''), '/etc/machine-id is initialised from --uuid');
        assert.equal(facts.kmsg, '0', '/proc/kmsg is masked');
        if (facts.state !== 'running') {
          assert.equal(facts.state, 'degraded');
          const ours = facts.failed!.split(' ').filter(Boolean);
          const theirs = await nspawnFailedUnits(tree);
          console.log(`${release}: failed units under tsnspawn: [${ours}], under systemd-nspawn: [${theirs}]`);
          assert.ok(ours.length <= theirs.length, `failed units: tsnspawn [${ours}] vs systemd-nspawn [${theirs}]`);
        }
      } finally {
        probe.remove();
      }
    });

    it('systemctl reboot inside brings the same container up again with a new boot id', async () => {
      const probe = new BootProbe({ boots: 2 });
      try {
        const r = await runClean(['-q', '-D', tree, ...probe.args(), '-b', ...probe.initArgs()], [tree], { timeoutMs: 180_000 });
        assert.equal(r.exitCode, 0, r.stderr);
        const [one, two] = [probe.boot(1), probe.boot(2)];
        assert.ok(one && two, 'both boots ran the probe');
        assert.notEqual(one.boot_id, two.boot_id);
      } finally {
        probe.remove();
      }
    });

    it('SIGTERM shuts the guest down cleanly (exit 0); a second SIGTERM kills at once', async () => {
      for (const twice of [false, true]) {
        // With a minute-long stop job, only the second SIGTERM can end it quickly.
        const probe = new BootProbe({ action: 'stay', slowStop: twice });
        const before = snapshot();
        try {
          const child = start(['-D', tree, ...probe.args(), '-b', ...probe.initArgs()], { timeoutMs: 120_000 });
          await waitFor(() => probe.settled(), 90_000, 'the guest to finish booting');
          child.kill('SIGTERM');
          if (twice) {
            await new Promise((r) => setTimeout(r, 1000));
            child.kill('SIGTERM');
          }
          const r = await child;
          if (twice) {
            assert.equal(r.exitCode, 1);
            assert.match(String(r.stderr), /terminated by signal KILL/);
          } else {
            assert.equal(r.exitCode, 0, String(r.stderr));
            assert.match(String(r.stderr), /has been shut down/);
          }
          await assertNoLeaks(before, [tree]);
        } finally {
          probe.remove();
        }
      }
    });
  });
}

describe('credentials (--set-credential, --load-credential)', { skip }, () => {
  it("reach a booted Debian's systemd as system credentials", async () => {
    // PID 1's arguments are a container's kernel command line: systemd.run= runs a command once booted.
    const tree = image('debian12');
    const r = await runClean(
      [
        '-q', '-x', '-D', tree, '-b', '--set-credential=tsnspawn.probe:hi-from-host',
        'systemd.run="/bin/cat /run/credentials/@system/tsnspawn.probe"', 'systemd.run_success_action=poweroff', 'systemd.run_failure_action=poweroff',
      ],
      [tree],
      { timeoutMs: 120_000 },
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /cat\[\d+\]: hi-from-host/);
  });

  it('are read-only files in $CREDENTIALS_DIRECTORY for a command, C escapes undone, files read from the host', async () => {
    const tree = image('busybox');
    const dir = mkdtempSync('/var/tmp/tsnspawn-cred-');
    try {
      writeFileSync(`${dir}/token`, 'from-a-file\n');
      const r = await runClean(
        ['-q', '-P', '-D', tree, '--set-credential=greeting:hello\\nworld', `--load-credential=token:${dir}/token`, '/bin/sh', '-c',
          'cd "$CREDENTIALS_DIRECTORY" && pwd && stat -c "%a %n" . greeting token && cat greeting token && (touch x 2>/dev/null || echo read-only)'],
        [tree],
      );
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, '/run/host/credentials\n500 .\n400 greeting\n400 token\nhello\nworldfrom-a-file\nread-only\n');
      const twice = await runClean(['-q', '-D', tree, '--set-credential=a:1', '--set-credential=a:2', '/bin/true'], [tree]);
      assert.match(twice.stderr, /^tsnspawn: cannot use --set-credential for 'a': the credential a is given twice\n$/);
      assert.ok(!twice.stderr.includes(':2'), 'the value stays out of the message');
      const missing = await runClean(['-q', '-D', tree, `--load-credential=x:${dir}/none`, '/bin/true'], [tree]);
      assert.match(missing.stderr, /^tsnspawn: cannot use --load-credential for 'x': cannot read .*\/none: ENOENT\n$/);
      const fifo = await runClean(['-q', '-D', tree, '--load-credential=x:/dev/zero', '/bin/true'], [tree]);
      assert.match(fifo.stderr, /^tsnspawn: cannot use --load-credential for 'x': \/dev\/zero is not a regular file\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('readiness to a service manager (NOTIFY_SOCKET)', { skip }, () => {
  let tree = '';
  let dir = '';
  before(() => {
    tree = image('debian12');
    dir = mkdtempSync('/var/tmp/tsnspawn-notify-');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function bootWithListener(notifyReady: 'yes' | 'no'): Promise<{ msgs: Array<{ t: number; msg: string }>; probeStarted: number }> {
    const sock = `${dir}/notify-${notifyReady}`;
    const listener = spawn('python3', [`${TOP}/test/harness/notify-listener.py`, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    const msgs: Array<{ t: number; msg: string }> = [];
    let buf = '';
    listener.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        msgs.push(JSON.parse(buf.slice(0, nl)));
        buf = buf.slice(nl + 1);
      }
    });
    await waitFor(() => msgs.length > 0, 10_000, 'the listener');
    const probe = new BootProbe();
    try {
      const r = await runClean(['-q', '-D', tree, `--notify-ready=${notifyReady}`, ...probe.args(), '-b', ...probe.initArgs()], [tree], {
        timeoutMs: 120_000,
        env: { NOTIFY_SOCKET: sock },
      });
      assert.equal(r.exitCode, 0, r.stderr);
      const started = Number(
        (await import('node:fs')).readdirSync(probe.dir).filter((f) => f.startsWith('started.')).map((f) => statSync(`${probe.dir}/${f}`).mtimeMs / 1000)[0],
      );
      await new Promise((r2) => setTimeout(r2, 200));
      return { msgs: msgs.slice(1), probeStarted: started };
    } finally {
      listener.kill();
      probe.remove();
    }
  }

  it('--notify-ready=yes sends READY=1 only after the guest reported ready', async () => {
    const { msgs, probeStarted } = await bootWithListener('yes');
    const texts = msgs.map((m) => m.msg);
    assert.match(texts[0]!, /^STATUS=Container running\.\nX_NSPAWN_LEADER_PID=\d+$/);
    const ready = msgs.find((m) => m.msg === 'READY=1');
    assert.ok(ready, `no READY=1 in ${JSON.stringify(texts)}`);
    // The guest is ready only after multi-user.target, which the probe is part of.
    assert.ok(ready.t > probeStarted, 'READY=1 came after the guest started its units');
    assert.ok(texts.some((t) => t.startsWith('STATUS=Container running: ')), 'the guest status is relayed');
    assert.match(texts[texts.length - 1]!, /^STOPPING=1\nSTATUS=Terminating\.\.\.$/);
  });

  it('--notify-ready=no sends READY=1 as soon as the payload runs', async () => {
    const { msgs, probeStarted } = await bootWithListener('no');
    const ready = msgs.find((m) => m.msg === 'READY=1');
    assert.ok(ready);
    assert.ok(ready.t < probeStarted, 'READY=1 came before the guest booted');
  });
});

describe('booting a non-systemd init (busybox init)', { skip }, () => {
  let tree = '';
  before(() => {
    tree = image('busybox');
  });

  it('boots, runs its inittab and powers off on its poweroff signal with exit 0', async () => {
    const before = snapshot();
    const child = start(['-D', tree, '--kill-signal=SIGUSR2', '-b'], { timeoutMs: 60_000 });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('busybox init: ready'), 30_000, 'busybox init to come up');
    child.kill('SIGTERM');
    const r = await child;
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.match(out, /busybox init: system is up/);
    assert.match(String(r.stdout), /busybox init: shutting down/);
    assert.match(String(r.stderr), /has been shut down/);
    await assertNoLeaks(before, [tree]);
  });
});

describe('booting sysvinit', { skip }, () => {
  let tree = '';
  before(() => {
    tree = image('sysvinit');
  });

  it('boots to its runlevel and powers off on SIGINT (its ctrl-alt-del) with exit 0', async () => {
    const before = snapshot();
    const child = start(['-D', tree, '--kill-signal=SIGINT', '-b'], { timeoutMs: 90_000 });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => /INIT: Entering runlevel: 2/.test(out), 60_000, 'sysvinit to enter runlevel 2');
    child.kill('SIGTERM');
    const r = await child;
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.match(String(r.stderr), /has been shut down/);
    await assertNoLeaks(before, [tree]);
  });
});
