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

const skip = rootSkipReason();

/**
 * What the probe must see under the filter: the default capabilities keep
 * CAP_SYS_PTRACE etc., not CAP_IPC_LOCK or CAP_SYSLOG. A kernel without
 * IA32 emulation has no i386 entry point to filter (the probe says so on
 * the host too).
 */
const underFilter = (i386: boolean): string[] => [
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
  ...(process.arch === 'x64'
    ? ['x32-kexec_load EPERM', ...(i386 ? ['i386-getpid ok', 'i386-keyctl EPERM'] : ['i386-getpid unavailable', 'i386-keyctl unavailable']), 'x32-keyctl EPERM']
    : []),
];

describe('system call filter', { skip }, () => {
  let probe: ProbeTree;
  before(() => {
    probe = new ProbeTree('syscall-probe.c');
  });
  after(() => probe.remove());

  it("refuses nspawn's denied calls with EPERM, on every entry point, and runs a program bound in from the host", async () => {
    const r = await probe.ours();
    assert.equal(r.exitCode, 0, r.stderr);
    const i386 = !probe.onHost().includes('i386-getpid unavailable');
    assert.deepEqual(r.stdout.trim().split('\n'), underFilter(i386));
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
});
