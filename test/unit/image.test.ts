/**
 * Reading a tree before launch: src/image/in-root.ts, users.ts, os-tree.ts,
 * command.ts, against small trees made in a temp directory.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { defaultShell, resolveCommand } from '../../src/image/command.js';
import { resolveInRoot } from '../../src/image/in-root.js';
import { checkOsTree, parseOsRelease, readTreeMachineId } from '../../src/image/os-tree.js';
import { lookupUser } from '../../src/image/users.js';
import { Scratch, throwsUserError, type Tree } from './helpers.js';

const scratch = new Scratch();
after(() => scratch.remove());

describe('resolveInRoot', () => {
  let t: Tree;
  before(() => {
    t = scratch.tree('inroot');
    t.file('/etc/y', 'inside')
      .link('/etc/x', '/etc/y')
      .link('/etc/passwd-link', '/etc/passwd')
      .link('/etc/to-host-proc', '/proc/self/status')
      .file('/usr/lib/os-release', 'ID=test\n')
      .link('/lib', 'usr/lib')
      .link('/abslib', '/usr/lib')
      .file('/usr/bin/sh', '#!', 0o755)
      .link('/bin', '/usr/bin')
      .link('/a/b/up', '../../../../../../etc/y')
      .link('/a/b/escape', '../../../../../..')
      .link('/loop1', 'loop2')
      .link('/loop2', 'loop1')
      .link('/self', 'self')
      .link('/dangling', '/nowhere')
      .link('/chain1', 'chain2')
      .link('/chain2', '/etc/x');
  });

  it('resolves a plain path', () => {
    const r = resolveInRoot(t.root, '/etc/y');
    assert.equal(r?.inner, '/etc/y');
    assert.equal(r?.host, t.host('/etc/y'));
    assert.ok(r?.stat.isFile());
  });

  it('resolves an absolute symlink inside the root, never on the host', () => {
    const r = resolveInRoot(t.root, '/etc/x');
    assert.equal(r?.inner, '/etc/y');
    assert.equal(r?.host, t.host('/etc/y'));
    assert.equal(readFileSync(r!.host, 'utf8'), 'inside');
  });

  it('does not find host files through absolute links (/etc/passwd, /proc exist on the host only)', () => {
    assert.ok(existsSync('/etc/passwd') && existsSync('/proc/self/status'));
    assert.equal(resolveInRoot(t.root, '/etc/passwd-link'), undefined);
    assert.equal(resolveInRoot(t.root, '/etc/to-host-proc'), undefined);
  });

  it('follows symlinked directories, relative and absolute', () => {
    assert.equal(resolveInRoot(t.root, '/lib/os-release')?.host, t.host('/usr/lib/os-release'));
    assert.equal(resolveInRoot(t.root, '/lib/os-release')?.inner, '/usr/lib/os-release');
    assert.equal(resolveInRoot(t.root, '/abslib/os-release')?.host, t.host('/usr/lib/os-release'));
    assert.equal(resolveInRoot(t.root, '/bin/sh')?.host, t.host('/usr/bin/sh'));
  });

  it("treats '..' after a symlinked directory as the kernel does (parent of the target)", () => {
    assert.equal(resolveInRoot(t.root, '/lib/../bin/sh')?.inner, '/usr/bin/sh');
  });

  it("stops '..' at the root, in links and in the path", () => {
    assert.equal(resolveInRoot(t.root, '/a/b/up')?.host, t.host('/etc/y'));
    assert.equal(resolveInRoot(t.root, '/a/b/escape/etc/y')?.host, t.host('/etc/y'));
    const top = resolveInRoot(t.root, '/a/b/escape');
    assert.equal(top?.inner, '/');
    assert.equal(top?.host, t.root);
    assert.equal(resolveInRoot(t.root, '/../../../etc/y')?.host, t.host('/etc/y'));
    assert.equal(resolveInRoot(t.root, '../etc/./y')?.host, t.host('/etc/y'));
  });

  it('follows chains of links', () => {
    assert.equal(resolveInRoot(t.root, '/chain1')?.host, t.host('/etc/y'));
  });

  it('returns undefined for symlink loops', () => {
    assert.equal(resolveInRoot(t.root, '/loop1'), undefined);
    assert.equal(resolveInRoot(t.root, '/self'), undefined);
    assert.equal(resolveInRoot(t.root, '/loop2/x'), undefined);
  });

  it('returns undefined for missing paths, dangling links and paths through files', () => {
    assert.equal(resolveInRoot(t.root, '/nope'), undefined);
    assert.equal(resolveInRoot(t.root, '/etc/nope'), undefined);
    assert.equal(resolveInRoot(t.root, '/dangling'), undefined);
    assert.equal(resolveInRoot(t.root, '/etc/y/child'), undefined);
  });

  it('accepts a root with a trailing slash and the root itself', () => {
    assert.equal(resolveInRoot(t.root + '/', '/etc/x')?.host, t.host('/etc/y'));
    assert.equal(resolveInRoot(t.root, '/')?.host, t.root);
    assert.ok(resolveInRoot(t.root, '/')?.stat.isDirectory());
  });
});

describe('lookupUser', () => {
  let t: Tree;
  let empty: Tree;
  let hostLinks: Tree;
  before(() => {
    t = scratch.tree('users');
    t.file(
      '/etc/passwd',
      [
        'root:x:0:0:root:/root:/bin/bash',
        '# a comment',
        '',
        'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
        'alice:x:1000:1000:Alice,,,:/home/alice:/bin/zsh',
        'bob:x:1001:1001::/home/bob:',
        'broken:x:notanumber:1::/:/bin/sh',
        '',
      ].join('\n'),
    );
    t.file('/etc/group', ['root:x:0:', 'wheel:x:10:alice,bob', 'audio:x:29:alice', 'alice:x:1000:alice', 'users:x:100:bob', 'wheel2:x:10:alice', ''].join('\n'));
    empty = scratch.tree('users-empty');
    empty.dir('/etc');
    hostLinks = scratch.tree('users-hostlinks');
    hostLinks.link('/etc/passwd', '/etc/passwd').link('/etc/group', '/etc/group');
  });

  it('finds a user by name with home, shell and supplementary groups', () => {
    assert.deepEqual(lookupUser(t.root, 'alice'), { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice', shell: '/bin/zsh', groups: [10, 29] });
  });

  it('finds a user by uid', () => {
    const bob = lookupUser(t.root, '1001');
    assert.equal(bob.name, 'bob');
    assert.equal(bob.uid, 1001);
    assert.deepEqual(bob.groups, [10, 100]);
    assert.equal(bob.shell, '/bin/sh', 'an empty shell field means /bin/sh');
  });

  it("defaults to root from the tree's passwd", () => {
    assert.deepEqual(lookupUser(t.root, undefined), { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/bash', groups: [] });
    assert.equal(lookupUser(t.root, '0').name, 'root');
  });

  it('gives root without /etc/passwd, as nspawn does', () => {
    for (const spec of [undefined, 'root', '0'])
      assert.deepEqual(lookupUser(empty.root, spec), { name: 'root', uid: 0, gid: 0, home: '/root', shell: '/bin/sh', groups: [] });
  });

  it('refuses an unknown user, naming --user and the value', () => {
    throwsUserError(() => lookupUser(t.root, 'mallory'), '--user=mallory', 'passwd');
    throwsUserError(() => lookupUser(t.root, '4242'), '--user=4242');
    throwsUserError(() => lookupUser(empty.root, 'alice'), '--user=alice');
  });

  it("never reads the host's /etc/passwd through an absolute link", () => {
    const hostUser = readFileSync('/etc/passwd', 'utf8').split('\n').map((l) => l.split(':')[0]).find((n) => n && n !== 'root');
    assert.ok(hostUser, 'the host has a non-root user');
    throwsUserError(() => lookupUser(hostLinks.root, hostUser), `--user=${hostUser}`);
    assert.equal(lookupUser(hostLinks.root, undefined).shell, '/bin/sh', 'root falls back, not the host root');
  });
});

describe('parseOsRelease', () => {
  it('parses quoted and unquoted values, skipping comments, blanks and junk', () => {
    const text = [
      '# os-release for a test',
      'NAME="Debian GNU/Linux"',
      'ID=debian',
      'VERSION_ID="12"',
      "PRETTY_NAME='Debian 12 (bookworm)'",
      'QUOTED="say \\"hi\\" \\\\ \\$HOME \\`cmd\\`"',
      '  INDENTED=yes  ',
      'EMPTY=',
      'EMPTYQ=""',
      'not a key value line',
      '   # indented comment',
      'URL="https://www.debian.org/#x"',
      '',
    ].join('\n');
    assert.deepEqual(parseOsRelease(text), {
      NAME: 'Debian GNU/Linux',
      ID: 'debian',
      VERSION_ID: '12',
      PRETTY_NAME: 'Debian 12 (bookworm)',
      QUOTED: 'say "hi" \\ $HOME `cmd`',
      INDENTED: 'yes',
      EMPTY: '',
      EMPTYQ: '',
      URL: 'https://www.debian.org/#x',
    });
  });

  it('keeps the last assignment of a key', () => {
    assert.equal(parseOsRelease('ID=a\nID=b\n').ID, 'b');
  });
});

describe('checkOsTree', () => {
  let good: Tree, usrLib: Tree, absLink: Tree, noUsr: Tree, noOsRelease: Tree, hostOsRelease: Tree;
  before(() => {
    good = scratch.tree('os-good').dir('/usr').file('/etc/os-release', 'ID=test\n');
    usrLib = scratch.tree('os-usrlib').file('/usr/lib/os-release', 'ID=test\n').link('/etc/os-release', '../usr/lib/os-release');
    absLink = scratch.tree('os-abslink').file('/usr/lib/os-release', 'ID=test\n').link('/etc/os-release', '/usr/lib/os-release');
    noUsr = scratch.tree('os-nousr').file('/etc/os-release', 'ID=test\n');
    noOsRelease = scratch.tree('os-norelease').dir('/usr/bin').dir('/etc');
    // Only the host has /etc/passwd: a link to it does not make an os-release.
    hostOsRelease = scratch.tree('os-hostlink').dir('/usr').link('/etc/os-release', '/etc/passwd');
  });

  it('accepts trees with /usr and /etc/os-release or /usr/lib/os-release', () => {
    for (const t of [good, usrLib, absLink]) checkOsTree(t.root, '-D');
    checkOsTree(scratch.tree('os-only-usrlib').file('/usr/lib/os-release', 'ID=x\n').root, '-D');
  });

  it('refuses a tree without /usr, naming the tree, /usr and the option', () => {
    throwsUserError(() => checkOsTree(noUsr.root, '--directory=x'), noUsr.root, '/usr', '--directory=x');
  });

  it('refuses a tree without os-release, naming both places and the option', () => {
    throwsUserError(() => checkOsTree(noOsRelease.root, '-D'), noOsRelease.root, '/etc/os-release', '/usr/lib/os-release');
    throwsUserError(() => checkOsTree(hostOsRelease.root, '-D'), 'os-release');
  });

  it('refuses a missing directory, a file and the host root', () => {
    throwsUserError(() => checkOsTree(scratch.dir + '/missing', '-D'), scratch.dir + '/missing', 'does not exist');
    throwsUserError(() => checkOsTree(good.host('/etc/os-release'), '-D'), 'not a directory');
    throwsUserError(() => checkOsTree('/', '-D'), "host's root");
  });
});

describe('readTreeMachineId', () => {
  it('reads 32 hex digits and ignores empty or uninitialized ids', () => {
    const t = scratch.tree('mid').file('/etc/machine-id', '0123456789abcdef0123456789abcdef\n');
    assert.equal(readTreeMachineId(t.root), '0123456789abcdef0123456789abcdef');
    assert.equal(readTreeMachineId(scratch.tree('mid-empty').file('/etc/machine-id', '').root), undefined);
    assert.equal(readTreeMachineId(scratch.tree('mid-uninit').file('/etc/machine-id', 'uninitialized\n').root), undefined);
    assert.equal(readTreeMachineId(scratch.tree('mid-none').root), undefined);
  });
});

describe('resolveCommand', () => {
  let t: Tree;
  before(() => {
    t = scratch.tree('cmd')
      .file('/usr/bin/sh', '#!', 0o755)
      .file('/usr/bin/data', 'x', 0o644)
      .dir('/usr/bin/subdir')
      .file('/usr/local/bin/tool', '#!', 0o755)
      .file('/usr/sbin/tool', '#!', 0o755)
      .file('/opt/run', '#!', 0o700)
      .link('/bin', 'usr/bin')
      .link('/usr/bin/env-link', '/usr/bin/sh');
  });

  it('searches PATH inside the tree, in PATH order', () => {
    assert.deepEqual(resolveCommand(t.root, ['sh', '-c', 'echo hi']), { exec: '/usr/bin/sh', argv: ['sh', '-c', 'echo hi'] });
    assert.equal(resolveCommand(t.root, ['tool']).exec, '/usr/local/bin/tool');
    assert.equal(resolveCommand(t.root, ['env-link']).exec, '/usr/bin/env-link');
    assert.equal(resolveCommand(t.root, ['sh'], '/bin').exec, '/bin/sh');
  });

  it('takes a path as given, keeping argv as the user wrote it', () => {
    assert.deepEqual(resolveCommand(t.root, ['/bin/sh', '-l']), { exec: '/bin/sh', argv: ['/bin/sh', '-l'] });
    assert.equal(resolveCommand(t.root, ['/opt/run']).exec, '/opt/run');
    assert.equal(resolveCommand(t.root, ['usr/bin/sh']).exec, '/usr/bin/sh');
  });

  it('refuses a file that is not executable, naming it', () => {
    throwsUserError(() => resolveCommand(t.root, ['/usr/bin/data']), '/usr/bin/data', 'not an executable');
    throwsUserError(() => resolveCommand(t.root, ['/usr/bin/subdir']), '/usr/bin/subdir');
    throwsUserError(() => resolveCommand(t.root, ['data']), 'data', 'not executable');
  });

  it('refuses a missing program, naming it', () => {
    throwsUserError(() => resolveCommand(t.root, ['/nope']), '/nope', 'no such file');
    throwsUserError(() => resolveCommand(t.root, ['nope']), 'nope', 'PATH');
    throwsUserError(() => resolveCommand(t.root, ['']), 'empty');
  });

  it('leaves a program under a mount point (--bind, --overlay, --tmpfs) to the helper: the tree does not have it', () => {
    assert.deepEqual(resolveCommand(t.root, ['/probe', 'x'], undefined, ['/probe']), { exec: '/probe', argv: ['/probe', 'x'] });
    assert.equal(resolveCommand(t.root, ['/mnt/tools/run'], undefined, ['/mnt']).exec, '/mnt/tools/run');
    assert.equal(resolveCommand(t.root, ['/usr/bin/data'], undefined, ['/usr/bin']).exec, '/usr/bin/data');
    assert.deepEqual(resolveCommand(t.root, ['newtool'], '/usr/bin:/srv/bin', ['/srv']), { exec: 'newtool', argv: ['newtool'] }, 'PATH search left to the helper');
    assert.equal(resolveCommand(t.root, ['sh'], undefined, ['/srv']).exec, '/usr/bin/sh', 'found in the tree first');
    throwsUserError(() => resolveCommand(t.root, ['/mntx/run'], undefined, ['/mnt']), '/mntx/run', 'no such file');
    throwsUserError(() => resolveCommand(t.root, ['/mnt/../nope'], undefined, ['/mnt']), '/mnt/../nope', 'no such file');
  });

  it("does not find the host's programs", () => {
    assert.ok(existsSync('/usr/bin/ls') || existsSync('/bin/ls'));
    throwsUserError(() => resolveCommand(t.root, ['ls']), 'ls');
    throwsUserError(() => resolveCommand(t.root, ['/usr/bin/ls']), '/usr/bin/ls');
  });
});

describe('defaultShell', () => {
  it("runs the user's shell as a login shell (argv0 '-NAME')", () => {
    const t = scratch.tree('shell-user').file('/usr/bin/zsh', '#!', 0o755).file('/bin/sh', '#!', 0o755);
    assert.deepEqual(defaultShell(t.root, '/usr/bin/zsh'), { exec: '/usr/bin/zsh', argv: ['-zsh'] });
  });

  it('falls back to bash, then sh', () => {
    const sh = scratch.tree('shell-sh').file('/usr/bin/sh', '#!', 0o755).link('/bin', 'usr/bin');
    assert.deepEqual(defaultShell(sh.root, '/bin/zsh'), { exec: '/bin/sh', argv: ['-sh'] });
    const bash = scratch.tree('shell-bash').file('/bin/bash', '#!', 0o755).file('/bin/sh', '#!', 0o755);
    assert.deepEqual(defaultShell(bash.root, '/usr/sbin/nologin-missing'), { exec: '/bin/bash', argv: ['-bash'] });
  });

  it('refuses a tree without any shell, suggesting a COMMAND', () => {
    const none = scratch.tree('shell-none').file('/bin/sh', 'not executable', 0o644);
    throwsUserError(() => defaultShell(none.root, '/bin/bash'), 'no shell', 'COMMAND');
  });
});
