/**
 * Who set what and who wins: the command line's groups (from-args.ts),
 * trust and precedence (merge.ts), the search path (settings-file.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { settingsFromArgs } from '../../src/settings/from-args.js';
import { settingsFromFile } from '../../src/settings/from-file.js';
import { mergeSettings } from '../../src/settings/merge.js';
import type { Settings } from '../../src/settings/model.js';
import { applySettingsFile, findSettingsFile } from '../../src/settings/settings-file.js';
import { throwsUserError } from './helpers.js';

async function args(...argv: string[]): Promise<Settings> {
  const s = await settingsFromArgs(argv);
  assert.notEqual(s, 'exit');
  return s as Settings;
}

const TRUSTED = { trusted: true, override: false };
const UNTRUSTED = { trusted: false, override: false };
const merge = (cmd: Settings, text: string, opts = TRUSTED) => mergeSettings(cmd, settingsFromFile('/f.nspawn', text), opts);

const PRIVILEGED_FILE = `[Exec]
Ephemeral=yes
Capability=CAP_SYS_TIME
DropCapability=CAP_CHOWN
MachineID=0123456789abcdef0123456789abcdef
LinkJournal=no
Hostname=h
Environment=A=1
[Files]
Bind=/srv:/srv
TemporaryFileSystem=/t
[Network]
Private=yes
`;

describe('provenance: what the command line set', () => {
  it('records the group of each option given, and nothing else', async () => {
    const s = await args('-D', '/x', '--hostname=h', '-E', 'A=1', '--bind=/a', '--tmpfs=/t', '--capability=CAP_SYS_TIME', '--private-network', '-q');
    assert.deepEqual([...s.setOnCommandLine].sort(), ['capability', 'custom-mounts', 'directory', 'environment', 'hostname', 'network'].sort());
    assert.deepEqual([...(await args()).setOnCommandLine], []);
  });

  it('a COMMAND, -b and -a set the start mode', async () => {
    assert.ok((await args('/bin/true')).setOnCommandLine.has('start-mode'));
    assert.ok((await args('-b')).setOnCommandLine.has('start-mode'));
    assert.ok((await args('-a')).setOnCommandLine.has('start-mode'));
  });

  it('--settings takes yes, no, override, trusted and booleans; default yes', async () => {
    assert.equal((await args()).settingsFile, 'yes');
    for (const m of ['yes', 'no', 'override', 'trusted'] as const) assert.equal((await args(`--settings=${m}`)).settingsFile, m);
    assert.equal((await args('--settings=false')).settingsFile, 'no');
    assert.equal((await args('--settings=1')).settingsFile, 'yes');
    await assert.rejects(() => settingsFromArgs(['--settings=maybe']), /--settings=maybe/);
  });
});

describe('mergeSettings: trust', () => {
  it('a trusted file applies every key', async () => {
    const { settings: s, warnings } = merge(await args(), PRIVILEGED_FILE);
    assert.deepEqual(warnings, []);
    assert.equal(s.ephemeral, true);
    assert.deepEqual(s.addCapabilities, ['CAP_SYS_TIME']);
    assert.deepEqual(s.dropCapabilities, ['CAP_CHOWN']);
    assert.equal(s.uuid, '0123456789abcdef0123456789abcdef');
    assert.equal(s.linkJournal, 'no');
    assert.equal(s.hostname, 'h');
    assert.deepEqual(s.environment, ['A=1']);
    assert.deepEqual(s.binds.map((b) => b.destination), ['/srv']);
    assert.deepEqual(s.tmpfs.map((t) => t.destination), ['/t']);
    assert.equal(s.privateNetwork, true);
    assert.deepEqual([...s.setByFile].sort(), ['capability', 'custom-mounts', 'environment', 'ephemeral', 'hostname', 'link-journal', 'machine-id', 'network'].sort());
  });

  it('an untrusted file: the privileged keys are ignored with one warning naming them; the others apply', async () => {
    const cmd = await args();
    const { settings: s, warnings } = merge(cmd, PRIVILEGED_FILE, UNTRUSTED);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /^\/f\.nspawn is not trusted .*: ignoring Ephemeral=, Capability=, MachineID=, LinkJournal=, Bind=, TemporaryFileSystem=, Private= \(/);
    assert.equal(s.ephemeral, false);
    assert.deepEqual(s.addCapabilities, []);
    assert.deepEqual(s.dropCapabilities, ['CAP_CHOWN'], 'DropCapability= applies from any file');
    assert.equal(s.uuid, undefined);
    assert.equal(s.linkJournal, 'auto');
    assert.deepEqual(s.binds, []);
    assert.deepEqual(s.tmpfs, []);
    assert.equal(s.privateNetwork, false);
    assert.equal(s.hostname, 'h');
    assert.deepEqual(s.environment, ['A=1']);
  });

  it('an untrusted file without privileged keys warns nothing', async () => {
    assert.deepEqual(merge(await args(), '[Exec]\nHostname=h\n[Files]\nReadOnly=yes\n', UNTRUSTED).warnings, []);
  });

  it('does not change the command line settings it was given', async () => {
    const cmd = await args('--bind=/a');
    const before = structuredClone({ ...cmd, setOnCommandLine: [...cmd.setOnCommandLine] });
    merge(cmd, PRIVILEGED_FILE, { trusted: true, override: true });
    assert.deepEqual({ ...cmd, setOnCommandLine: [...cmd.setOnCommandLine] }, before);
  });
});

describe('mergeSettings: precedence', () => {
  it('the command line wins, group by group; the file fills the rest', async () => {
    const { settings: s } = merge(await args('--hostname=cmd', '-E', 'B=2'), '[Exec]\nHostname=file\nEnvironment=A=1\nUser=u\n');
    assert.equal(s.hostname, 'cmd');
    assert.deepEqual(s.environment, ['B=2'], 'lists are not joined: the command line list stands');
    assert.equal(s.user, 'u');
    assert.deepEqual([...s.setByFile], ['user']);
  });

  it('[Network] MACVLAN=/IPVLAN= apply from a trusted file, and any network option on the command line masks them (one group, as nspawn)', async () => {
    const file = '[Network]\nMACVLAN=eth0 eth1\nIPVLAN=eth2\n';
    const { settings: s } = merge(await args(), file);
    assert.deepEqual([s.networkMacvlan, s.networkIpvlan], [['eth0', 'eth1'], ['eth2']]);
    const { settings: joined } = merge(await args('--network-namespace-path=/run/netns/lab'), file);
    assert.deepEqual([joined.networkMacvlan, joined.networkIpvlan, joined.networkNamespacePath], [[], [], '/run/netns/lab']);
    const { settings: untrusted, warnings } = merge(await args(), file, UNTRUSTED);
    assert.deepEqual([untrusted.networkMacvlan, untrusted.networkIpvlan], [[], []]);
    assert.equal(warnings.length, 1, warnings.join('\n'));
  });

  it('any mount option masks all of the file’s mounts (one group, as nspawn)', async () => {
    const { settings: s } = merge(await args('--tmpfs=/x'), '[Files]\nBind=/srv:/srv\n');
    assert.deepEqual(s.binds, []);
    assert.deepEqual(s.tmpfs.map((t) => t.destination), ['/x']);
  });

  it('with override the file wins and its lists replace the command line’s', async () => {
    const { settings: s } = merge(await args('--hostname=cmd', '-E', 'B=2', '--bind=/a', '/bin/echo', 'cmd'), '[Exec]\nHostname=file\nEnvironment=A=1\nBoot=no\nParameters=/bin/echo file\n[Files]\nTemporaryFileSystem=/t\n', {
      trusted: true,
      override: true,
    });
    assert.equal(s.hostname, 'file');
    assert.deepEqual(s.environment, ['A=1']);
    assert.deepEqual(s.binds, []);
    assert.deepEqual(s.tmpfs.map((t) => t.destination), ['/t']);
    assert.deepEqual(s.command, ['/bin/echo', 'file']);
  });

  it('override does not lift trust: an untrusted file still cannot add a bind', async () => {
    const { settings: s, warnings } = merge(await args('--bind=/a'), '[Files]\nBind=/srv:/srv\n', { trusted: false, override: true });
    assert.deepEqual(s.binds.map((b) => b.destination), ['/a']);
    assert.equal(warnings.length, 1);
  });

  it('the start mode: Boot=/ProcessTwo= with Parameters= replace the command; a COMMAND masks them', async () => {
    const boot = merge(await args(), '[Exec]\nBoot=yes\nParameters=--unit rescue.target\n').settings;
    assert.equal(boot.boot, true);
    assert.deepEqual(boot.command, ['--unit', 'rescue.target']);
    const pid2 = merge(await args(), '[Exec]\nProcessTwo=yes\nParameters=/bin/sh\n').settings;
    assert.equal(pid2.asPid2, true);
    assert.deepEqual(pid2.command, ['/bin/sh']);
    const masked = merge(await args('/bin/true'), '[Exec]\nBoot=yes\n').settings;
    assert.equal(masked.boot, false);
    assert.deepEqual(masked.command, ['/bin/true']);
  });

  it('capabilities add and take away; with override the file can keep what the command line dropped', async () => {
    const { settings: s } = merge(await args('--drop-capability=CAP_SYS_TIME'), '[Exec]\nCapability=CAP_SYS_TIME\nDropCapability=CAP_KILL\n', { trusted: true, override: true });
    assert.deepEqual(s.addCapabilities, ['CAP_SYS_TIME']);
    assert.deepEqual(s.dropCapabilities, ['CAP_KILL']);
    const masked = merge(await args('--capability=CAP_SYS_TIME'), '[Exec]\nDropCapability=CAP_KILL\n').settings;
    assert.deepEqual(masked.dropCapabilities, [], '--capability masks the file’s DropCapability= too');
  });

  const scalars: [string, string[], string, keyof Settings, unknown, unknown][] = [
    ['[Exec]', ['--user=c'], 'User=f', 'user', 'c', 'f'],
    ['[Exec]', ['--chdir=/c'], 'WorkingDirectory=/f', 'chdir', '/c', '/f'],
    ['[Exec]', ['--kill-signal=SIGINT'], 'KillSignal=SIGTERM', 'killSignal', 2, 15],
    ['[Exec]', ['--uuid=11111111111111111111111111111111'], 'MachineID=22222222222222222222222222222222', 'uuid', '11111111111111111111111111111111', '22222222222222222222222222222222'],
    ['[Exec]', ['--notify-ready=no'], 'NotifyReady=yes', 'notifyReady', false, true],
    ['[Exec]', ['--resolv-conf=off'], 'ResolvConf=copy-host', 'resolvConf', 'off', 'copy-host'],
    ['[Exec]', ['--timezone=off'], 'Timezone=copy', 'timezone', 'off', 'copy'],
    ['[Exec]', ['--link-journal=no'], 'LinkJournal=try-guest', 'linkJournal', 'no', 'try-guest'],
    ['[Exec]', ['-x'], 'Ephemeral=no', 'ephemeral', true, false],
    ['[Files]', ['--read-only'], 'ReadOnly=no', 'readOnly', true, false],
    ['[Files]', ['--volatile=state'], 'Volatile=no', 'volatile', 'state', 'no'],
    ['[Network]', ['--private-network'], 'Private=no', 'privateNetwork', true, false],
  ];
  for (const [section, argv, line, field, fromCmd, fromFile] of scalars)
    it(`${line}: the file's value without ${argv[0]}, the command line's with it, the file's again with override`, async () => {
      const text = `${section}\n${line}\n`;
      assert.deepEqual(merge(await args(), text).settings[field], fromFile);
      assert.deepEqual(merge(await args(...argv), text).settings[field], fromCmd);
      assert.deepEqual(merge(await args(...argv), text, { trusted: true, override: true }).settings[field], fromFile);
    });
});

describe('the search path and reading', () => {
  const top = mkdtempSync(join(tmpdir(), 'tsnspawn-settings-'));
  after(() => rmSync(top, { recursive: true, force: true }));
  const etc = join(top, 'etc');
  const run = join(top, 'run');
  const machines = join(top, 'machines');
  for (const d of [etc, run, machines, join(machines, 'm')]) mkdirSync(d, { recursive: true });
  const dirs = [etc, run];
  const site = { machine: 'm', beside: join(machines, 'm') };

  it('finds nothing when there is no file', () => {
    assert.equal(findSettingsFile(site, dirs), undefined);
  });

  it('takes the file beside the tree as untrusted, /run over it, /etc over both (only one is read)', () => {
    writeFileSync(join(machines, 'm.nspawn'), '[Exec]\nHostname=beside\n');
    assert.deepEqual(findSettingsFile(site, dirs), { path: join(machines, 'm.nspawn'), text: '[Exec]\nHostname=beside\n', trustedLocation: false });
    writeFileSync(join(run, 'm.nspawn'), '[Exec]\nHostname=run\n');
    assert.equal(findSettingsFile(site, dirs)?.path, join(run, 'm.nspawn'));
    assert.equal(findSettingsFile(site, dirs)?.trustedLocation, true);
    writeFileSync(join(etc, 'm.nspawn'), '[Exec]\nHostname=etc\n');
    assert.equal(findSettingsFile(site, dirs)?.path, join(etc, 'm.nspawn'));
    for (const d of [etc, run, machines]) rmSync(join(d, 'm.nspawn'));
  });

  it('applySettingsFile: --settings=no reads nothing; trusted trusts a file beside the tree', async () => {
    writeFileSync(join(machines, 'm.nspawn'), '[Exec]\nHostname=beside\n[Network]\nPrivate=yes\n');
    try {
      assert.equal(applySettingsFile(await args('--settings=no'), site, dirs).hostname, undefined);
      const trusted = applySettingsFile(await args('--settings=trusted'), site, dirs);
      assert.equal(trusted.hostname, 'beside');
      assert.equal(trusted.privateNetwork, true);
    } finally {
      rmSync(join(machines, 'm.nspawn'));
    }
  });

  it('a file that cannot be read is one clear error naming it', () => {
    mkdirSync(join(run, 'm.nspawn'));
    try {
      throwsUserError(() => findSettingsFile(site, dirs), `cannot read the settings file ${join(run, 'm.nspawn')}`);
    } finally {
      rmSync(join(run, 'm.nspawn'), { recursive: true });
    }
  });

  it('a FIFO in its place is refused at once, not read (it would block)', () => {
    execFileSync('mkfifo', [join(machines, 'm.nspawn')]);
    try {
      throwsUserError(() => findSettingsFile(site, dirs), 'not a regular file');
    } finally {
      rmSync(join(machines, 'm.nspawn'));
    }
  });

  it('looks beside nothing for a tree at /', () => {
    assert.equal(findSettingsFile({ machine: 'm', beside: '/' }, dirs), undefined);
  });
});
