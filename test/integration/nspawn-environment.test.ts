/**
 * systemd-nspawn's environment variables (src/settings/nspawn-environment.ts):
 * Debian 12 boots to running under every combination of
 * SYSTEMD_NSPAWN_UNIFIED_HIERARCHY (yes, no), SYSTEMD_NSPAWN_USE_CGNS (yes,
 * no) and SYSTEMD_NSPAWN_API_VFS_WRITABLE (yes, no, network), and under the
 * host's own layout with and without a cgroup namespace, and each variable
 * took effect inside; SYSTEMD_NSPAWN_TMPFS_TMP and
 * SYSTEMD_NSPAWN_CHECK_OS_RELEASE with busybox; a bad value is one line and
 * nothing left behind; the other variables nspawn reads (SHARE_*, LOCK,
 * LOG_SECCOMP, SUPPRESS_SYNC, NETWORK_MAC, and CONTAINER_SERVICE with the
 * real machined). Needs root.
 *
 * Debian's systemd-nspawn 252 on this hybrid host, same tree, same variables
 * (measured when these cases were written): the nine combinations with
 * UNIFIED_HIERARCHY=yes, or =no with a cgroup namespace, reach running with
 * the same layout, namespace and API VFS facts as tsnspawn (it does not mask
 * /proc/kallsyms; tsnspawn does, as later nspawn). UNIFIED_HIERARCHY=no with
 * USE_CGNS=no fails before the guest starts ("Failed to read link
 * /sys/fs/cgroup/hugetlb": without a namespace it expects every v1
 * controller of /proc/cgroups mounted on the host, and this host leaves
 * hugetlb, net_cls, net_prio and perf_event unmounted); tsnspawn mounts the
 * controllers the host has, and boots.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { after, before, describe, it } from 'node:test';
import { boot } from '../../src/api/index.js';
import { detectLayout, type CgroupLayout } from '../../src/runtime/cgroup-layout.js';
import { waitFor } from '../harness/boot-probe.js';
import { snapshot } from '../harness/host-state.js';
import { HostMachine, TSNSPAWN_INSIDE } from '../harness/host-machine.js';
import { image } from '../harness/images.js';
import { TSNSPAWN } from '../harness/paths.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, assertOneErrorLine, runClean, start } from '../harness/run.js';

const skip = rootSkipReason();

type YesNo = 'yes' | 'no';
type ApiVfs = YesNo | 'network';
interface Combination {
  /** SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: yes, no, or unset (the host's layout). */
  unified?: YesNo;
  cgns: YesNo;
  apiVfs: ApiVfs;
}

/**
 * Every combination of the three (2 x 2 x 3: the mounts differ for each),
 * then the host's own layout with and without a cgroup namespace.
 */
const COMBINATIONS: Combination[] = [
  ...(['yes', 'no'] as const).flatMap((unified) =>
    (['yes', 'no'] as const).flatMap((cgns) => (['no', 'yes', 'network'] as const).map((apiVfs) => ({ unified, cgns, apiVfs })))),
  { cgns: 'yes', apiVfs: 'no' },
  { cgns: 'no', apiVfs: 'network' },
];

function variables(c: Combination): Record<string, string> {
  return {
    ...(c.unified ? { SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: c.unified } : {}),
    SYSTEMD_NSPAWN_USE_CGNS: c.cgns,
    SYSTEMD_NSPAWN_API_VFS_WRITABLE: c.apiVfs,
  };
}

/** The layout variable and its old name, unset for the host's layout whatever the test's own environment holds. */
const LAYOUT_VARIABLES = ['SYSTEMD_NSPAWN_UNIFIED_HIERARCHY', 'UNIFIED_CGROUP_HIERARCHY'];

/** The variables (and no layout variable but theirs) in tsnspawn's environment while fn starts it (the API's tsnspawn inherits ours). */
async function withVariables<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries([...LAYOUT_VARIABLES, ...Object.keys(vars)].map((k) => [k, process.env[k]]));
  for (const k of LAYOUT_VARIABLES) delete process.env[k];
  Object.assign(process.env, vars);
  try {
    return await fn();
  } finally {
    for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
  }
}

/**
 * Facts from inside, one KEY=VALUE a line. The hostname and /proc/sys are
 * the container's own (UTS namespace), so writing the hostname back is the
 * writability check that changes nothing; /proc/sys/net is the host's
 * without a private network, so that one is read from the mount table.
 * The cgroup namespace is init's (/proc/1/ns), compared with the host's.
 */
const PROBE = `
fstypes() { awk '{ for (i = 7; i <= NF; i++) if ($i == "-") { print $(i + 1); break } }' /proc/self/mountinfo; }
echo "cgroupfs=$(stat -fc %T /sys/fs/cgroup)"
echo "unifiedfs=$(stat -fc %T /sys/fs/cgroup/unified 2>/dev/null || echo none)"
echo "systemdfs=$(stat -fc %T /sys/fs/cgroup/systemd 2>/dev/null || echo none)"
echo "v1mounts=$(fstypes | grep -c '^cgroup$')"
echo "v2mounts=$(fstypes | grep -c '^cgroup2$')"
echo "cgns=$(readlink /proc/1/ns/cgroup)"
echo "pid1_v2=$(sed -n 's/^0:://p' /proc/1/cgroup)"
echo "pid1_systemd=$(sed -n 's/^[0-9]*:name=systemd://p' /proc/1/cgroup)"
cat /proc/sys/kernel/hostname > /proc/sys/kernel/hostname 2>/dev/null && echo procsys=rw || echo procsys=ro
echo "procsysnet=$(awk '$5 == "/proc/sys/net" { split($6, o, ","); print o[1] }' /proc/self/mountinfo)"
echo "sys=$(awk '$5 == "/sys" { split($6, o, ","); print o[1] }' /proc/self/mountinfo)"
echo "kallsyms=$(awk '$5 == "/proc/kallsyms" { print "masked" }' /proc/self/mountinfo)"
`;

function parseFacts(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

function expectedLayout(host: CgroupLayout, c: Combination): CgroupLayout | 'refused' {
  if (c.unified === undefined) return host;
  if (c.unified === 'yes') return host === 'legacy' ? 'refused' : 'unified';
  return host === 'unified' ? 'refused' : 'legacy';
}

describe('nspawn environment variables: Debian 12 boots under every cgroup and API VFS combination', { skip }, () => {
  let tree = '';
  let host: CgroupLayout = 'hybrid';
  let hostCgns = '';
  before(() => {
    tree = image('debian12');
    host = detectLayout();
    hostCgns = readlinkSync('/proc/self/ns/cgroup');
  });

  for (const combo of COMBINATIONS) {
    const label = Object.entries(variables(combo)).map(([k, v]) => `${k.replace('SYSTEMD_NSPAWN_', '')}=${v}`).join(' ') + (combo.unified ? '' : " (the host's layout)");
    it(`${label}: running, and each variable took effect inside`, async (t) => {
      const layout = expectedLayout(host, combo);
      const before = snapshot();
      if (layout === 'refused') {
        // This host lacks the hierarchy the layout needs (e.g. legacy on a pure cgroup2 host): refused, naming the variable.
        const r = await withVariables(variables(combo), () => runClean(['-q', '-x', '-D', tree, '-b'], [tree]));
        assertOneErrorLine(r, /SYSTEMD_NSPAWN_UNIFIED_HIERARCHY/);
        return;
      }
      const facts: Record<string, string> = await withVariables(variables(combo), async (): Promise<Record<string, string>> => {
        await using c = await boot({ directory: tree, ephemeral: true, signal: t.signal });
        await c.ready({ timeout: 120_000, signal: t.signal });
        const state = await c.exec(['systemctl', 'is-system-running', '--wait'], { timeout: 120_000 });
        const failed = state.stdout.trim() === 'running' ? '' : (await c.exec(['systemctl', '--failed', '--plain', '--no-legend'])).stdout;
        assert.equal(state.stdout.trim(), 'running', `failed units: ${failed}`);
        const probe = await c.exec(['sh', '-c', PROBE], { check: true });
        const name = c.facts.name;
        assert.equal(await c.poweroff(), 0);
        return { ...parseFacts(probe.stdout), name };
      });
      await assertNoLeaks(before, [tree]);

      // SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: what is mounted at /sys/fs/cgroup:
      // cgroup2 alone (unified), v1 with cgroup2 at "unified" (hybrid), v1 alone (legacy).
      assert.equal(facts.cgroupfs, layout === 'unified' ? 'cgroup2fs' : 'tmpfs');
      assert.equal(facts.unifiedfs, layout === 'hybrid' ? 'cgroup2fs' : 'none');
      assert.equal(facts.systemdfs, layout === 'unified' ? 'none' : 'cgroupfs', 'name=systemd (v1) at /sys/fs/cgroup/systemd');
      if (layout === 'unified') assert.equal(facts.v1mounts, '0', 'no cgroup v1 mounted in a unified container');
      else assert.notEqual(facts.v1mounts, '0', 'cgroup v1 hierarchies mounted');
      if (layout === 'legacy') assert.equal(facts.v2mounts, '0', 'no cgroup2 mounted in a legacy container');
      else assert.notEqual(facts.v2mounts, '0', 'cgroup2 mounted');
      // SYSTEMD_NSPAWN_USE_CGNS: init in a cgroup namespace of its own, so its
      // cgroup in the hierarchy systemd manages is /init.scope; without, the
      // host's namespace and the host's whole path of the container's cgroup.
      const own = layout === 'unified' ? facts.pid1_v2! : facts.pid1_systemd!;
      if (combo.cgns === 'yes') {
        assert.notEqual(facts.cgns, hostCgns, "init's cgroup namespace is its own");
        assert.equal(own, '/init.scope');
      } else {
        assert.equal(facts.cgns, hostCgns, "init's cgroup namespace is the host's");
        assert.match(own, new RegExp(`^/.*${facts.name}.*/init\\.scope$`), 'the host path of the container cgroup');
      }
      // SYSTEMD_NSPAWN_API_VFS_WRITABLE: /proc/sys and /sys writable with yes;
      // with network only /proc/sys/net (bound writable), the rest read-only.
      const writable = combo.apiVfs === 'yes';
      assert.equal(facts.procsys, writable ? 'rw' : 'ro');
      assert.equal(facts.procsysnet, combo.apiVfs === 'network' ? 'rw' : '', '/proc/sys/net bound writable only with network');
      assert.equal(facts.sys, writable ? 'rw' : 'ro');
      assert.equal(facts.kallsyms, writable ? '' : 'masked', '/proc/kallsyms masked unless writable');
    });
  }
});

describe('nspawn environment variables with busybox', { skip }, () => {
  let scratch = '';
  let tree = '';
  before(() => {
    // A private copy without os-release, and a marker in its own /tmp.
    scratch = mkdtempSync('/var/tmp/tsnspawn-envvars-');
    tree = `${scratch}/tree`;
    execFileSync('cp', ['-a', image('busybox'), tree]);
    rmSync(`${tree}/etc/os-release`, { force: true });
    rmSync(`${tree}/usr/lib/os-release`, { force: true });
    writeFileSync(`${tree}/tmp/from-the-tree`, 'x\n');
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  const listTmp = ['/bin/sh', '-c', 'ls /tmp; awk \'$5 == "/tmp" { print $9 }\' /proc/self/mountinfo'];

  it('SYSTEMD_NSPAWN_TMPFS_TMP=0 leaves the tree\'s /tmp; unset, /tmp is a fresh tmpfs', async () => {
    const fresh = await runClean(['-q', '-D', tree, ...listTmp], [tree]);
    assert.equal(fresh.exitCode, 0, fresh.stderr);
    assert.equal(fresh.stdout, 'tmpfs\n');
    const kept = await runClean(['-q', '-D', tree, ...listTmp], [tree], { env: { SYSTEMD_NSPAWN_TMPFS_TMP: '0' } });
    assert.equal(kept.exitCode, 0, kept.stderr);
    assert.equal(kept.stdout, 'from-the-tree\n');
  });

  it('a tree without os-release runs a command (as nspawn), and boots only with SYSTEMD_NSPAWN_CHECK_OS_RELEASE=0', async () => {
    const command = await runClean(['-q', '-D', tree, '/bin/true'], [tree]);
    assert.equal(command.exitCode, 0, command.stderr);
    const refused = await runClean(['-q', '-D', tree, '-b'], [tree]);
    assertOneErrorLine(refused, /no \/etc\/os-release or \/usr\/lib\/os-release .*SYSTEMD_NSPAWN_CHECK_OS_RELEASE=0/);
    const explicit = await runClean(['-q', '-D', tree, '-b'], [tree], { env: { SYSTEMD_NSPAWN_CHECK_OS_RELEASE: 'yes' } });
    assertOneErrorLine(explicit, /no \/etc\/os-release/);

    const before = snapshot();
    const child = start(['-D', tree, '--kill-signal=SIGUSR2', '-b'], { env: { SYSTEMD_NSPAWN_CHECK_OS_RELEASE: '0' }, timeoutMs: 60_000 });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('busybox init: ready'), 30_000, 'busybox init to come up');
    child.kill('SIGTERM');
    const r = await child;
    assert.equal(r.exitCode, 0, String(r.stderr));
    await assertNoLeaks(before, [tree]);
  });

  it('a bad value is one line naming the variable, and nothing is started', async () => {
    for (const [name, value] of [
      ['SYSTEMD_NSPAWN_USE_CGNS', 'maybe'],
      ['SYSTEMD_NSPAWN_API_VFS_WRITABLE', 'net'],
      ['SYSTEMD_NSPAWN_TMPFS_TMP', ''],
      ['SYSTEMD_NSPAWN_UNIFIED_HIERARCHY', '2'],
      ['SYSTEMD_NSPAWN_CHECK_OS_RELEASE', 'nope'],
    ] as const) {
      const r = await runClean(['-q', '-D', tree, '/bin/true'], [tree], { env: { [name]: value } });
      assertOneErrorLine(r, new RegExp(`invalid value '${value}' of \\$${name}`));
    }
  });

  it('SYSTEMD_NSPAWN_SHARE_NS_IPC/PID/UTS and SHARE_SYSTEM set true: refused in one line (tsnspawn cannot share them); false runs', async () => {
    for (const name of ['SYSTEMD_NSPAWN_SHARE_NS_IPC', 'SYSTEMD_NSPAWN_SHARE_NS_PID', 'SYSTEMD_NSPAWN_SHARE_NS_UTS', 'SYSTEMD_NSPAWN_SHARE_SYSTEM']) {
      assertOneErrorLine(await runClean(['-q', '-D', tree, '/bin/true'], [tree], { env: { [name]: '1' } }), new RegExp(`cannot use ${name}=1: .* of its own \\(unset it\\)`));
      const off = await runClean(['-q', '-D', tree, '/bin/true'], [tree], { env: { [name]: '0' } });
      assert.equal(off.exitCode, 0, off.stderr);
      assert.equal(off.stderr, '');
    }
  });

  it('SYSTEMD_NSPAWN_LOCK=1 (the default: the tree is locked) and SYSTEMD_LOG_SECCOMP=1: the container runs, with one warning for the latter', async () => {
    const r = await runClean(['-q', '-D', tree, '/bin/true'], [tree], { env: { SYSTEMD_NSPAWN_LOCK: '1', SYSTEMD_LOG_SECCOMP: '1' } });
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^tsnspawn: SYSTEMD_LOG_SECCOMP .* does not log them/);
  });

  it('SYSTEMD_SUPPRESS_SYNC=1 suppresses the sync calls, also over --suppress-sync=no (as nspawn); =0 over --suppress-sync=yes', async () => {
    // fsync/fdatasync of /dev/null fail with EINVAL in the kernel; suppressed, they succeed without reaching it.
    const probe = ['/bin/sh', '-c', 'sync /dev/null 2>/dev/null && echo fsync-ok || echo fsync-einval; sync -d /dev/null 2>/dev/null && echo fdatasync-ok || echo fdatasync-einval'];
    const on = await runClean(['-q', '-D', tree, '--suppress-sync=no', ...probe], [tree], { env: { SYSTEMD_SUPPRESS_SYNC: '1' } });
    assert.equal(on.stdout, 'fsync-ok\nfdatasync-ok\n', on.stderr);
    const off = await runClean(['-q', '-D', tree, '--suppress-sync=yes', ...probe], [tree], { env: { SYSTEMD_SUPPRESS_SYNC: '0' } });
    assert.equal(off.stdout, 'fsync-einval\nfdatasync-einval\n', off.stderr);
  });

  it('SYSTEMD_NSPAWN_NETWORK_MAC is host0\'s address with -n; without a veth it is warned about; a group address is refused', async () => {
    const before = snapshot();
    // In a network namespace of the test's own: the veth's host side never reaches the host's links.
    const r = await execa('unshare', ['--net', TSNSPAWN, '-q', '--register=no', '-n', '-D', tree, '/bin/sh', '-c', 'cat /sys/class/net/host0/address'], {
      env: { SYSTEMD_NSPAWN_NETWORK_MAC: '12:34:56:78:90:AB' },
      reject: false,
      stdin: 'ignore',
      timeout: 60_000,
    });
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(r.stdout, '12:34:56:78:90:ab');
    await assertNoLeaks(before, [tree]);
    const without = await runClean(['-q', '-D', tree, '/bin/true'], [tree], { env: { SYSTEMD_NSPAWN_NETWORK_MAC: '12:34:56:78:90:ab' } });
    assert.equal(without.exitCode, 0, without.stderr);
    assert.match(without.stderr, /^tsnspawn: SYSTEMD_NSPAWN_NETWORK_MAC is set, but this container has no veth .*: it changes nothing\n$/);
    assertOneErrorLine(await runClean(['-q', '-D', tree, '-n', '/bin/true'], [tree], { env: { SYSTEMD_NSPAWN_NETWORK_MAC: '01:00:5e:00:00:01' } }), /invalid value '01:00:5e:00:00:01' of \$SYSTEMD_NSPAWN_NETWORK_MAC: it takes a MAC address/);
  });
});

describe('SYSTEMD_NSPAWN_CONTAINER_SERVICE with the real systemd-machined (inside the host image)', { skip }, () => {
  let host: HostMachine;
  before(async () => {
    host = await HostMachine.boot({ unified: false, machines: { busybox: image('busybox') } });
  });
  after(async () => host?.shutdown());

  it('is the Service machinectl shows', async () => {
    // The container says it runs (registration is done before its command starts) and waits for the test to let it end.
    const script = `echo up > ${host.share}/up; while [ ! -e ${host.share}/go ]; do sleep 0.1; done`;
    const run = host.run([TSNSPAWN_INSIDE, '-q', '-P', `--bind=${host.share}`, '-D', '/var/lib/machines/busybox', '-M', 'service-name', '/bin/sh', '-c', script], {
      env: { SYSTEMD_NSPAWN_CONTAINER_SERVICE: 'ci-runner' },
    });
    try {
      await waitFor(() => existsSync(`${host.share}/up`), 60_000, 'the container to start');
      const service = await host.sh('machinectl --no-pager show service-name -p Service --value', { direct: true });
      assert.equal(service.stdout, 'ci-runner\n', service.stderr);
    } finally {
      writeFileSync(`${host.share}/go`, 'x\n');
    }
    const r = await run;
    assert.equal(r.exitCode, 0, r.stderr);
  });
});
