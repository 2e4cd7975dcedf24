/** Option values in nspawn's syntax: src/settings/values.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  isValidHostname,
  machineNameFromDirectory,
  parseBind,
  parseChdir,
  parseConsoleMode,
  parseMachineName,
  parseRegisterMode,
  parseSetenv,
  parseTmpfs,
} from '../../src/settings/values.js';
import { throwsUserError } from './helpers.js';

describe('isValidHostname / parseMachineName', () => {
  it('accepts ordinary machine names', () => {
    for (const name of ['debian', 'deb12', 'Debian-12', 'a', 'web.example.com', 'x'.repeat(64), '0']) {
      assert.equal(isValidHostname(name), true, name);
      assert.equal(parseMachineName(name), name);
    }
  });

  it('refuses empty, too long, dotted, spaced and non-ASCII names', () => {
    for (const name of ['', 'x'.repeat(65), '.deb', 'deb.', 'a..b', '..', '.', 'my box', ' deb', 'deb\n', 'débian', 'машина', 'a/b', 'a:b'])
      assert.equal(isValidHostname(name), false, JSON.stringify(name));
  });

  it('refuses what systemd-machined refuses: underscores and labels starting or ending with a hyphen', () => {
    // systemd 252's hostname_is_valid(): letters, digits and '-' only ("Invalid machine name: my_box").
    for (const name of ['my_box', '-box', 'box-', 'a.-b', 'a-.b'])
      assert.equal(isValidHostname(name), false, JSON.stringify(name));
  });

  it('names the option and the value when refusing', () => {
    throwsUserError(() => parseMachineName('bad name'), '--machine', "'bad name'");
    throwsUserError(() => parseMachineName('', '-M'), '-M');
    throwsUserError(() => parseMachineName('x'.repeat(65)), '--machine', 'x'.repeat(65));
  });
});

describe('machineNameFromDirectory', () => {
  it('uses the last path component, ignoring trailing slashes', () => {
    assert.equal(machineNameFromDirectory('/var/lib/machines/debian'), 'debian');
    assert.equal(machineNameFromDirectory('/var/lib/machines/debian///'), 'debian');
    assert.equal(machineNameFromDirectory('rootfs'), 'rootfs');
  });

  it('drops characters a hostname cannot have and trims dots', () => {
    assert.equal(machineNameFromDirectory('/srv/my tree!'), 'mytree');
    assert.equal(machineNameFromDirectory('/srv/.hidden.'), 'hidden');
    assert.equal(machineNameFromDirectory('/srv/a...b'), 'a.b');
  });

  it('always gives a valid machine name, at most 64 characters', () => {
    for (const dir of ['/srv/' + 'y'.repeat(100), '/srv/' + 'z'.repeat(63) + '.x', '/srv/ünï', '/', '/srv/...', '/srv/debian_12-x', '/srv/-tree-'])
      assert.equal(isValidHostname(machineNameFromDirectory(dir)), true, dir);
    assert.equal(machineNameFromDirectory('/srv/' + 'y'.repeat(100)), 'y'.repeat(64));
  });

  it('cleans the name as systemd-nspawn does (debian_12-x becomes debian12-x)', () => {
    // Checked with systemd-nspawn 252: -D /tmp/debian_12-x runs with hostname "debian12-x".
    assert.equal(machineNameFromDirectory('/var/lib/machines/debian_12-x'), 'debian12-x');
  });
});

describe('parseConsoleMode', () => {
  it('accepts the five nspawn modes', () => {
    for (const m of ['interactive', 'read-only', 'passive', 'pipe', 'autopipe'] as const) assert.equal(parseConsoleMode(m), m);
  });

  it('refuses anything else, naming --console and the value', () => {
    throwsUserError(() => parseConsoleMode('tty'), '--console', "'tty'");
    throwsUserError(() => parseConsoleMode(''), '--console');
    throwsUserError(() => parseConsoleMode('Pipe'), '--console', 'Pipe');
  });
});

describe('parseRegisterMode', () => {
  it('maps systemd booleans to yes/no and keeps auto', () => {
    for (const v of ['yes', 'true', '1', 'on', 'y', 't', 'YES', 'True']) assert.equal(parseRegisterMode(v), 'yes', v);
    for (const v of ['no', 'false', '0', 'off', 'n', 'f', 'NO']) assert.equal(parseRegisterMode(v), 'no', v);
    assert.equal(parseRegisterMode('auto'), 'auto');
  });

  it('refuses other words, naming --register and the value', () => {
    throwsUserError(() => parseRegisterMode('maybe'), '--register', "'maybe'");
    throwsUserError(() => parseRegisterMode('2'), '--register', "'2'");
    throwsUserError(() => parseRegisterMode(''), '--register');
  });
});

describe('parseSetenv', () => {
  it('keeps NAME=VALUE as given, including empty values and further "="', () => {
    assert.equal(parseSetenv('FOO=bar'), 'FOO=bar');
    assert.equal(parseSetenv('FOO='), 'FOO=');
    assert.equal(parseSetenv('_X1=a=b=c'), '_X1=a=b=c');
    assert.equal(parseSetenv('MSG=hello world'), 'MSG=hello world');
  });

  it('copies the host value for NAME alone', () => {
    const name = 'TSNSPAWN_UNIT_TEST_VAR';
    process.env[name] = 'from the host';
    try {
      assert.equal(parseSetenv(name), `${name}=from the host`);
    } finally {
      delete process.env[name];
    }
  });

  it('refuses NAME alone when the host does not have it, naming the variable', () => {
    delete process.env.TSNSPAWN_UNIT_TEST_UNSET;
    throwsUserError(() => parseSetenv('TSNSPAWN_UNIT_TEST_UNSET'), '--setenv', 'TSNSPAWN_UNIT_TEST_UNSET');
  });

  it('refuses names that are not shell variable names, naming --setenv and the value', () => {
    for (const bad of ['1BAD=x', '=x', 'A-B=x', 'A B=x', 'ÄÖ=x', ''])
      throwsUserError(() => parseSetenv(bad), '--setenv', `'${bad}'`);
  });
});

describe('parseBind', () => {
  it('SRC alone binds to the same path, recursively', () => {
    assert.deepEqual(parseBind('/srv/data', false), {
      source: '/srv/data',
      destination: '/srv/data',
      readOnly: false,
      recursive: true,
      option: '--bind=/srv/data',
    });
  });

  it('SRC:DST binds elsewhere; --bind-ro is read-only', () => {
    const b = parseBind('/srv/data:/data', true);
    assert.equal(b.source, '/srv/data');
    assert.equal(b.destination, '/data');
    assert.equal(b.readOnly, true);
    assert.equal(b.recursive, true);
    assert.equal(b.option, '--bind-ro=/srv/data:/data');
  });

  it('SRC:DST:norbind and :rbind set recursion; an empty DST means SRC', () => {
    assert.equal(parseBind('/a:/b:norbind', false).recursive, false);
    assert.equal(parseBind('/a:/b:rbind', false).recursive, true);
    const b = parseBind('/a::norbind', false);
    assert.equal(b.destination, '/a');
    assert.equal(b.recursive, false);
  });

  it('"\\:" puts a colon into either path', () => {
    const b = parseBind('/srv/a\\:b:/data\\:x:norbind', false);
    assert.equal(b.source, '/srv/a:b');
    assert.equal(b.destination, '/data:x');
    assert.equal(b.recursive, false);
    assert.equal(parseBind('/srv/c\\:d', false).destination, '/srv/c:d');
  });

  it('normalises duplicate and trailing slashes and "." segments', () => {
    const b = parseBind('/srv//data/./:/mnt/x/', false);
    assert.equal(b.source, '/srv/data');
    assert.equal(b.destination, '/mnt/x');
  });

  it('takes a relative source from the working directory (as nspawn), refuses an empty one', () => {
    assert.equal(parseBind('data:/data', false).source, `${process.cwd()}/data`);
    assert.equal(parseBind('./data', true).destination, `${process.cwd()}/data`, 'no destination: the absolute source');
    throwsUserError(() => parseBind(':/data', false), '--bind=:/data', 'give a source path');
  });

  it('refuses a relative destination', () => {
    throwsUserError(() => parseBind('/srv/data:data', false), '--bind=/srv/data:data', "'data'");
  });

  it("refuses '..' in the destination", () => {
    throwsUserError(() => parseBind('/srv/data:/mnt/../etc', false), '--bind=/srv/data:/mnt/../etc', "'..'");
    throwsUserError(() => parseBind('/srv/data:/..', true), '--bind-ro=/srv/data:/..');
  });

  it('refuses unknown options and too many fields', () => {
    throwsUserError(() => parseBind('/a:/b:noexec', false), '--bind=/a:/b:noexec', "'noexec'");
    throwsUserError(() => parseBind('/a:/b:rbind:x', false), '--bind=/a:/b:rbind:x');
  });
});

describe('parseTmpfs', () => {
  it('defaults to mode=0755 and keeps given options', () => {
    assert.deepEqual(parseTmpfs('/scratch'), { destination: '/scratch', options: 'mode=0755', flags: ['nosuid', 'nodev', 'strictatime'], option: '--tmpfs=/scratch' });
    const t = parseTmpfs('/var/tmp/:mode=1777,size=10M');
    assert.equal(t.destination, '/var/tmp');
    assert.equal(t.options, 'mode=1777,size=10M');
  });

  it('splits the options into mount flags and tmpfs data, as nspawn (a later word wins)', () => {
    const t = parseTmpfs('/var:rw,nosuid,noexec');
    assert.deepEqual([t.flags, t.options], [['nosuid', 'nodev', 'strictatime', 'noexec'], '']);
    const u = parseTmpfs('/m:ro,size=1m,exec,suid,dev,mode=0700,noatime,uid=5,relatime,nosymfollow');
    assert.deepEqual(u.flags, ['ro', 'relatime', 'nosymfollow'], 'the last atime word wins');
    assert.equal(u.options, 'size=1m,mode=0700,uid=5');
    assert.deepEqual(parseTmpfs('/m:ro,rw,defaults').flags, ['nosuid', 'nodev', 'strictatime']);
    assert.deepEqual(parseTmpfs('/m:noexec,exec').flags, ['nosuid', 'nodev', 'strictatime']);
    assert.equal(parseTmpfs('/m:nr_inodes=10,huge=always').options, 'nr_inodes=10,huge=always');
  });

  it("refuses relative paths and '..', naming --tmpfs and the value", () => {
    throwsUserError(() => parseTmpfs('scratch'), '--tmpfs=scratch');
    throwsUserError(() => parseTmpfs('/a/../etc'), '--tmpfs=/a/../etc', "'..'");
  });
});

describe('parseChdir', () => {
  it('keeps an absolute path, normalised', () => {
    assert.equal(parseChdir('/home/user'), '/home/user');
    assert.equal(parseChdir('/srv//work/'), '/srv/work');
    assert.equal(parseChdir('/'), '/');
  });

  it('refuses a relative path, naming --chdir and the value', () => {
    throwsUserError(() => parseChdir('work'), '--chdir=work');
    throwsUserError(() => parseChdir(''), '--chdir');
  });
});
