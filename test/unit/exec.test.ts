/**
 * tsnspawn exec's pure parts: the command line, the user from the
 * container's passwd and group texts, the command's environment, and the
 * helper's command line (native/exec.c reads it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseExecArgs } from '../../src/commands/exec-args.js';
import { buildExecEnv, parseEnviron } from '../../src/commands/exec-env.js';
import { resolveUser, type ContainerUser } from '../../src/commands/exec-user.js';
import { execHelperArgv } from '../../src/commands/exec-wire.js';
import { HELPER, throwsUserError } from './helpers.js';

describe('parseExecArgs', () => {
  it('options, then the name, then the command: nothing after the name is an option', () => {
    assert.deepEqual(parseExecArgs(['-t', '-u', 'tester', '-E', 'A=1', '--setenv=B=2', '--chdir=/tmp', 'deb', 'ls', '-l']), {
      tty: true,
      user: 'tester',
      setenv: ['A=1', 'B=2'],
      chdir: '/tmp',
      name: 'deb',
      command: ['ls', '-l'],
    });
    assert.deepEqual(parseExecArgs(['deb', '-t']).command, ['-t']);
    assert.deepEqual(parseExecArgs(['--user=0', '-uroot', 'deb']), { tty: false, user: 'root', setenv: [], name: 'deb', command: [] });
  });

  it('a -- before or after the name', () => {
    assert.deepEqual(parseExecArgs(['deb', '--', '--help']).command, ['--help']);
    assert.equal(parseExecArgs(['--', '-odd-name', 'true']).name, '-odd-name');
    assert.deepEqual(parseExecArgs(['deb', '--', '--']).command, ['--']);
  });

  it('refuses what it does not know, with exit 125 and the usage', () => {
    for (const [args, fragment] of [
      [['-x', 'deb'], "unknown option '-x' for exec"],
      [[], 'exec needs a machine name'],
      [['-t'], 'exec needs a machine name'],
      [['-u'], '-u needs a value'],
      [['-E', '1X=2', 'deb'], 'invalid -E 1X=2'],
      [['--chdir=tmp', 'deb'], 'invalid --chdir=tmp: give an absolute path'],
    ] as const) {
      const e = throwsUserError(() => parseExecArgs([...args]), fragment, 'usage: tsnspawn exec');
      assert.equal(e.exitCode, 125);
    }
  });
});

const PASSWD = [
  'root:x:0:0:root:/root:/bin/bash',
  '# a comment',
  '+nisuser::::::',
  'tester:x:1000:1000:Tester,,,:/home/tester:/bin/sh',
  'svc:x:999:998::/var/lib/svc:',
  'broken:x:abc:1:::',
].join('\n');
const GROUP = ['root:x:0:', 'adm:x:4:tester,svc', 'tester:x:1000:', 'audio:x:29:svc,tester', 'ghost:x:5:testers'].join('\n');

describe('resolveUser', () => {
  it('root when no -u, from the passwd', () => {
    assert.deepEqual(resolveUser(undefined, PASSWD, GROUP, 'deb'), { name: 'root', uid: 0, gid: 0, groups: [0], home: '/root', shell: '/bin/bash' });
  });

  it('a name: its uid, gid, home, shell, and the groups that list it, primary first', () => {
    assert.deepEqual(resolveUser('tester', PASSWD, GROUP, 'deb'), {
      name: 'tester', uid: 1000, gid: 1000, groups: [1000, 4, 29], home: '/home/tester', shell: '/bin/sh',
    });
    assert.equal(resolveUser('svc', PASSWD, GROUP, 'deb').shell, '/bin/sh', 'an empty shell field is /bin/sh');
  });

  it('a number: the entry that has it, else that number as uid and gid', () => {
    assert.equal(resolveUser('1000', PASSWD, GROUP, 'deb').name, 'tester');
    assert.deepEqual(resolveUser('4242', PASSWD, GROUP, 'deb'), { name: '4242', uid: 4242, gid: 4242, groups: [4242], home: '/', shell: '/bin/sh' });
  });

  it('root without a passwd file; an unknown name is refused with 125, naming the container', () => {
    assert.equal(resolveUser(undefined, undefined, undefined, 'deb').home, '/root');
    assert.equal(throwsUserError(() => resolveUser('nobody2', PASSWD, GROUP, 'deb'), "no user 'nobody2' in container deb").exitCode, 125);
    throwsUserError(() => resolveUser('nisuser', PASSWD, GROUP, 'deb'), "no user 'nisuser'");
    throwsUserError(() => resolveUser('4294967295', PASSWD, GROUP, 'deb'), 'not a user number');
  });
});

const TESTER: ContainerUser = { name: 'tester', uid: 1000, gid: 1000, groups: [1000], home: '/home/tester', shell: '/bin/sh' };

describe('buildExecEnv', () => {
  const pid1 = parseEnviron(
    'PATH=/usr/bin:/bin\0container=tsnspawn\0container_uuid=u\0HOME=/root\0USER=root\0TERM=vt220\0NOTIFY_SOCKET=/run/host/notify\0LISTEN_FDS=1\0LISTEN_PID=1\0LISTEN_FDNAMES=x\0\0',
  );

  it("PID 1's, without its notify socket and socket activation, with the user's HOME, USER, LOGNAME, SHELL", () => {
    assert.deepEqual(buildExecEnv({ pid1Environ: pid1, user: TESTER, setenv: [], hostEnv: {} }), {
      PATH: '/usr/bin:/bin',
      container: 'tsnspawn',
      container_uuid: 'u',
      HOME: '/home/tester',
      USER: 'tester',
      TERM: 'vt220',
      LOGNAME: 'tester',
      SHELL: '/bin/sh',
    });
  });

  it("TERM from the host with -t; -E last (NAME alone: the host's value, if it has one); a default PATH", () => {
    const env = buildExecEnv({
      pid1Environ: ['container=tsnspawn'],
      user: TESTER,
      hostTerm: 'xterm-256color',
      setenv: ['container=other', 'HOME=/tmp', 'FROM_HOST', 'NOT_ON_HOST', 'EMPTY='],
      hostEnv: { FROM_HOST: 'h' },
    });
    assert.equal(env['TERM'], 'xterm-256color');
    assert.equal(env['container'], 'other');
    assert.equal(env['HOME'], '/tmp');
    assert.equal(env['FROM_HOST'], 'h');
    assert.equal(env['NOT_ON_HOST'], undefined);
    assert.equal(env['EMPTY'], '');
    assert.equal(env['PATH'], '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
  });

  it('parseEnviron keeps "=" inside values and drops entries without one', () => {
    assert.deepEqual(parseEnviron('A=b=c\0junk\0B=\0'), ['A=b=c', 'B=']);
  });
});

describe('execHelperArgv', () => {
  it("is the helper's exec mode with every fact, the command after --", () => {
    const argv = execHelperArgv('/h', {
      machine: 'deb',
      leader: { pid: 42, start: '777' },
      caps: 'fdecafff',
      syscallFilter: false,
      suppressSync: true,
      user: { ...TESTER, groups: [1000, 4] },
      chdir: '/home/tester',
      chdirFallback: true,
      tty: true,
      command: ['ls', '--', '-l'],
    });
    assert.deepEqual(argv, [
      '/h', '--exec', '--machine', 'deb', '--leader', '42:777', '--caps', 'fdecafff', '--no-syscall-filter', '--suppress-sync',
      '--uid', '1000', '--gid', '1000', '--groups', '1000,4', '--chdir', '/home/tester', '--chdir-fallback', '--tty', '--', 'ls', '--', '-l',
    ]);
  });
});

describe('tsnspawn-helper --exec', () => {
  const helper = (args: string[]): { status: number | null; stderr: string } => {
    const r = spawnSync(HELPER, ['--exec', ...args], { encoding: 'utf8' });
    return { status: r.status, stderr: r.stderr };
  };
  const good = ['--machine', 'deb', '--caps', 'ff', '--uid', '0', '--gid', '0', '--groups', '0', '--chdir', '/'];

  it('refuses a command line Node did not write, with 125 and one line', () => {
    for (const [args, message] of [
      [['--machine', 'deb', '--', 'true'], /^tsnspawn: exec: incomplete helper command line/],
      [[...good, '--leader', 'x:1', '--', 'true'], /^tsnspawn: exec: bad --leader x:1\n$/],
      [[...good, '--leader', '1:1', '--uid', '-1', '--', 'true'], /^tsnspawn: exec: bad --uid -1\n$/],
      [[...good, '--leader', '1:1', '--bogus', 'v', '--', 'true'], /^tsnspawn: exec: unknown helper option --bogus\n$/],
      [[...good, '--leader', '1:1'], /^tsnspawn: exec: incomplete helper command line/],
    ] as const) {
      const r = helper([...args]);
      assert.equal(r.status, 125, r.stderr);
      assert.match(r.stderr, message);
    }
  });

  it('a leader that is gone, or whose pid now names another process, is a container that ended: 125', () => {
    const gone = spawnSync('true').pid!;
    const r = helper([...good, '--leader', `${gone}:1`, '--', 'true']);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /^tsnspawn: the container deb has ended/);
    const reused = helper([...good, '--leader', `${process.pid}:1`, '--', 'true']);
    assert.equal(reused.status, 125);
    assert.match(reused.stderr, new RegExp(`^tsnspawn: the container deb has ended \\(pid ${process.pid} is no longer its init\\)\\n$`));
  });
});
