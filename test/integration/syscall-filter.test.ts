/**
 * The system call filter: the calls systemd-nspawn's default filter refuses
 * fail with EPERM inside (also through the i386 and x32 entry points on
 * x86-64, x32's own numbers included), audit sockets with EAFNOSUPPORT,
 * exactly as under Debian's systemd-nspawn in the same run, and
 * SYSTEMD_SECCOMP=0 turns it off. Also: a program bound in from the host
 * runs, though the tree has no such file. Needs root (and gcc, for the probe).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rootSkipReason } from '../harness/root.js';
import { ProbeTree } from '../harness/probe-tree.js';
import { snapshot } from '../harness/host-state.js';
import { assertNoLeaks, assertOneErrorLine, run, runClean, start, untilListed } from '../harness/run.js';

const skip = rootSkipReason();

/**
 * What the probe must see under the filter: the default capabilities keep
 * CAP_SYS_PTRACE etc., not CAP_IPC_LOCK or CAP_SYSLOG. A kernel without
 * IA32 emulation has no i386 entry point to filter (the probe says so on
 * the host too).
 */
const underFilter = (i386: boolean, x32SethostnameOnHost: string): string[] => [
  'getpid ok',
  'keyctl EPERM',
  'add_key EPERM',
  'swapoff EPERM',
  'open_by_handle_at EPERM',
  'kexec_load EPERM',
  'mlock EPERM',
  'syslog EPERM',
  'audit-socket EAFNOSUPPORT',
  'route-socket ok',
  'pidfd_getfd EPERM',
  'process_vm_readv ok',
  'clock_gettime ok',
  'settimeofday EPERM',
  'clock_settime EPERM',
  'sethostname EINVAL',
  ...(process.arch === 'x64'
    ? [
        'x32-kexec_load EPERM',
        ...(i386 ? ['i386-getpid ok', 'i386-keyctl EPERM', 'i386-sethostname EINVAL'] : ['i386-getpid unavailable', 'i386-keyctl unavailable', 'i386-sethostname unavailable']),
        'x32-keyctl EPERM',
        // Past the filter: what this kernel does with an x32 call (ENOSYS without x32 support).
        `x32-sethostname ${x32SethostnameOnHost}`,
      ]
    : []),
];

describe('system call filter', { skip }, () => {
  let probe: ProbeTree;
  before(() => {
    probe = new ProbeTree('syscall-probe.c');
  });
  after(() => probe.remove());
  /** What this kernel offers, from the probe on the host. */
  const i386 = (): boolean => !probe.onHost().includes('i386-getpid unavailable');
  const x32SethostnameOnHost = (): string => /^x32-sethostname (\S+)$/m.exec(probe.onHost())?.[1] ?? 'absent';
  const answers = (stdout: string): Map<string, string> => new Map(stdout.trim().split('\n').map((l) => l.split(' ') as [string, string]));

  it("refuses nspawn's denied calls with EPERM, on every entry point, and runs a program bound in from the host", async () => {
    const r = await probe.ours();
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), underFilter(i386(), x32SethostnameOnHost()));
  });

  it("gives the same answers as Debian's systemd-nspawn", async () => {
    const ours = await probe.ours();
    assert.equal(ours.stdout.trim(), (await probe.theirs()).trim());
  });

  it('lets a kept capability open its calls (--capability=CAP_SYSLOG,CAP_IPC_LOCK), as nspawn does', async () => {
    const caps = ['--capability=CAP_SYSLOG,CAP_IPC_LOCK'];
    const r = await probe.ours(caps);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes('syslog ok') && lines.includes('mlock ok') && lines.includes('keyctl EPERM'), r.stdout);
    assert.equal(r.stdout.trim(), (await probe.theirs(caps)).trim());
  });

  it('is off with SYSTEMD_SECCOMP=0, as for nspawn', async () => {
    const r = await probe.ours([], { env: { SYSTEMD_SECCOMP: '0' } });
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes('keyctl ok'), r.stdout);
    assert.ok(lines.includes('add_key ok'), r.stdout);
    assert.ok(lines.includes('mlock ok'), r.stdout);
  });

  describe('--system-call-filter', () => {
    it('~@clock refuses the clock setters CAP_SYS_TIME opens, clock_gettime still works, as under systemd-nspawn', async () => {
      const cap = ['--capability=CAP_SYS_TIME'];
      const opened = answers((await probe.ours(cap)).stdout);
      assert.equal(opened.get('settimeofday'), 'ok'); // with the capability and no filter option: past the filter
      assert.equal(opened.get('clock_settime'), 'EINVAL');
      const options = [...cap, '--system-call-filter=~@clock'];
      const r = await probe.ours(options);
      assert.equal(r.exitCode, 0, r.stderr);
      const a = answers(r.stdout);
      assert.equal(a.get('settimeofday'), 'EPERM');
      assert.equal(a.get('clock_settime'), 'EPERM');
      assert.equal(a.get('clock_gettime'), 'ok');
      assert.equal(a.get('getpid'), 'ok');
      assert.equal(r.stdout.trim(), (await probe.theirs(options)).trim());
    });

    it('~sethostname refuses it on every entry point (x86-64, x32, i386), its neighbours work, as under systemd-nspawn', async () => {
      const options = ['--system-call-filter=~sethostname'];
      const r = await probe.ours(options);
      assert.equal(r.exitCode, 0, r.stderr);
      const a = answers(r.stdout);
      assert.equal(a.get('sethostname'), 'EPERM');
      assert.equal(a.get('getpid'), 'ok');
      if (process.arch === 'x64') {
        assert.equal(a.get('x32-sethostname'), 'EPERM');
        assert.equal(a.get('i386-sethostname'), i386() ? 'EPERM' : 'unavailable');
        if (i386()) assert.equal(a.get('i386-getpid'), 'ok');
      }
      // Everything else as without the option.
      const plain = answers((await probe.ours()).stdout);
      for (const [k, v] of plain) if (!k.endsWith('sethostname')) assert.equal(a.get(k), v, k);
      assert.equal(r.stdout.trim(), (await probe.theirs(options)).trim());
    });

    it('an allowed call opens what the default refuses (mlock without CAP_IPC_LOCK; @memlock too), as under systemd-nspawn', async () => {
      for (const word of ['mlock', '@memlock']) {
        const options = [`--system-call-filter=${word}`];
        const r = await probe.ours(options);
        assert.equal(r.exitCode, 0, r.stderr);
        const a = answers(r.stdout);
        assert.equal(a.get('mlock'), 'ok', word);
        assert.equal(a.get('keyctl'), 'EPERM', word);
        assert.equal(r.stdout.trim(), (await probe.theirs(options)).trim(), word);
      }
    });

    it('given several times, the lists add up; a refused word wins over the same allowed one (as nspawn)', async () => {
      const options = ['--system-call-filter=mlock', '--system-call-filter=~sethostname', '--system-call-filter=@keyring', '--system-call-filter=~keyctl'];
      const r = await probe.ours(options);
      const a = answers(r.stdout);
      assert.equal(a.get('mlock'), 'ok');
      assert.equal(a.get('sethostname'), 'EPERM');
      assert.equal(a.get('keyctl'), 'EPERM'); // @keyring allowed, keyctl refused by name
      assert.equal(a.get('add_key'), 'ok');
      assert.equal(r.stdout.trim(), (await probe.theirs(options)).trim());
    });

    it('tsnspawn exec into such a container gets the same filter', async () => {
      const name = 'syscall-filter-exec';
      const before = snapshot();
      const child = start(['-q', '--register=no', '--system-call-filter=~sethostname', '--system-call-filter=mlock', '-M', name, ...probe.treeArgs(), '/bin/sleep', '600'], { timeoutMs: 120_000 });
      try {
        assert.ok(await untilListed(name), `${name} did not come up`);
        const r = await run(['exec', name, '/probe']);
        assert.equal(r.exitCode, 0, r.stderr);
        const a = answers(r.stdout);
        assert.equal(a.get('sethostname'), 'EPERM');
        assert.equal(a.get('mlock'), 'ok');
        assert.equal(a.get('keyctl'), 'EPERM');
        if (process.arch === 'x64') assert.equal(a.get('x32-sethostname'), 'EPERM');
      } finally {
        await run(['stop', name]);
        await child;
      }
      await assertNoLeaks(before, [probe.tree]);
    });

    it('an unknown group or call: one line naming it and the option, nothing left behind', async () => {
      assertOneErrorLine(await runClean(['-D', probe.tree, '--system-call-filter=@nonsense', '/bin/true'], [probe.tree]), /invalid --system-call-filter=@nonsense: unknown system call group @nonsense/);
      assertOneErrorLine(await runClean(['-D', probe.tree, '--system-call-filter=~nosuchcall', '/bin/true'], [probe.tree]), /invalid --system-call-filter=~nosuchcall: unknown system call nosuchcall/);
    });
  });
});
