/**
 * The launcher against the busybox tree: what the payload sees (asserted from
 * inside) and that nothing is left on the host (asserted after each case).
 * Needs root.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execa } from 'execa';
import { before, describe, it } from 'node:test';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { runClean, type RunResult } from '../harness/run.js';

const skip = rootSkipReason();

describe('tsnspawn -D busybox COMMAND', { skip }, () => {
  let tree = '';
  before(() => {
    tree = image('busybox');
  });

  /** Runs a shell snippet as PID 1's child in a quiet, piped container. */
  const sh = (script: string, extra: string[] = [], opts = {}): Promise<RunResult> =>
    runClean(['-q', '--console=pipe', '-D', tree, ...extra, '/bin/sh', '-c', script], [tree], opts);

  it('runs the command as PID 1 and propagates its output and exit code', async () => {
    const r = await sh('echo "pid=$$"; exit 42');
    assert.equal(r.stdout, 'pid=1\n');
    assert.equal(r.exitCode, 42);
  });

  it('exits 0 and prints the closing line without -q', async () => {
    const r = await runClean(['-D', tree, '/bin/true'], [tree]);
    assert.equal(r.exitCode, 0);
    assert.match(r.stderr, /^Spawning container busybox-[0-9a-f]+ on \/.*\.\nContainer busybox-[0-9a-f]+ exited successfully\.\n$/);
  });

  it('reports exit code 133 as 1 (reserved for restart requests)', async () => {
    assert.equal((await sh('exit 133')).exitCode, 1);
  });

  it('sets the Container Interface environment for PID 1', async () => {
    const uuid = 'a5c8f2c4-6d7e-4b1a-9f3e-2c1d0e9f8a7b';
    const r = await sh('env', ['--uuid', uuid, '-E', 'FOO=bar baz', '--setenv=PATH=/usr/bin:/bin'], { env: { TERM: 'xterm-test' } });
    const env = Object.fromEntries(r.stdout.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const hostId = /^ID=(.*)$/m.exec(readFileSync('/etc/os-release', 'utf8'))![1]!.replace(/"/g, '');
    assert.equal(env.container, 'systemd-nspawn');
    assert.equal(env.container_uuid, uuid);
    assert.equal(env.container_host_id, hostId);
    assert.equal(env.NOTIFY_SOCKET, '/run/host/notify');
    assert.equal(env.HOME, '/root');
    assert.equal(env.USER, 'root');
    assert.equal(env.LOGNAME, 'root');
    assert.equal(env.TERM, 'xterm-test');
    assert.equal(env.LANG, 'C.UTF-8');
    assert.equal(env.FOO, 'bar baz');
    assert.equal(env.PATH, '/usr/bin:/bin', '-E overrides the default PATH');
  });

  it('provides /run/host with the manager, the uuid, os-release and inaccessible nodes', async () => {
    const uuid = '0f1e2d3c-4b5a-4978-8a6b-5c4d3e2f1a0b';
    const r = await sh(
      'cd /run/host && cat container-manager container-uuid && cmp os-release /run/host/os-release && ' +
        'for f in reg dir fifo sock chr blk; do stat -c "%n %F %a %t:%T" inaccessible/$f; done; stat -c "%n %F" notify; ' +
        'touch /run/host/x 2>/dev/null && echo WRITABLE || echo read-only',
      ['--uuid', uuid],
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines, [
      'systemd-nspawn',
      uuid,
      'inaccessible/reg regular empty file 0 0:0',
      'inaccessible/dir directory 0 0:0',
      'inaccessible/fifo fifo 0 0:0',
      'inaccessible/sock socket 0 0:0',
      'inaccessible/chr character special file 0 0:0',
      'inaccessible/blk block special file 0 0:0',
      'notify socket',
      'read-only',
    ]);
  });

  it('has the host os-release at /run/host/os-release', async () => {
    const r = await sh('cat /run/host/os-release');
    assert.equal(r.stdout, readFileSync('/etc/os-release', 'utf8'));
  });

  it('has a private /dev with the standard nodes, a new devpts and links', async () => {
    const r = await sh(
      'for d in null zero full random urandom tty net/tun; do stat -c "%n %F %a %t:%T" /dev/$d; done; ' +
        'for l in ptmx fd stdin stdout stderr; do readlink /dev/$l; done; ' +
        'grep -E " /dev(/pts|/shm|/mqueue)? " /proc/self/mountinfo | awk "{print \\$5, \\$(NF-2)}"; ls /dev/pts',
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(
      r.stdout,
      [
        '/dev/null character special file 666 1:3',
        '/dev/zero character special file 666 1:5',
        '/dev/full character special file 666 1:7',
        '/dev/random character special file 666 1:8',
        '/dev/urandom character special file 666 1:9',
        '/dev/tty character special file 666 5:0',
        '/dev/net/tun character special file 666 a:c8',
        'pts/ptmx',
        '/proc/self/fd',
        '/proc/self/fd/0',
        '/proc/self/fd/1',
        '/proc/self/fd/2',
        '/dev tmpfs',
        '/dev/shm tmpfs',
        '/dev/mqueue mqueue',
        '/dev/pts devpts',
        // A fresh devpts instance holds only ptmx (and the console's pty lives on the host's).
        'ptmx',
        '',
      ].join('\n'),
    );
  });

  it('keeps /sys and /proc/sys read-only, masks kernel files and /run, /tmp are private tmpfs', async () => {
    const r = await sh(
      'echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo procsys-writable || echo procsys-ro; ' +
        'mkdir /sys/x 2>/dev/null && echo sys-writable || echo sys-ro; ' +
        'cat /proc/timer_list 2>/dev/null | head -c 1 | wc -c; ' +
        'awk \'$5=="/proc/sys"||$5=="/sys"{print $5, substr($6,1,2)}\' /proc/self/mountinfo; ' +
        'awk \'$5=="/run"||$5=="/tmp"{print $5, $(NF-2)}\' /proc/self/mountinfo; ' +
        'echo x > /proc/bus/x 2>/dev/null && echo bus-writable || echo bus-ro',
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'procsys-ro\nsys-ro\n0\n/proc/sys ro\n/sys ro\n/run tmpfs\n/tmp tmpfs\nbus-ro\n');
  });

  it('sets the hostname to the machine name, or --hostname', async () => {
    assert.equal((await sh('hostname', ['-M', 'probe-1'])).stdout, 'probe-1\n');
    assert.equal((await sh('hostname', ['-M', 'probe-1', '--hostname', 'other.example'])).stdout, 'other.example\n');
  });

  it("bounds capabilities to systemd-nspawn's default set", async () => {
    const r = await sh('grep -E "^Cap(Bnd|Eff|Amb)" /proc/self/status');
    const host = BigInt('0x' + /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!);
    // nspawn's 26 capabilities (0xfdecafff), limited to what the host itself has.
    const expected = (0xfdecafffn & host).toString(16).padStart(16, '0');
    assert.equal(r.stdout, `CapEff:\t${expected}\nCapBnd:\t${expected}\nCapAmb:\t0000000000000000\n`);
  });

  it('keeps --capability on top, drops --drop-capability, and a non-root user starts with none', async () => {
    const host = BigInt('0x' + /^CapBnd:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1]!);
    const hex = (mask: bigint): string => (mask & host).toString(16).padStart(16, '0');
    const caps = async (...args: string[]): Promise<string> => (await sh('grep -E "^Cap(Eff|Bnd)" /proc/self/status', args)).stdout;
    const netAdmin = 1n << 12n;
    const mknod = 1n << 27n;
    assert.equal(await caps('--capability=CAP_NET_ADMIN'), `CapEff:\t${hex(0xfdecafffn | netAdmin)}\nCapBnd:\t${hex(0xfdecafffn | netAdmin)}\n`);
    assert.equal(await caps('--drop-capability=CAP_MKNOD'), `CapEff:\t${hex(0xfdecafffn & ~mknod)}\nCapBnd:\t${hex(0xfdecafffn & ~mknod)}\n`);
    // Dropping them all still lets the helper change groups and uid (the effective set goes last).
    assert.equal(await caps('--drop-capability=all'), `CapEff:\t${hex(0n)}\nCapBnd:\t${hex(0n)}\n`);
    assert.equal(await caps('-u', 'tester'), `CapEff:\t${hex(0n)}\nCapBnd:\t${hex(0xfdecafffn)}\n`);
  });

  it('--private-network: only loopback, up with 127.0.0.1, its own /proc/sys/net writable, as under systemd-nspawn', async () => {
    const sysctl = 'echo "0 2" > /proc/sys/net/ipv4/ping_group_range 2>/dev/null && echo net-rw || echo net-ro';
    const script = `ls /sys/class/net; ip -4 addr show lo | grep -o "inet [0-9./]*"; ping -c1 -W1 127.0.0.1 >/dev/null && echo ping-ok; ${sysctl}`;
    const r = await sh(script, ['--private-network']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'lo\ninet 127.0.0.1/8\nping-ok\nnet-rw\n');
    const theirs = await execa('systemd-nspawn', ['-q', '-P', '--register=no', '--keep-unit', '--private-network', '-D', tree, '/bin/sh', '-c', script], { reject: false });
    assert.equal(String(theirs.stdout), r.stdout.trimEnd());
    const shared = await sh(`ls /sys/class/net; ${sysctl}`);
    assert.notDeepEqual(shared.stdout.trim().split('\n').slice(0, -1), ['lo'], "without it, the host's interfaces are there");
    assert.match(shared.stdout, /net-ro\n$/, "and the host's /proc/sys/net is read-only");
  });

  it('passes no file descriptor other than 0, 1 and 2 to the payload', async () => {
    // ls opens the directory itself as fd 3; nothing else may be open.
    const r = await runClean(['-q', '-P', '-D', tree, '/bin/ls', '/proc/self/fd'], [tree]);
    assert.equal(r.stdout.split(/\s+/).filter(Boolean).join(' '), '0 1 2 3');
  });

  it('runs as --user with its uid, gid, HOME and no effective capabilities; a COMMAND starts in /', async () => {
    const r = await sh('id -u; id -g; echo "$HOME $USER $LOGNAME"; pwd; grep CapEff /proc/self/status', ['-u', 'tester']);
    assert.equal(r.stdout, '1000\n1000\n/home/tester tester tester\n/\nCapEff:\t0000000000000000\n');
  });

  it("starts the login shell in the user's home", async () => {
    const r = await runClean(['-q', '-P', '-D', tree, '-u', 'tester'], [tree], { input: 'pwd\n' });
    assert.equal(r.stdout, '/home/tester\n');
  });

  it('honours --chdir', async () => {
    assert.equal((await sh('pwd', ['--chdir', '/usr/bin'])).stdout, '/usr/bin\n');
  });

  it('bind mounts --bind, --bind-ro and --tmpfs', async () => {
    const { mkdtempSync, writeFileSync, readFileSync: rf, rmSync } = await import('node:fs');
    const dir = mkdtempSync('/var/tmp/tsnspawn-bind-');
    try {
      writeFileSync(`${dir}/in.txt`, 'from host\n');
      const r = await sh(
        'cat /mnt/rw/in.txt; echo written > /mnt/rw/out.txt; echo x > /mnt/ro/y 2>/dev/null && echo ro-writable || echo ro-refused; ' +
          'touch /scratch/a && awk \'$5=="/scratch"{print $(NF-2)}\' /proc/self/mountinfo',
        [`--bind=${dir}:/mnt/rw`, `--bind-ro=${dir}:/mnt/ro`, '--tmpfs=/scratch'],
      );
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, 'from host\nro-refused\ntmpfs\n');
      assert.equal(rf(`${dir}/out.txt`, 'utf8'), 'written\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('makes the root read-only with --read-only but keeps /tmp writable', async () => {
    const r = await sh('touch /probe 2>/dev/null && echo root-writable || echo root-ro; touch /tmp/ok && echo tmp-ok', ['--read-only']);
    assert.equal(r.stdout, 'root-ro\ntmp-ok\n');
  });

  it("runs the tree's login shell without a COMMAND", async () => {
    const r = await runClean(['-q', '-D', tree, '--console=pipe'], [tree], { input: 'echo "shell:$0:$$"\nexit 3\n' });
    assert.equal(r.stdout, 'shell:-sh:1\n');
    assert.equal(r.exitCode, 3);
  });

  it('finds the tree by machine name in the search path (-M without -D)', async () => {
    const { mkdirSync, symlinkSync, rmSync, existsSync } = await import('node:fs');
    const link = '/run/machines/tsnspawn-test-lookup';
    mkdirSync('/run/machines', { recursive: true });
    if (existsSync(link)) rmSync(link);
    symlinkSync(tree, link);
    try {
      const r = await runClean(['-q', '-P', '-M', 'tsnspawn-test-lookup', '/bin/hostname'], [tree]);
      assert.equal(r.stdout, 'tsnspawn-test-lookup\n');
    } finally {
      rmSync(link);
    }
  });

  it('--timezone=bind shows the host zone; --resolv-conf=bind-host the host resolver, read-only', async () => {
    const r = await sh(
      'cmp -s /etc/localtime /run/host-lt && echo tz-same; cat /etc/resolv.conf; echo x >> /etc/resolv.conf 2>/dev/null && echo rw || echo ro',
      ['--timezone=bind', '--resolv-conf=bind-host', '--bind-ro=/etc/localtime:/run/host-lt'],
    );
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, `tz-same\n${readFileSync('/etc/resolv.conf', 'utf8')}ro\n`);
  });

  it('--link-journal=try-host binds /var/log/journal/MACHINE-ID from the host', async () => {
    const { rmSync, statSync } = await import('node:fs');
    const id = '6a7b8c9d0e1f42a3b4c5d6e7f8091a2b';
    try {
      const r = await sh(`awk '$5=="/var/log/journal/${id}"{print "bound"}' /proc/self/mountinfo; touch /var/log/journal/${id}/from-guest`, [
        '--uuid',
        id,
        '--link-journal=try-host',
      ]);
      assert.equal(r.stdout, 'bound\n', r.stderr);
      assert.ok(statSync(`/var/log/journal/${id}/from-guest`).isFile(), 'the guest wrote into the host directory');
    } finally {
      rmSync(`/var/log/journal/${id}`, { recursive: true, force: true });
    }
  });

  it('refuses --link-journal=host when the machine id is the host\'s', async () => {
    const hostId = readFileSync('/etc/machine-id', 'utf8').trim();
    const r = await runClean(['-q', '-D', tree, '--uuid', hostId, '--link-journal=host', '/bin/true'], [tree]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /^tsnspawn: cannot use --link-journal=host: the container's machine id .* is the host's/);
  });
});
