/**
 * The escape suite: root inside a container attacks its host, once without
 * a user namespace and once with -U. Every attack is its own case and has a
 * benign neighbour that must work (so a container that can do nothing at
 * all cannot pass), and the host is checked afterwards where the attack
 * would have left a mark. Needs root (and gcc, for the probe).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { image } from '../harness/images.js';
import { TOP } from '../harness/paths.js';
import { rootSkipReason } from '../harness/root.js';
import { waitFor } from '../harness/boot-probe.js';
import { snapshot } from '../harness/host-state.js';
import { assertNoLeaks, run, runClean, start } from '../harness/run.js';

const skip = rootSkipReason();

/** A loop device over a file holding a secret: a disk of the host's that root on the host can read. */
function hostDisk(dir: string): { dev: string; major: number; minor: number } {
  const img = Buffer.alloc(1 << 20);
  img.write('HOST-DISK-SECRET');
  writeFileSync(`${dir}/disk.img`, img);
  const dev = execFileSync('losetup', ['-f', '--show', `${dir}/disk.img`], { encoding: 'utf8' }).trim();
  const rdev = statSync(dev).rdev;
  return { dev, major: Math.floor(rdev / 256) & 0xfff, minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
}

for (const mode of ['without a user namespace', 'with -U'] as const) {
  const modeArgs = mode === 'with -U' ? ['-U'] : [];
  describe(`escape attempts ${mode}`, { skip }, () => {
    let dir = '';
    let tree = '';
    let disk: { dev: string; major: number; minor: number } | undefined;
    before(() => {
      dir = mkdtempSync('/var/tmp/tsnspawn-escape-');
      execFileSync('gcc', ['-static', '-O2', '-o', `${dir}/escape-probe`, `${TOP}/test/harness/escape-probe.c`]);
      disk = hostDisk(dir);
      // A private copy of the tree: some cases plant symlinks in it.
      tree = `${dir}/tree`;
      cpSync(image('busybox'), tree, { recursive: true, verbatimSymlinks: true });
    });
    after(() => {
      if (disk) execFileSync('losetup', ['-d', disk.dev]);
      rmSync(dir, { recursive: true, force: true });
    });

    /** Runs a shell script as root in an ephemeral container of the tree, with the probe at /probe; its stdout lines. */
    async function inside(script: string, extra: string[] = []): Promise<string[]> {
      const r = await runClean(['-q', '--console=pipe', '--register=no', '-x', ...modeArgs, ...extra, `--bind-ro=${dir}/escape-probe:/probe`, '-D', tree, '/bin/sh', '-c', script], [tree]);
      assert.equal(r.exitCode, 0, r.stderr);
      return r.stdout.trim().split('\n');
    }

    it("writing the kernel's tunables in /proc/sys is refused; reading them works", async () => {
      const before = readFileSync('/proc/sys/kernel/randomize_va_space', 'utf8');
      const [write, read] = await inside('echo 0 > /proc/sys/kernel/randomize_va_space && echo open || echo blocked; cat /proc/sys/kernel/ostype');
      assert.equal(write, 'blocked');
      assert.equal(read, 'Linux');
      assert.equal(readFileSync('/proc/sys/kernel/randomize_va_space', 'utf8'), before);
    });

    it('/proc/sysrq-trigger cannot be written; /proc/uptime can be read', async () => {
      const [sysrq, uptime] = await inside('echo h > /proc/sysrq-trigger && echo open || echo blocked; cat /proc/uptime >/dev/null && echo read');
      assert.equal(sysrq, 'blocked');
      assert.equal(uptime, 'read');
    });

    it("a node for the host's disk cannot be used (nor mounted); the API devices and a tmpfs can", async () => {
      const { major, minor } = disk!;
      const out = await inside(
        `mknod /dev/hostdisk b ${major} ${minor} 2>/dev/null; head -c 16 /dev/hostdisk 2>/dev/null || echo no-read; ` +
          `mkdir -p /mnt/d; mount -t ext4 /dev/hostdisk /mnt/d 2>/dev/null && echo mounted || echo no-mount; ` +
          `echo x > /dev/null && head -c 4 /dev/urandom | wc -c; mount -t tmpfs none /mnt && echo tmpfs`,
      );
      assert.deepEqual(out, ['no-read', 'no-mount', '4', 'tmpfs']);
    });

    it('kernel modules cannot be loaded; /proc/version can be read', async () => {
      const [load, list] = await inside('/probe init-module; cat /proc/version >/dev/null && echo read');
      assert.match(load!, /^blocked /);
      assert.equal(list, 'read');
    });

    it('open_by_handle_at on a file handle of the host is refused; opening by path works', async () => {
      const [handle, path] = await inside('/probe open-by-handle; cat /etc/passwd >/dev/null && echo read');
      assert.match(handle!, /^blocked /);
      assert.equal(path, 'read');
    });

    it('host processes cannot be traced or signalled; our own can', async () => {
      const host = process.pid;
      const out = await inside(`/probe ptrace-host ${host}; /probe kill-host ${host}; sleep 5 & kill $! && echo own`);
      assert.match(out[0]!, /^blocked /);
      assert.match(out[1]!, /^blocked /);
      assert.equal(out[2], 'own');
    });

    it("the host's clock and kernel keyring cannot be changed, nor ctrl-alt-del; the container's hostname can, the host's stays", async () => {
      const hostBefore = hostname();
      const out = await inside('/probe clock; /probe keyring; /probe reboot; hostname escaped && hostname');
      assert.match(out[0]!, /^blocked /);
      assert.match(out[1]!, /^blocked /);
      assert.match(out[2]!, /^blocked /);
      assert.equal(out[3], 'escaped');
      assert.equal(hostname(), hostBefore);
    });

    it("the host's /run sockets (D-Bus, machined) are not there; the container's /run is", async () => {
      const out = await inside('for s in /run/dbus/system_bus_socket /run/systemd/private /run/systemd/machine; do [ -e $s ] && echo open || echo blocked; done; touch /run/mine && echo own');
      assert.deepEqual(out, ['blocked', 'blocked', 'blocked', 'own']);
    });

    it("/proc/1/root leads into the container, not to the host's root", async () => {
      const marker = `tsnspawn-escape-${process.pid}`;
      const out = await inside(`echo x > /proc/1/root/tmp/${marker} && [ -e /tmp/${marker} ] && echo inside`);
      assert.deepEqual(out, ['inside']);
      assert.ok(!existsSync(`/tmp/${marker}`), 'the write reached the host');
    });

    it("PID 1 inherits no descriptor of tsnspawn's: only stdin, stdout and stderr", async () => {
      // A child of PID 1 has what PID 1 got: sleep opens nothing of its own.
      const out = await inside('sleep 2 & ls /proc/$!/fd | sort -n | tr "\\n" " "');
      assert.equal(out[0]!.trim(), '0 1 2');
    });

    it("tsnspawn exec runs from a sealed copy of the helper: its processes' /proc/PID/exe is no way to the binary on the host", async () => {
      const name = `escape-exe-${mode === 'with -U' ? 'u' : 'p'}`;
      const before = snapshot();
      const container = start(['-q', '--console=pipe', '--register=no', '-x', ...modeArgs, '-M', name, '-D', tree, '/bin/sleep', '30']);
      try {
        await waitFor(() => existsSync(`/run/tsnspawn/machines/${name}`), 10_000, 'the container to start');
        const exec = start(['exec', name, '--', '/bin/sleep', '3']);
        let exe = '';
        await waitFor(() => {
          try {
            exe = readlinkSync(`/proc/${exec.pid}/exe`);
          } catch {
            return false; // between two execve()s
          }
          return exe.startsWith('/memfd:');
        }, 5_000, `tsnspawn exec to run from a memfd (its exe: ${exe})`);
        assert.match(exe, /^\/memfd:tsnspawn-exec/);
        assert.equal((await exec).exitCode, 0);
      } finally {
        container.kill('SIGTERM');
        await container;
      }
      await assertNoLeaks(before, [tree]);
    });

    it('a guest racing another start on its tree (swapping a bind destination for a symlink to /etc) cannot move the bind out of the tree', async () => {
      const tag = mode === 'with -U' ? 'u' : 'p';
      const src = mkdtempSync(`${dir}/race-`);
      chmodSync(dir, 0o755);
      chmodSync(src, 0o755);
      writeFileSync(`${src}/raced-${tag}`, 'x');
      execFileSync('mkdir', ['-p', `${tree}/srv/a`]);
      const before = snapshot();
      // The racer swaps /srv/a for a symlink to /etc and back, as fast as it can.
      const racer = start(['-q', '--console=pipe', '--register=no', ...modeArgs, '-M', `racer-${tag}`, '-D', tree, '/bin/sh', '-c',
        'while :; do mv /srv/a /srv/a.d && ln -s /etc /srv/a && rm /srv/a && mv /srv/a.d /srv/a; done']);
      try {
        let ran = 0;
        for (let i = 0; i < 15; i++) {
          // Whether a start wins or loses the race, the bind stays in the tree.
          // The racer holds the tree's lock (a writable run, as nspawn's): without SYSTEMD_NSPAWN_LOCK=0 every start
          // would be refused before it resolves anything, and the resolution is what this case attacks.
          const r = await run(['-q', '--console=pipe', '--register=no', ...modeArgs, '-M', `raced-${tag}`, `--bind-ro=${src}:/srv/a/x`, '-D', tree, '/bin/true'], { env: { SYSTEMD_NSPAWN_LOCK: '0' } });
          if (r.exitCode === 0) ran++;
          assert.ok(!existsSync(`/etc/x`) && !existsSync(`/etc/raced-${tag}`), 'a bind reached the host\'s /etc');
        }
        assert.ok(ran > 0, 'no start ran at all while the guest raced it');
      } finally {
        racer.kill('SIGTERM');
        await racer;
      }
      await assertNoLeaks(before, [tree]);
      rmSync(`${tree}/srv`, { recursive: true, force: true });
    });

    it("a symlink in the tree cannot make an overlay's '+' upper layer the host's /etc: it resolves inside the tree", async () => {
      const tag = mode === 'with -U' ? 'u' : 'p';
      execFileSync('mkdir', ['-p', `${tree}/ovl/lower`]);
      rmSync(`${tree}/ovl/up`, { force: true });
      symlinkSync('/etc', `${tree}/ovl/up`);
      try {
        // Under -x a '+' upper is a lower layer below a throwaway one; either way the layer is the tree's /etc
        // (it has passwd, not the host's debian_version) and a write never reaches the host.
        const out = await inside(
          `[ -e /mnt/passwd ] && echo tree-etc; [ -e /mnt/debian_version ] && echo host-etc; echo x > /mnt/overlaid-${tag} && echo wrote`,
          [`--overlay=+/ovl/lower:+/ovl/up:/mnt`],
        );
        assert.deepEqual(out, ['tree-etc', 'wrote']);
        assert.ok(!existsSync(`/etc/overlaid-${tag}`), 'the overlay wrote into the host');
      } finally {
        rmSync(`${tree}/ovl`, { recursive: true, force: true });
        rmSync(`${tree}/etc/overlaid-${tag}`, { force: true });
      }
    });

    it("a symlink in the tree cannot point a --bind destination at the host: it resolves inside the tree", async () => {
      const src = mkdtempSync(`${dir}/src-`);
      // Readable by a container root that is not the host's (-U; binds are not idmapped).
      chmodSync(dir, 0o755);
      chmodSync(src, 0o755);
      writeFileSync(`${src}/planted`, 'x');
      // Absolute, as an image would carry it: /srv/dest -> /etc
      rmSync(`${tree}/srv`, { recursive: true, force: true });
      execFileSync('mkdir', ['-p', `${tree}/srv`]);
      symlinkSync('/etc', `${tree}/srv/dest`);
      const out = await inside('[ -e /etc/planted ] && echo in-container-etc', [`--bind=${src}:/srv/dest`]);
      assert.deepEqual(out, ['in-container-etc']);
      assert.ok(!existsSync('/etc/planted'), 'the bind landed on the host');
    });

    it("a symlink in the tree at /run or /run/host cannot point /run/host at the host's /etc: /run is the container's own tmpfs", async () => {
      const hostEtcBefore = readdirSync('/etc').sort();
      const runBackup = `${dir}/run-backup`;
      renameSync(`${tree}/run`, runBackup);
      try {
        for (const [what, plant] of [
          ['/run -> ../../../../etc (relative, climbing past the root)', () => symlinkSync('../../../../etc', `${tree}/run`)],
          ['/run/host -> /etc', () => {
            execFileSync('mkdir', ['-p', `${tree}/run`]);
            symlinkSync('/etc', `${tree}/run/host`);
          }],
        ] as const) {
          rmSync(`${tree}/run`, { recursive: true, force: true });
          plant();
          // The neighbour: /run/host is there, with the host's os-release, on the tmpfs tsnspawn mounted.
          const out = await inside('[ -L /run/host ] && echo link; [ -f /run/host/os-release ] && echo os-release; stat -f -c %T /run/host; [ -e /run/host/passwd ] && echo etc-passwd; { echo x > /run/host/planted; } 2>/dev/null || echo read-only; echo x > /run/planted && echo wrote');
          assert.deepEqual(out, ['os-release', 'tmpfs', 'read-only', 'wrote'], what);
          assert.ok(!existsSync('/etc/planted') && !existsSync('/etc/os-release/planted'), `${what}: a write reached the host's /etc`);
          assert.deepEqual(readdirSync('/etc').sort(), hostEtcBefore, `${what}: the host's /etc changed`);
          assert.ok(!existsSync(`${tree}/etc/planted`) && !existsSync(`${tree}/etc/host`), `${what}: a write reached the tree's /etc`);
        }
      } finally {
        rmSync(`${tree}/run`, { recursive: true, force: true });
        renameSync(runBackup, `${tree}/run`);
      }
    });
  });
}
