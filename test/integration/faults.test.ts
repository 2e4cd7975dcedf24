/**
 * Fault injection: each fault its own case, each followed by the host
 * check (nothing left: mounts, cgroups in every hierarchy, runtime records,
 * helper processes, processes in the tree) and a check of tsnspawn's exit
 * status and its one line of explanation.
 *
 * - SIGKILL of tsnspawn at each phase reached deterministically (its record
 *   written, before init; running under Node; under the supervisor; in a
 *   guest's shutdown; in a guest's reboot, before and after the handover):
 *   what it could not remove (its record, its empty cgroups, an overlay's
 *   work directory: the helper dies with it) goes at the next `tsnspawn
 *   list` or start.
 * - SIGKILL of the helper (the monitor) at the same phases: tsnspawn
 *   reports it, cleans up and fails.
 * - SIGTERM and SIGINT while Node is inside its execve into the
 *   supervisor (held there by strace): the supervisor acts on them.
 * - The guest's init crashing (SIGSEGV), exiting during boot; a payload
 *   that forks a thousand children and exits.
 * - Temporary directories on the host with -x, --overlay and --volatile:
 *   SIGKILL of tsnspawn, of the helper, and of both at once; nothing left
 *   once the next start ran.
 * - ENOSPC on the import target, in an overlay's upper layer, in the
 *   --tarball cache; a read-only /var/lib/machines: small tmpfs and
 *   read-only binds made in a private mount namespace (unshare -m) that
 *   dies with the case, so nothing of them can outlive it.
 *
 * Phases are reached through hooks, not sleeps: flag files the payload
 * waits on (bound in), the --events stream, tsnspawn's /proc/PID/exe
 * turning into the helper at the handover. Bare host (no machined). Needs
 * root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { execa } from 'execa';
import { archives } from '../harness/archives.js';
import { ExecveStall } from '../harness/execve-stall.js';
import { FaultRun, lines } from '../harness/fault-run.js';
import { leaks, snapshot, type HostState } from '../harness/host-state.js';
import { image } from '../harness/images.js';
import { TSNSPAWN } from '../harness/paths.js';
import { ProbeTree } from '../harness/probe-tree.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, run } from '../harness/run.js';

const skip = rootSkipReason();

/** A payload that says it is up, then waits for /m/go (which the test never makes unless it wants the payload to go on). */
const WAIT_FOR_GO = 'touch /m/up; while [ ! -e /m/go ]; do sleep 0.05; done';

describe('faults', { skip }, () => {
  let busybox: string;
  let marks: string;
  let host: HostState;
  let work: string;
  before(() => {
    busybox = image('busybox');
    work = mkdtempSync('/var/tmp/tsnspawn-faults-');
  });
  after(() => rmSync(work, { recursive: true, force: true }));
  beforeEach(() => {
    marks = mkdtempSync(`${work}/m-`);
    host = snapshot();
  });
  afterEach(() => rmSync(marks, { recursive: true, force: true }));

  const name = (tag: string): string => `fault-${tag}`;
  const common = (tag: string): string[] => ['-q', '-P', '--register=no', '-D', busybox, '-M', name(tag), `--bind=${marks}:/m`];

  /** Waits until nothing runs any more (no helper, nothing in the tree); returns what is left on the host. */
  async function leftovers(): Promise<string[]> {
    let found: string[] = [];
    for (let i = 0; i < 100; i++) {
      found = leaks(host, snapshot(), [busybox]);
      if (!found.some((l) => /process|helper/.test(l))) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return found;
  }

  /**
   * After a SIGKILL of tsnspawn: it died of it, said nothing, left only what
   * a process killed outright cannot remove (its record, its empty cgroups,
   * an overlay's work directory; no mount, no process), and `tsnspawn list`
   * removes those.
   */
  async function killedOutright(r: FaultRun, tag: string): Promise<void> {
    const end = await r.ended;
    assert.equal(end.signal, 'SIGKILL');
    assert.deepEqual(lines(end.stderr), []);
    const left = await leftovers();
    assert.ok(left.includes(`runtime record left: /run/tsnspawn/machines/${name(tag)}`), `the stale record is there to find: ${left.join('; ')}`);
    // The helper dies with tsnspawn (its parent-death signal is SIGKILL): an overlay's work directory stays too, recorded.
    for (const l of left)
      assert.match(
        l,
        /^(cgroup left: \/sys\/fs\/cgroup\/\S+\/tsnspawn-fault-|runtime record left: |propagation directory left: \/run\/systemd\/nspawn\/propagate\/fault-|overlay work directory left: |tree lock left: \/run\/systemd\/nspawn\/locks\/inode-)/,
        `only what a SIGKILL cannot clean: ${left.join('; ')}`,
      );
    const list = await run(['list']);
    assert.equal(list.exitCode, 0, list.stderr);
    assert.doesNotMatch(list.stdout, new RegExp(name(tag)));
    await assertNoLeaks(host, [busybox]);
  }

  /** After a SIGKILL of the monitor: tsnspawn says so in one line, fails, and leaves nothing. */
  async function monitorLost(r: FaultRun, status = 1): Promise<void> {
    const end = await r.ended;
    assert.equal(end.code, status, end.stderr);
    const said = lines(end.stderr);
    assert.equal(said.length, 1, end.stderr);
    // From Node or from the supervisor, the cause named.
    assert.match(said[0]!, /^tsnspawn: the helper ended unexpectedly \(SIGKILL\)/);
    await assertNoLeaks(host, [busybox]);
  }

  describe('SIGKILL of tsnspawn', () => {
    it('as soon as its runtime record exists (before init runs): the record and its cgroups go at the next list', async () => {
      const r = new FaultRun([...common('k-record'), '/bin/sh', '-c', WAIT_FOR_GO]);
      await r.until('the runtime record', () => existsSync(`/run/tsnspawn/machines/${name('k-record')}`));
      r.kill('SIGKILL');
      await killedOutright(r, 'k-record');
    });

    it('while the payload runs under Node', async () => {
      const r = new FaultRun([...common('k-node'), '/bin/sh', '-c', WAIT_FOR_GO]);
      await r.event('started');
      await r.until('the payload', () => existsSync(`${marks}/up`));
      assert.equal(r.image(), 'node', 'the handover comes a second after the start');
      r.kill('SIGKILL');
      await killedOutright(r, 'k-node');
    });

    it('while the payload runs under the supervisor', async () => {
      const r = new FaultRun([...common('k-sup'), '/bin/sh', '-c', WAIT_FOR_GO]);
      await r.supervising();
      r.kill('SIGKILL');
      await killedOutright(r, 'k-sup');
    });

    it("during the guest's shutdown (its init handles the kill signal)", async () => {
      const script = `trap 'touch /m/stopping; while :; do sleep 0.05; done' TERM; ${WAIT_FOR_GO}`;
      const r = new FaultRun([...common('k-shutdown'), '--kill-signal=SIGTERM', '/bin/sh', '-c', script]);
      await r.supervising();
      r.kill('SIGTERM');
      await r.until('the guest shutting down', () => existsSync(`${marks}/stopping`));
      r.kill('SIGKILL');
      await killedOutright(r, 'k-shutdown');
    });

    for (const when of ['before', 'after'] as const)
      it(`during a guest's reboot ${when} the handover`, async () => {
        const tag = `k-reboot-${when}`;
        const script = `if [ -e /m/once ]; then ${WAIT_FOR_GO}; else touch /m/once; while [ ! -e /m/reboot ]; do sleep 0.05; done; reboot -f; fi`;
        const r = new FaultRun([...common(tag), '/bin/sh', '-c', script]);
        await r.event('started');
        if (when === 'after') await r.supervising();
        writeFileSync(`${marks}/reboot`, '');
        await r.event('rebooting');
        r.kill('SIGKILL');
        await killedOutright(r, tag);
      });

    it('a start after the SIGKILL finds what it left and removes it before it runs', async () => {
      const r = new FaultRun([...common('k-restart'), '/bin/sh', '-c', WAIT_FOR_GO]);
      await r.supervising();
      r.kill('SIGKILL');
      await r.ended;
      assert.ok((await leftovers()).length > 0);
      const again = await run([...common('k-restart'), '/bin/true']);
      assert.equal(again.exitCode, 0, again.stderr);
      await assertNoLeaks(host, [busybox]);
    });
  });

  describe('a stop signal while Node execs the supervisor', () => {
    // strace holds tsnspawn's main thread inside the execve for 3 s; the
    // signal comes meanwhile. Node's own handling (libuv's handler on any
    // thread, a pipe the event loop no longer reads) lost it, and the
    // container ran on; every thread blocks it now, so it stays pending
    // through the execve and the supervisor acts on it first.
    const stalled = async (tag: string, args: string[], signal: NodeJS.Signals): Promise<FaultRun> => {
      const r = new FaultRun([...common(tag), ...args]);
      await r.event('started');
      const stall = new ExecveStall(r.pid, `${marks}/strace.log`, 3000);
      try {
        await stall.attached();
        const call = await stall.entered();
        assert.match(call, /^execve\("[^"]*\/tsnspawn-helper", \["[^"]*", "--supervise"/, 'the execve held is the handover');
        assert.equal(r.image(), 'node');
        r.kill(signal);
        await r.ended;
      } catch (err) {
        // Not left running for the next case: the payload is let go.
        writeFileSync(`${marks}/go`, '');
        await r.ended;
        throw err;
      } finally {
        await stall.stop();
      }
      return r;
    };

    it('SIGTERM with a kill signal: init is asked to halt, and halts', async () => {
      const script = `trap 'touch /m/halted; exit 0' TERM; ${WAIT_FOR_GO}`;
      const r = await stalled('t-execve', ['--kill-signal=SIGTERM', '/bin/sh', '-c', script], 'SIGTERM');
      const end = await r.ended;
      assert.equal(end.code, 0, end.stderr);
      assert.ok(existsSync(`${marks}/halted`), 'the halt request reached init');
      assert.deepEqual(lines(end.stderr), []);
      await assertNoLeaks(host, [busybox]);
    });

    it('SIGINT without one: the container is killed at once', async () => {
      const r = await stalled('i-execve', ['/bin/sh', '-c', WAIT_FOR_GO], 'SIGINT');
      const end = await r.ended;
      assert.equal(end.code, 1, end.stderr);
      assert.deepEqual(lines(end.stderr), [`tsnspawn: container ${name('i-execve')} terminated by signal KILL.`]);
      assert.ok(!existsSync(`${marks}/go`));
      await assertNoLeaks(host, [busybox]);
    });
  });

  describe('SIGKILL of the helper (the monitor)', () => {
    it('before Node sent the plan (the launcher forked it)', async () => {
      const r = new FaultRun([...common('m-plan'), '/bin/sh', '-c', WAIT_FOR_GO]);
      const monitor = await r.monitor();
      assert.equal(r.events.length, 0, 'nothing started yet');
      process.kill(monitor, 'SIGKILL');
      const end = await r.ended;
      assert.equal(end.code, 1, end.stderr);
      const said = lines(end.stderr);
      assert.equal(said.length, 1, end.stderr);
      assert.match(said[0]!, /^tsnspawn: /);
      await assertNoLeaks(host, [busybox]);
    });

    it('while the payload runs under Node', async () => {
      const r = new FaultRun([...common('m-node'), '/bin/sh', '-c', WAIT_FOR_GO]);
      await r.event('started');
      await r.until('the payload', () => existsSync(`${marks}/up`));
      assert.equal(r.image(), 'node');
      process.kill(await r.monitor(), 'SIGKILL');
      await monitorLost(r);
    });

    it('while the payload runs under the supervisor', async () => {
      const r = new FaultRun([...common('m-sup'), '/bin/sh', '-c', WAIT_FOR_GO]);
      await r.supervising();
      process.kill(await r.monitor(), 'SIGKILL');
      await monitorLost(r);
    });

    it("during the guest's shutdown", async () => {
      const script = `trap 'touch /m/stopping; while :; do sleep 0.05; done' TERM; ${WAIT_FOR_GO}`;
      const r = new FaultRun([...common('m-shutdown'), '--kill-signal=SIGTERM', '/bin/sh', '-c', script]);
      await r.supervising();
      const monitor = await r.monitor();
      r.kill('SIGTERM');
      await r.until('the guest shutting down', () => existsSync(`${marks}/stopping`));
      process.kill(monitor, 'SIGKILL');
      await monitorLost(r);
    });

    it("during a guest's reboot (the new boot's monitor)", async () => {
      const script = `if [ -e /m/once ]; then ${WAIT_FOR_GO}; else touch /m/once; while [ ! -e /m/reboot ]; do sleep 0.05; done; reboot -f; fi`;
      const r = new FaultRun([...common('m-reboot'), '/bin/sh', '-c', script]);
      await r.supervising();
      const first = await r.monitor();
      writeFileSync(`${marks}/reboot`, '');
      await r.event('rebooting');
      process.kill(await r.monitor([first]), 'SIGKILL');
      await monitorLost(r);
    });
  });

  describe('temporary directories on the host (-x, --overlay, --volatile)', () => {
    /**
     * -x and --volatile keep their writes in a tmpfs of the container's own
     * mount namespace (gone with it); --overlay with an upper tree on the
     * host has a work directory beside it, made and removed by the monitor,
     * recorded by Node, removed by whoever outlives the monitor, or by the
     * stale sweep when nothing does.
     */
    const MODES = {
      ephemeral: (): string[] => ['-x'],
      overlay: (): string[] => {
        mkdirSync(`${marks}/lower`);
        mkdirSync(`${marks}/upper`);
        return [`--overlay=${marks}/lower:${marks}/upper:/data`];
      },
      volatile: (): string[] => ['--volatile=yes'],
    };
    /** Writes through the overlay (so overlayfs uses its work directory), then waits. */
    const WRITE_AND_WAIT = `mkdir -p /data; echo x > /data/file; echo x > /etc/written; ${WAIT_FOR_GO}`;

    it('a guest cannot fill the host\'s memory: each tmpfs it writes to is sized as systemd-nspawn 252 sizes it', async () => {
      // statfs inside: blocks of 4 KiB (the sizes are fractions of the host's RAM) and inodes.
      const script = (paths: string[]): string => paths.map((d) => `stat -f -c "${d} %b %S %c" ${d}`).join('; ');
      // nspawn's -x copies the tree (no tmpfs); its --volatile=overlay is the same root as our -x.
      const cases: { ours: string[]; theirs: string[]; paths: string[] }[] = [
        { ours: ['-x'], theirs: ['--volatile=overlay'], paths: ['/', '/tmp', '/dev/shm'] },
        { ours: ['--volatile=overlay'], theirs: ['--volatile=overlay'], paths: ['/'] },
        { ours: ['--volatile=yes'], theirs: ['--volatile=yes'], paths: ['/'] },
        { ours: ['--volatile=state'], theirs: ['--volatile=state'], paths: ['/var'] },
      ];
      for (const c of cases) {
        const ours = await run(['-q', '-P', '--register=no', ...c.ours, '-D', busybox, '/bin/sh', '-c', script(c.paths)]);
        assert.equal(ours.exitCode, 0, ours.stderr);
        const theirs = await execa('systemd-nspawn', ['-q', '-P', '--register=no', '--keep-unit', ...c.theirs, '-D', busybox, '/bin/sh', '-c', script(c.paths)], { reject: false });
        assert.equal(theirs.exitCode, 0, String(theirs.stderr));
        assert.equal(ours.stdout.trim(), String(theirs.stdout).trim(), `${c.ours.join(' ')}: the same sizes as nspawn's ${c.theirs.join(' ')}`);
        // Bounded: a quarter of the RAM at most, never the kernel's default of half.
        const ramPages = Number(/MemTotal:\s+(\d+) kB/.exec(execFileSync('cat', ['/proc/meminfo'], { encoding: 'utf8' }))![1]) / 4;
        for (const line of ours.stdout.trim().split('\n')) {
          const [, blocks, size] = line.split(' ').map(Number);
          assert.ok(blocks! * size! <= (ramPages * 4096) / 4 + 4096, `${line}: at most 25% of RAM`);
        }
      }
      await assertNoLeaks(host, [busybox]);
    });

    for (const [mode, options] of Object.entries(MODES)) {
      const args = (tag: string): string[] => [...common(tag), ...options(), '/bin/sh', '-c', WRITE_AND_WAIT];

      it(`${mode}: SIGKILL of tsnspawn under the supervisor; the next start leaves nothing`, async () => {
        const tag = `d-${mode}-k`;
        const r = new FaultRun(args(tag));
        await r.supervising();
        r.kill('SIGKILL');
        await r.ended;
        if (mode === 'overlay') assert.match(execFileSync('cat', [`/run/tsnspawn/machines/${name(tag)}`], { encoding: 'utf8' }), /"workdirs":\[\{"path":"[^"]*\/\.#tsnspawn-work-[0-9a-f]+","dev":"\d+","ino":"\d+"\}\]/);
        await killedOutright(r, tag);
        const again = await run([...common(tag), '/bin/true']);
        assert.equal(again.exitCode, 0, again.stderr);
        await assertNoLeaks(host, [busybox]);
      });

      for (const phase of ['node', 'supervisor'] as const)
        it(`${mode}: SIGKILL of the helper under ${phase === 'node' ? 'Node' : 'the supervisor'}: nothing left`, async () => {
          const r = new FaultRun(args(`d-${mode}-m-${phase}`));
          if (phase === 'node') {
            await r.event('started');
            await r.until('the payload', () => existsSync(`${marks}/up`));
            assert.equal(r.image(), 'node');
          } else await r.supervising();
          process.kill(await r.monitor(), 'SIGKILL');
          await monitorLost(r);
        });

      it(`${mode}: SIGKILL of tsnspawn and the helper at once: what is left is recorded, and the next start removes it`, async () => {
        const tag = `d-${mode}-both`;
        const r = new FaultRun(args(tag));
        await r.supervising();
        const monitor = await r.monitor();
        // As systemd's final SIGKILL of a unit's cgroup: neither can clean up.
        process.kill(monitor, 'SIGKILL');
        r.kill('SIGKILL');
        const end = await r.ended;
        assert.equal(end.signal, 'SIGKILL');
        const left = await leftovers();
        const record = JSON.parse(execFileSync('cat', [`/run/tsnspawn/machines/${name(tag)}`], { encoding: 'utf8' })) as { workdirs?: { path: string }[] };
        if (mode === 'overlay') {
          const workdir = left.find((l) => l.startsWith('overlay work directory left: '));
          assert.ok(workdir, `the work directory stays until the next start: ${left.join('; ')}`);
          assert.deepEqual(record.workdirs?.map((w) => w.path), [workdir.slice('overlay work directory left: '.length)], 'the record names it');
        } else assert.equal(record.workdirs, undefined, 'nothing on the host to record');
        const lockLeft = left.find((l) => l.startsWith('tree lock left: '));
        if (lockLeft) assert.equal((record as { treeLock?: { global: string } }).treeLock?.global, lockLeft.slice('tree lock left: '.length), 'the record names the lock file');
        for (const l of left) assert.match(l, /^(cgroup left: |runtime record left: |propagation directory left: |overlay work directory left: |tree lock left: )/, left.join('; '));
        const again = await run([...common(tag), '/bin/true']);
        assert.equal(again.exitCode, 0, again.stderr);
        await assertNoLeaks(host, [busybox]);
      });
    }
  });

  describe('the guest', () => {
    let crash: ProbeTree;
    before(() => (crash = new ProbeTree('crash-probe.c')));
    after(() => crash?.remove());

    it('init crashing with SIGSEGV: exit 1 and the signal named', async () => {
      // ours(): -q -P, the probe as the command; the host checked after.
      const r = await crash.ours(['--register=no', '-M', name('segv')]);
      assert.equal(r.exitCode, 1, r.stderr);
      assert.deepEqual(lines(r.stderr), [`tsnspawn: container ${name('segv')} terminated by signal SEGV.`]);
      await assertNoLeaks(host, [busybox]);
    });

    it("init exiting during boot: its status, and the container's last line", async () => {
      // The probe tree is a private copy of the busybox tree: its /sbin/init (a link to busybox) may be replaced.
      rmSync(`${crash.tree}/sbin/init`);
      writeFileSync(`${crash.tree}/sbin/init`, '#!/bin/sh\nexit 7\n', { mode: 0o755 });
      // Not quiet (-P and --console=pipe would be): the last line is the container's outcome.
      const r = await run(['--register=no', '-D', crash.tree, '-M', name('init-exit'), '-b']);
      assert.equal(r.exitCode, 7, r.stderr);
      assert.equal(lines(r.stderr).at(-1), `Container ${name('init-exit')} failed with error code 7.`);
      await assertNoLeaks(host, [crash.tree]);
    });

    it('a payload that forks a thousand children and exits: they all go with it', async () => {
      const script = 'i=0; while [ $i -lt 1000 ]; do sleep 1000 & i=$((i+1)); done; echo $(ls /proc | grep -c "^[0-9]") > /m/count; exit 0';
      const r = await run([...common('fork'), '/bin/sh', '-c', script]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.deepEqual(lines(r.stderr), []);
      assert.ok(Number(execFileSync('cat', [`${marks}/count`], { encoding: 'utf8' })) >= 1001, 'the children ran');
      await assertNoLeaks(host, [busybox]);
    });
  });

  it('a record file left half-written by a SIGKILL (.NAME.PID) goes at the next list when its writer is gone, and stays while it lives', async () => {
    mkdirSync('/run/tsnspawn/machines', { recursive: true, mode: 0o700 });
    // A pid no process has: the writer was killed between its write and its rename.
    let dead = 4_000_000;
    while (existsSync(`/proc/${dead}`)) dead--;
    const [orphan, live] = ['/run/tsnspawn/machines/.fault-tmp.' + dead, `/run/tsnspawn/machines/.fault-tmp.${process.pid}`];
    writeFileSync(orphan, '{"version":1');
    writeFileSync(live, '{"version":1');
    try {
      const r = await run(['list']);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.ok(!existsSync(orphan), 'the orphan went');
      assert.ok(existsSync(live), 'the one a live process may be writing stays');
    } finally {
      rmSync(orphan, { force: true });
      rmSync(live, { force: true });
    }
  });

  it('SIGKILL of an import: its staging directory goes at the next import beside it; one being filled stays', async () => {
    const dir = mkdtempSync('/var/tmp/tsnspawn-faults-import-');
    const staging = (): string[] => readdirSync(dir).filter((n) => /^\.#import-\d+-\d+-/.test(n));
    try {
      // From a pipe we never write: it waits for the archive's first bytes with its staging directory made.
      const killed = execa(TSNSPAWN, ['import-tar', '-q', `--output=${dir}/killed`, '-', 'killed'], { stdin: 'pipe', reject: false });
      for (let i = 0; i < 400 && staging().length === 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(staging().length, 1, 'the import made its staging directory');
      killed.kill('SIGKILL');
      killed.stdin!.end();
      await killed;
      assert.equal(staging().length, 1, 'a SIGKILL leaves it');
      // A second import that is still waiting beside it keeps its own.
      const waiting = execa(TSNSPAWN, ['import-tar', '-q', `--output=${dir}/waiting`, '-', 'waiting'], { stdin: 'pipe', reject: false });
      for (let i = 0; i < 400 && staging().length < 2; i++) await new Promise((r) => setTimeout(r, 25));
      const r = await run(['import-tar', '-q', `--output=${dir}/next`, archives().zstd!]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(staging().length, 1, "the killed import's staging directory went, the waiting one's stayed");
      waiting.kill('SIGTERM');
      waiting.stdin!.end();
      await waiting;
      assert.deepEqual(staging(), [], 'the interrupted import removes its own');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('full and read-only file systems (in a private mount namespace)', () => {
    /** Runs a shell script in a mount namespace of its own (it and its mounts end with it). */
    async function inPrivateMounts(script: string, env: Record<string, string> = {}): Promise<{ exitCode: number; stdout: string; stderr: string }> {
      const r = await execa('unshare', ['-m', '--propagation', 'private', 'sh', '-ec', script, 'sh', TSNSPAWN], { reject: false, env, timeout: 300_000 });
      return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
    }
    /** A 20 MB tmpfs at /var/lib/machines, 0700 as systemd keeps it. */
    const SMALL_MACHINES = 'mkdir -p /var/lib/machines; mount -t tmpfs -o size=20m,mode=0700 tmpfs /var/lib/machines';

    for (const format of ['tar', 'zstd'] as const)
      it(`ENOSPC on the import target (${format}): the full file system named, with the sizes, and nothing kept`, async () => {
        const file = archives()[format];
        const r = await inPrivateMounts(`${SMALL_MACHINES}; status=0; "$1" import-tar -q "${file}" full || status=$?; ls -A /var/lib/machines; exit $status`);
        assert.equal(r.exitCode, 1, r.stderr);
        const said = lines(r.stderr);
        assert.equal(said.length, 1, r.stderr);
        assert.match(said[0]!, /^tsnspawn: cannot import .*: no space left on the filesystem of \/var\/lib\/machines \(the tree needs about \d+ MB, \d+ MB free\): free some space there, or import elsewhere with --output=DIR; nothing was kept$/);
        const [, need, free] = /about (\d+) MB, (\d+) MB free/.exec(said[0]!)!;
        assert.ok(Number(need) > Number(free), said[0]);
        assert.equal(r.stdout.trim(), '', 'nothing kept in /var/lib/machines');
        await assertNoLeaks(host, []);
      });

    it('ENOSPC in the --tarball cache: named, and nothing kept', async () => {
      const r = await inPrivateMounts(
        `${SMALL_MACHINES}; mkdir -m 0700 /var/lib/machines/cache; status=0; "$1" -q -P --register=no --tarball="${archives().tar}" /bin/true || status=$?; ls -A /var/lib/machines/cache; exit $status`,
        { TSNSPAWN_TARBALL_CACHE: '/var/lib/machines/cache' },
      );
      assert.equal(r.exitCode, 1, r.stderr);
      const said = lines(r.stderr);
      assert.equal(said.length, 1, r.stderr);
      assert.match(said[0]!, /^tsnspawn: cannot import .*: no space left on the filesystem of \/var\/lib\/machines\/cache \(the tree needs about \d+ MB, \d+ MB free\): free some space there, or unpack the archive elsewhere/);
      // The hash index (a few bytes) may stay; no tree, no staging directory.
      assert.deepEqual(r.stdout.trim().split('\n').filter((l) => l && l !== 'index'), []);
      await assertNoLeaks(host, []);
    });

    it('a read-only /var/lib/machines: named as such, and nothing kept', async () => {
      const r = await inPrivateMounts(
        `mkdir -p /var/lib/machines; mount --bind /var/lib/machines /var/lib/machines; mount -o remount,bind,ro /var/lib/machines; "$1" import-tar -q "${archives().tar}" ro-target`,
      );
      assert.equal(r.exitCode, 1, r.stderr);
      assert.deepEqual(lines(r.stderr), [
        `tsnspawn: cannot import ${archives().tar}: the filesystem of /var/lib/machines is read-only: remount it read-write, or import elsewhere with --output=DIR; nothing was kept`,
      ]);
      assert.equal(existsSync('/var/lib/machines/ro-target'), false);
      await assertNoLeaks(host, []);
    });

    it("ENOSPC in an overlay's upper layer: the payload sees it, its status comes back, the work directory goes", async () => {
      const lower = `${marks}/lower`;
      mkdirSync(lower);
      const r = await inPrivateMounts(
        `mkdir "${marks}/up-fs"; mount -t tmpfs -o size=4m tmpfs "${marks}/up-fs"; mkdir "${marks}/up-fs/upper"; ` +
          `status=0; "$1" ${common('upper').join(' ')} --overlay="${lower}:${marks}/up-fs/upper:/data" /bin/sh -c 'dd if=/dev/zero of=/data/fill bs=1M count=64 2>/m/dd; exit 3' || status=$?; ls -A "${marks}/up-fs"; exit $status`,
      );
      assert.equal(r.exitCode, 3, r.stderr);
      assert.deepEqual(lines(r.stderr), []);
      assert.match(execFileSync('cat', [`${marks}/dd`], { encoding: 'utf8' }), /No space left on device/);
      assert.deepEqual(r.stdout.trim().split('\n'), ['upper'], 'only the upper layer stays beside it (the work directory went)');
      await assertNoLeaks(host, [busybox]);
    });
  });
});
