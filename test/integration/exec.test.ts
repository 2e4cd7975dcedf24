/**
 * tsnspawn exec: a command in a running container, whatever its init (a
 * plain command, busybox init, a booted Debian 12 with systemd) on the bare
 * host (no machined). Exit codes (the command's, 125, 126, 127), stdin,
 * signals, the user, the environment, the cgroup, the capability bounding
 * set, the system call filter, a pty with -t. After each case the host has
 * nothing new and the container no process more than before. Needs root.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { image } from '../harness/images.js';
import { TOP } from '../harness/paths.js';
import { assertNoLeaks, assertOneErrorLine, run, start } from '../harness/run.js';
import { leaks, snapshot, type HostState } from '../harness/host-state.js';
import { rootSkipReason } from '../harness/root.js';

const skip = rootSkipReason();
const PTY_DRIVE = `${TOP}/test/harness/pty-drive.py`;

const isListed = async (name: string): Promise<boolean> =>
  (JSON.parse((await run(['list', '--json'])).stdout) as { name: string }[]).some((m) => m.name === name);

async function until(what: string, check: () => Promise<boolean> | boolean, tries = 400): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`timed out waiting until ${what}`);
}

const exec = (name: string, args: string[], input?: string) => run(['exec', name, ...args], input === undefined ? {} : { input });

/** A container started in the background for a describe block, stopped (and the host checked) at its end. */
class Running {
  child: ResultPromise | undefined;
  private hostBefore: HostState | undefined;
  private baseline: { host: HostState; inside: number[] } | undefined;
  constructor(
    readonly name: string,
    private readonly treeOf: () => string,
    private readonly args: string[],
    /** Whether it is up (default: listed). */
    private readonly readyCheck?: () => Promise<boolean>,
    /** Whether a new process in the container after a case is a leak (not for systemd, which starts its own at any time). */
    private readonly stableProcesses = true,
  ) {}

  get tree(): string {
    return this.treeOf();
  }

  async start(): Promise<void> {
    this.hostBefore = snapshot();
    this.child = start(['-q', '--register=no', '-M', this.name, '-D', this.tree, ...this.args], { timeoutMs: 300_000 });
    await until(`${this.name} is up`, this.readyCheck ?? (() => isListed(this.name)), 1200);
    // Node becomes the supervisor a second after the start (a new helper process for the leak check): before the cases.
    await until('the supervisor holds it', () => cmdline(this.child!.pid!).includes(' --supervise '));
  }

  /** The container's processes: those in its PID 1's pid namespace (a pivoted root reads as "/" from the host). */
  processes(): number[] {
    const leader = (JSON.parse(readFileSync(`/run/tsnspawn/machines/${this.name}`, 'utf8')) as { leader: { pid: number } }).leader.pid;
    const ns = pidNamespace(leader);
    return allPids().filter((p) => pidNamespace(p) === ns);
  }

  /** The host and the container as they are between cases. */
  mark(): void {
    this.baseline = { host: snapshot(), inside: this.processes() };
  }

  /** Nothing the case started is left: no mount, helper or temp entry on the host, no new process in the container. */
  async assertCaseLeftNothing(): Promise<void> {
    const b = this.baseline!;
    let found: string[] = [];
    for (let i = 0; i < 50; i++) {
      found = [...leaks(b.host, snapshot(), []), ...(this.stableProcesses ? this.processes() : []).filter((p) => !b.inside.includes(p)).map((p) => `process ${p} (${cmdline(p)}) was left in the container`)];
      if (found.length === 0) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(found, [], 'the case left things behind');
  }

  async stop(): Promise<void> {
    if (!this.child) return;
    const s = await run(['stop', this.name]);
    assert.equal(s.exitCode, 0, s.stderr);
    await this.child;
    await assertNoLeaks(this.hostBefore!, [this.tree]);
  }
}

const allPids = (): number[] =>
  readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);

function pidNamespace(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined;
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '';
  }
}

/** The host's pid of the one process whose command line is exactly CMD. */
function hostPidOf(cmd: string): number | undefined {
  return allPids().find((p) => cmdline(p) === cmd);
}

const cgroupLines = (pid: number): string[] =>
  readFileSync(`/proc/${pid}/cgroup`, 'utf8')
    .split('\n')
    .filter((l) => /^\d+:(name=systemd)?:/.test(l));

describe('tsnspawn exec in a plain-command container (busybox tree)', { skip }, () => {
  const c = new Running('exec-cmd', () => image('busybox'), ['-P', '/bin/sleep', '100000']);
  before(() => c.start());
  after(() => c.stop());
  beforeEach(() => c.mark());
  afterEach(() => c.assertCaseLeftNothing());

  it("exits with the command's status; 126 for what cannot be executed, 127 for what is not there, one line each", async () => {
    const own = await exec(c.name, ['/bin/sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.deepEqual(own, { exitCode: 3, stdout: 'out\n', stderr: 'err\n' });
    for (const [cmd, code, message] of [
      ['/etc/passwd', 126, /^tsnspawn: cannot execute \/etc\/passwd in container exec-cmd: Permission denied$/],
      ['/etc', 126, /^tsnspawn: cannot execute \/etc in container exec-cmd: Permission denied$/],
      ['no-such-command', 127, /^tsnspawn: no command no-such-command in container exec-cmd \(PATH=/],
      ['/bin/no-such-command', 127, /^tsnspawn: cannot execute \/bin\/no-such-command in container exec-cmd: No such file or directory$/],
    ] as const) {
      const r = await exec(c.name, [cmd]);
      assertOneErrorLine(r, message);
      assert.equal(r.exitCode, code, cmd);
    }
  });

  it('125 for a container that never existed, bad options, an unknown user, a missing --chdir', async () => {
    for (const [args, message] of [
      [['exec', 'no-such-machine', 'true'], /^tsnspawn: no container named 'no-such-machine' is running/],
      [['exec', '-x', c.name, 'true'], /unknown option '-x' for exec \(usage: tsnspawn exec /],
      [['exec'], /exec needs a machine name/],
      [['exec', '-u', 'nobody2', c.name, 'true'], /no user 'nobody2' in container exec-cmd/],
      [['exec', '--chdir=/no/such/dir', c.name, 'true'], /cannot change to directory \/no\/such\/dir in container exec-cmd: No such file or directory/],
    ] as const) {
      const r = await run([...args]);
      assertOneErrorLine(r, message);
      assert.equal(r.exitCode, 125, args.join(' '));
    }
  });

  it('stdin is piped through, stdout and stderr kept apart', async () => {
    const r = await exec(c.name, ['cat'], 'data\nmore\n');
    assert.deepEqual(r, { exitCode: 0, stdout: 'data\nmore\n', stderr: '' });
  });

  it('a signal to tsnspawn exec reaches the command; a death by signal exits 128+N', async () => {
    const e = start(['exec', c.name, '/bin/sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.1; done']);
    let out = '';
    e.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await until('the command set its trap', () => out.includes('ready'));
    e.kill('SIGTERM');
    const r = await e;
    assert.equal(r.exitCode, 7, String(r.stderr));
    assert.equal(String(r.stdout), 'ready\ngot-term\n');

    const killed = start(['exec', c.name, '/bin/sh', '-c', 'echo ready; exec sleep 600']);
    let out2 = '';
    killed.stdout!.on('data', (d: Buffer) => (out2 += d.toString()));
    await until('the command runs', () => out2.includes('ready'));
    killed.kill('SIGUSR1');
    assert.equal((await killed).exitCode, 128 + 10, 'SIGUSR1 killed sleep');
  });

  it('the command dies with a SIGKILLed tsnspawn exec (the check after each case finds nothing left)', async () => {
    const e = start(['exec', c.name, '/bin/sleep', '600.5']);
    await until('the command runs', () => hostPidOf('/bin/sleep 600.5') !== undefined);
    e.kill('SIGKILL');
    await e;
  });

  it('as root: in the home directory, the environment of PID 1 with -E winning, no notify socket', async () => {
    const r = await run(['exec', '-E', 'FOO=bar', '-E', 'container=overridden', c.name, '/bin/sh', '-c', 'pwd; env | sort']);
    assert.equal(r.exitCode, 0, r.stderr);
    const [pwd, ...env] = r.stdout.trim().split('\n');
    assert.equal(pwd, '/root');
    for (const v of ['FOO=bar', 'container=overridden', 'HOME=/root', 'USER=root', 'LOGNAME=root', 'SHELL=/bin/sh', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'])
      assert.ok(env.includes(v), `${v} in ${env.join(' ')}`);
    assert.ok(env.some((v) => /^container_uuid=[0-9a-f-]{36}$/.test(v)));
    assert.ok(!env.some((v) => v.startsWith('NOTIFY_SOCKET=')), 'the notify socket is PID 1\'s');
    const plain = await exec(c.name, ['/bin/sh', '-c', 'echo $container']);
    assert.equal(plain.stdout, 'systemd-nspawn\n');
  });

  it('-u: the user of the tree, with its groups, home and no capabilities; --chdir', async () => {
    const r = await run(['exec', '-u', 'tester', c.name, '/bin/sh', '-c', 'id -u; id -g; pwd; echo $HOME $USER; grep CapEff /proc/self/status']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, '1000\n1000\n/home/tester\n/home/tester tester\nCapEff:\t0000000000000000\n');
    const numeric = await run(['exec', '-u', '4242', '--chdir=/tmp', c.name, '/bin/sh', '-c', 'id -u; pwd']);
    assert.equal(numeric.stdout, '4242\n/tmp\n');
  });

  it("is in PID 1's cgroups, bounding set and system call filter", async () => {
    const r = await exec(c.name, ['/bin/sh', '-c', 'cat /proc/self/cgroup; echo --; cat /proc/1/cgroup; echo --; grep -E "^(CapBnd|Seccomp):" /proc/self/status /proc/1/status']);
    assert.equal(r.exitCode, 0, r.stderr);
    const [mine, pid1, status] = r.stdout.split('--\n');
    assert.equal(mine, pid1, 'the same cgroup in every hierarchy, as seen inside');
    const lines = status!.trim().split('\n').map((l) => l.replace(/^\/proc\/(self|1)\/status:/, ''));
    assert.equal(lines[0], lines[2], 'CapBnd');
    assert.equal(lines[1], 'Seccomp:\t2');
    assert.equal(lines[3], 'Seccomp:\t2');

    // From the host: the command is in the leader's cgroup2 and name=systemd cgroups.
    const e = start(['exec', c.name, '/bin/sleep', '600.25']);
    let pid: number | undefined;
    await until('the command runs', () => (pid = hostPidOf('/bin/sleep 600.25')) !== undefined);
    const leader = JSON.parse(readFileSync(`/run/tsnspawn/machines/${c.name}`, 'utf8')).leader.pid as number;
    assert.deepEqual(cgroupLines(pid!), cgroupLines(leader));
    e.kill('SIGTERM');
    assert.equal((await e).exitCode, 128 + 15);
  });

  it('-t: a pty of the container as the controlling terminal, the window size and TERM of ours', async () => {
    const r = await execa('python3', [PTY_DRIVE, '30', '100', '--after', 'go>', '--send', 'stty size; tty; echo $TERM; exit 5\\r', '--',
      `${TOP}/bin/tsnspawn`, 'exec', '-t', c.name, '/bin/sh', '-c', 'PS1="go> " exec /bin/sh'], { reject: false, env: { TERM: 'xterm-exec-test' }, timeout: 60_000, stripFinalNewline: false });
    assert.equal(r.exitCode, 5, String(r.stdout));
    assert.match(String(r.stdout), /\r\n30 100\r\n\/dev\/pts\/\d+\r\nxterm-exec-test\r\n/);

    // stdin a pipe: its end is the command's end-of-file (the pty echoes what it got, then cat prints it).
    const piped = await run(['exec', '-t', c.name, 'cat'], { input: 'a\nb\n' });
    assert.equal(piped.exitCode, 0, piped.stderr);
    assert.deepEqual(piped.stdout.split('\r\n').sort(), ['', 'a', 'a', 'b', 'b']);
  });

  it('125 for a container that has gone, one line', async () => {
    // -x: the suite's container holds the tree's lock.
    const short = start(['-q', '-P', '--register=no', '-x', '-M', 'exec-gone', '-D', c.tree, '/bin/sleep', '600']);
    await until('exec-gone is up', () => isListed('exec-gone'));
    assert.equal((await run(['stop', 'exec-gone'])).exitCode, 0);
    await short;
    const r = await exec('exec-gone', ['true']);
    assertOneErrorLine(r, /^tsnspawn: no container named 'exec-gone' is running/);
    assert.equal(r.exitCode, 125);
  });
});

/** The CPUs this host has online, as /proc/PID/status lists them. */
const lastOnlineCpu = (): number =>
  Math.max(...readFileSync('/sys/devices/system/cpu/online', 'utf8').trim().split(',').map((r) => Number(r.split('-').pop())));

/** Init's process attributes and the command's, one "name value" a line (uname -m shows the personality). */
const ATTRS = 'for p in 1 self; do echo "nnp $(grep NoNewPrivs /proc/$p/status | cut -f2)"; echo "cpus $(grep Cpus_allowed_list /proc/$p/status | cut -f2)"; echo "oom $(cat /proc/$p/oom_score_adj)"; grep "Max open files" /proc/$p/limits | tr -s " " | cut -d" " -f4,5; done; uname -m';

for (const mode of [[], ['-U']] as const) {
  describe(`tsnspawn exec under the container's security options (${mode.length ? 'with' : 'without'} -U)`, { skip }, () => {
    const cpu = () => lastOnlineCpu();
    const X86 = process.arch === 'x64';
    const c = new Running(`exec-sec${mode.length ? '-u' : ''}`, () => image('busybox'), [
      ...mode, '-P', '--no-new-privileges=yes', '--oom-score-adjust=500', `--cpu-affinity=${cpu()}`, '--rlimit=NOFILE=1234:4000',
      ...(X86 ? ['--personality=x86'] : []), '/bin/sleep', '100000',
    ]);
    before(() => c.start());
    after(() => c.stop());
    beforeEach(() => c.mark());
    afterEach(() => c.assertCaseLeftNothing());

    it("the command gets init's no_new_privs, CPU affinity, OOM score, resource limits and personality, as root and as a user", async () => {
      for (const user of [[], ['-u', 'tester']]) {
        const r = await run(['exec', ...user, c.name, '/bin/sh', '-c', ATTRS]);
        assert.equal(r.exitCode, 0, r.stderr);
        const lines = r.stdout.trim().split('\n');
        const [init, mine, arch] = [lines.slice(0, 4), lines.slice(4, 8), lines[8]];
        assert.deepEqual(init, ['nnp 1', `cpus ${cpu()}`, 'oom 500', '1234 4000']);
        assert.deepEqual(mine, init, `exec ${user.join(' ')}: the same as init`);
        if (X86) assert.equal(arch, 'i686');
      }
      // Its neighbour: a plain container's command has none of it (so the values above are not the host's defaults).
      const plain = await run(['-q', '-P', ...mode, '--register=no', '-x', '-D', c.tree, '/bin/sh', '-c', ATTRS]);
      assert.equal(plain.exitCode, 0, plain.stderr);
      const p = plain.stdout.trim().split('\n');
      assert.equal(p[0], 'nnp 0');
      assert.notEqual(p[2], 'oom 500');
      assert.notEqual(p[3], '1234 4000');
      if (X86) assert.equal(p[8], 'x86_64');
    });
  });
}

describe('tsnspawn exec in a busybox-init guest (-b)', { skip }, () => {
  const c = new Running('exec-bbinit', () => image('busybox'), ['-P', '--kill-signal=SIGUSR2', '-b'], async () =>
    (await isListed('exec-bbinit')) && (await exec('exec-bbinit', ['test', '-e', '/run/ready'])).exitCode === 0);
  before(() => c.start());
  after(() => c.stop());
  beforeEach(() => c.mark());
  afterEach(() => c.assertCaseLeftNothing());

  it("runs beside busybox init, in its cgroups, with its bounding set and filter", async () => {
    const r = await exec(c.name, ['/bin/sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; [ "$(cat /proc/self/cgroup)" = "$(cat /proc/1/cgroup)" ] && echo same-cgroup; grep -E "^(CapBnd|Seccomp):" /proc/self/status /proc/1/status']);
    assert.equal(r.exitCode, 0, r.stderr);
    const [init, same, ...status] = r.stdout.trim().split('\n');
    assert.match(init!, /^init/, 'busybox init shows as init');
    assert.equal(same, 'same-cgroup');
    const v = status.map((l) => l.replace(/^\/proc\/(self|1)\/status:/, ''));
    assert.equal(v[0], v[2]);
    assert.equal(v[1], 'Seccomp:\t2');
  });
});

describe('tsnspawn exec in a booted Debian 12 (systemd) on the bare host', { skip }, () => {
  // --volatile=overlay: writes go to a throwaway layer, the cached tree stays as it is.
  const c = new Running('exec-deb', () => image('debian12'), ['--console=pipe', '--volatile=overlay', '-b'], async () =>
    (await isListed('exec-deb')) && (await exec('exec-deb', ['true'])).exitCode === 0, false);
  before(() => c.start());
  after(() => c.stop());
  beforeEach(() => c.mark());
  afterEach(() => c.assertCaseLeftNothing());

  it("waits for systemd, in PID 1's cgroup, with its bounding set and filter, as a user", async () => {
    const up = await exec(c.name, ['systemctl', 'is-system-running', '--wait']);
    assert.match(up.stdout, /^(running|degraded)\n$/, up.stderr);
    const r = await exec(c.name, ['/bin/sh', '-c', '. /etc/os-release; echo $VERSION_ID $container; [ "$(cat /proc/self/cgroup)" = "$(cat /proc/1/cgroup)" ] && echo same-cgroup; grep -E "^(CapBnd|Seccomp):" /proc/self/status /proc/1/status']);
    assert.equal(r.exitCode, 0, r.stderr);
    const [release, same, ...status] = r.stdout.trim().split('\n');
    assert.equal(release, '12 systemd-nspawn');
    assert.equal(same, 'same-cgroup');
    const v = status.map((l) => l.replace(/^\/proc\/(self|1)\/status:/, ''));
    assert.equal(v[0], v[2]);
    assert.equal(v[1], 'Seccomp:\t2');
    const nobody = await run(['exec', '-u', 'nobody', c.name, 'id', '-un']);
    assert.deepEqual(nobody, { exitCode: 0, stdout: 'nobody\n', stderr: '' });
    const status3 = await exec(c.name, ['sh', '-c', 'exit 3']);
    assert.equal(status3.exitCode, 3);
  });
});
