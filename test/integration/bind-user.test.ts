/**
 * --bind-user=NAME (nspawn's): a host user's home at /run/host/home/NAME,
 * its uid and gid mapped to 60514 inside (a hole in the user namespace's
 * map), and JSON records in /run/host/userdb that nss-systemd in a booted
 * Debian 12 guest resolves. The test makes a host user with useradd and
 * removes it after. Needs root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { boot } from '../../src/api/index.js';
import { BIND_USER_MIN } from '../../src/plan/bind-user.js';
import { snapshot } from '../harness/host-state.js';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, assertOneErrorLine, run, runClean } from '../harness/run.js';

const skip = rootSkipReason();
/** Debian 12's nss-systemd, on the host (package libnss-systemd, in the Makefile's list): the test images do not install it. */
function nssSystemd(): string {
  const path = execFileSync('dpkg', ['-L', 'libnss-systemd'], { encoding: 'utf8' }).split('\n').find((l) => l.endsWith('/libnss_systemd.so.2'));
  assert.ok(path, 'libnss-systemd installs no libnss_systemd.so.2');
  return path;
}

describe('--bind-user', { skip }, () => {
  const name = `tsnbu${process.pid % 100000}`;
  let uid = 0;
  let home = '';
  let busybox = '';
  before(() => {
    busybox = image('busybox');
    execFileSync('useradd', ['-m', '-U', '-s', '/bin/sh', name]);
    uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    home = execFileSync('getent', ['passwd', name], { encoding: 'utf8' }).split(':')[5]!;
    // A file the host user wrote itself.
    execFileSync('runuser', ['-u', name, '--', 'sh', '-c', 'echo from the host > "$HOME/from-host"']);
  });
  after(() => {
    if (uid) execFileSync('userdel', ['-r', name], { stdio: 'ignore' });
  });

  it("binds the home, maps the host user's ids to 60514 and writes its records; the host user's files are its own inside", async () => {
    const r = await runClean(
      ['-q', '--console=pipe', '--register=no', '-U', '-x', `--bind-user=${name}`, '-D', busybox, '/bin/sh', '-c',
        `awk '$1 == ${BIND_USER_MIN}' /proc/self/uid_map /proc/self/gid_map; stat -c "%u:%g" /run/host/home/${name} /run/host/home/${name}/from-host; ` +
          `cat /run/host/home/${name}/from-host /run/host/userdb/${name}.user /run/host/userdb/${BIND_USER_MIN}.group; stat -c %a /run/host/userdb/${name}.user-privileged`],
      [busybox],
    );
    assert.equal(r.exitCode, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 2).map((l) => l.trim().split(/\s+/).map(Number)), [[BIND_USER_MIN, uid, 1], [BIND_USER_MIN, uid, 1]]);
    assert.deepEqual(lines.slice(2, 5), [`${BIND_USER_MIN}:${BIND_USER_MIN}`, `${BIND_USER_MIN}:${BIND_USER_MIN}`, 'from the host']);
    assert.deepEqual(JSON.parse(lines[5]!), { userName: name, uid: BIND_USER_MIN, gid: BIND_USER_MIN, homeDirectory: `/run/host/home/${name}`, service: 'io.systemd.NSpawn' });
    assert.deepEqual(JSON.parse(lines[6]!), { groupName: name, gid: BIND_USER_MIN, service: 'io.systemd.NSpawn' });
    assert.equal(lines[7], '600', 'the password hash is root\'s alone');
    // The tree is unchanged: the records live in /run/host, a tmpfs of the manager's.
    assert.ok(!existsSync(`${busybox}/run/host/userdb`));
  });

  it('a booted Debian 12 resolves the user and its group by name through nss-systemd', async () => {
    const tree = image('debian12');
    const dir = mkdtempSync('/var/tmp/tsnspawn-bind-user-');
    try {
      // The guest's nsswitch.conf with nss-systemd, and the host's nss-systemd 252 (the same release as the guest's).
      const nss = nssSystemd();
      writeFileSync(`${dir}/nsswitch.conf`, 'passwd: files systemd\ngroup: files systemd\nshadow: files\nhosts: files\n');
      const before = snapshot();
      {
        await using c = await boot({
          directory: tree,
          ephemeral: true,
          register: 'no',
          timeout: 60_000,
          extraArgs: ['-U', `--bind-user=${name}`, `--bind-ro=${nss}`, `--bind-ro=${dir}/nsswitch.conf:/etc/nsswitch.conf`],
        });
        await c.ready({ timeout: 120_000 });
        const pw = (await c.exec(['getent', 'passwd', name], { check: true })).stdout.trim().split(':');
        assert.deepEqual([pw[0], pw[2], pw[3], pw[5]], [name, String(BIND_USER_MIN), String(BIND_USER_MIN), `/run/host/home/${name}`]);
        assert.equal((await c.exec(['getent', 'group', String(BIND_USER_MIN)], { check: true })).stdout.split(':')[0], name);
        // ls shows the host user's file by its name inside.
        assert.equal((await c.exec(['stat', '-c', '%U:%G', `/run/host/home/${name}/from-host`], { check: true })).stdout.trim(), `${name}:${name}`);
        assert.equal(await c.poweroff({ timeout: 60_000 }), 0);
      }
      await assertNoLeaks(before, [tree]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown user, a run without -U, root, and an id inside the range, with one line and nothing left', async () => {
    const homeBefore = readdirSync(home).sort();
    const cases: Array<[string[], RegExp]> = [
      [['-U', '--bind-user=tsnspawn-no-such-user'], /--bind-user=tsnspawn-no-such-user: no such user on the host/],
      [[`--bind-user=${name}`], /needs a user namespace \(add -U/],
      [['-U', '--bind-user=root'], /binding root/],
      [['--private-users=0:65536', `--bind-user=${name}`], new RegExp(`its uid ${uid} is inside the container's range`)],
    ];
    for (const [args, pattern] of cases) {
      const before = snapshot();
      assertOneErrorLine(await run(['-q', ...args, '--register=no', '-x', '-D', busybox, '/bin/true']), pattern);
      await assertNoLeaks(before, [busybox]);
    }
    assert.deepEqual(readdirSync(home).sort(), homeBefore);
    assert.equal(statSync(home).uid, uid);
  });
});
