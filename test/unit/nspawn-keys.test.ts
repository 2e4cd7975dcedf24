/** Every .nspawn key tsnspawn knows, its trust class and its value: src/settings/nspawn-keys.ts through from-file.ts. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { settingsFromFile } from '../../src/settings/from-file.js';
import { NSPAWN_KEYS, NSPAWN_KEYS_NOT_SUPPORTED, splitWords } from '../../src/settings/nspawn-keys.js';

const F = '/etc/systemd/nspawn/m.nspawn';
const one = (section: string, line: string) => settingsFromFile(F, `[${section}]\n${line}\n`);

/** systemd-nspawn 252's keys (nspawn-gperf.gperf; the strings in Debian 12's binary). */
const NSPAWN_252_KEYS = [
  'Exec.AmbientCapability', 'Exec.Boot', 'Exec.CPUAffinity', 'Exec.Capability', 'Exec.DropCapability', 'Exec.Environment',
  'Exec.Ephemeral', 'Exec.Hostname', 'Exec.KillSignal', 'Exec.LimitAS', 'Exec.LimitCORE', 'Exec.LimitCPU', 'Exec.LimitDATA',
  'Exec.LimitFSIZE', 'Exec.LimitLOCKS', 'Exec.LimitMEMLOCK', 'Exec.LimitMSGQUEUE', 'Exec.LimitNICE', 'Exec.LimitNOFILE',
  'Exec.LimitNPROC', 'Exec.LimitRSS', 'Exec.LimitRTPRIO', 'Exec.LimitRTTIME', 'Exec.LimitSIGPENDING', 'Exec.LimitSTACK',
  'Exec.LinkJournal', 'Exec.MachineID', 'Exec.NoNewPrivileges', 'Exec.NotifyReady', 'Exec.OOMScoreAdjust', 'Exec.Parameters',
  'Exec.Personality', 'Exec.PivotRoot', 'Exec.PrivateUsers', 'Exec.ProcessTwo', 'Exec.ResolvConf', 'Exec.SuppressSync',
  'Exec.SystemCallFilter', 'Exec.Timezone', 'Exec.User', 'Exec.WorkingDirectory', 'Files.Bind', 'Files.BindReadOnly',
  'Files.BindUser', 'Files.Inaccessible', 'Files.Overlay', 'Files.OverlayReadOnly', 'Files.PrivateUsersChown',
  'Files.PrivateUsersOwnership', 'Files.ReadOnly', 'Files.TemporaryFileSystem', 'Files.Volatile', 'Network.Bridge',
  'Network.IPVLAN', 'Network.Interface', 'Network.MACVLAN', 'Network.Port', 'Network.Private', 'Network.VirtualEthernet',
  'Network.VirtualEthernetExtra', 'Network.Zone',
];

/** Keys nspawn 252 ignores in an untrusted file (merge_settings(): the "is not trusted" branches). */
const PRIVILEGED = ['Exec.Ephemeral', 'Exec.Capability', 'Exec.MachineID', 'Exec.LinkJournal', 'Files.Bind', 'Files.BindReadOnly', 'Files.TemporaryFileSystem', 'Files.Overlay', 'Files.OverlayReadOnly', 'Files.Inaccessible', 'Network.Private',
  // nspawn ignores every [Network] key in a file it does not trust.
  'Network.VirtualEthernet', 'Network.VirtualEthernetExtra', 'Network.Interface', 'Network.Bridge', 'Network.Zone', 'Network.Port', 'Network.MACVLAN', 'Network.IPVLAN',
  // BindUser=: nspawn 252 and 257 applied it from any file; 260 ignores it in an untrusted one (a host user's home and
  // password hash are the host's to give), and so does tsnspawn.
  'Files.BindUser',
  // The payload's ambient capabilities, OOM score, CPU affinity and every resource limit (not NoNewPrivileges=, Personality=).
  'Exec.AmbientCapability', 'Exec.OOMScoreAdjust', 'Exec.CPUAffinity',
  ...['CPU', 'FSIZE', 'DATA', 'STACK', 'CORE', 'RSS', 'NOFILE', 'AS', 'NPROC', 'MEMLOCK', 'LOCKS', 'SIGPENDING', 'MSGQUEUE', 'NICE', 'RTPRIO', 'RTTIME'].map((r) => `Exec.Limit${r}`)];

describe('the key table', () => {
  it('covers systemd-nspawn 252 exactly: every key is supported or named as not supported', () => {
    const ours = [...NSPAWN_KEYS.map((k) => k.name), ...Object.keys(NSPAWN_KEYS_NOT_SUPPORTED)].sort();
    assert.deepEqual(ours, [...NSPAWN_252_KEYS].sort());
  });

  it("agrees with the installed systemd-nspawn's own key list where there is one", (t) => {
    let strings: string;
    try {
      strings = execFileSync('strings', ['/usr/bin/systemd-nspawn'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    } catch {
      return t.skip('no systemd-nspawn (or strings) here');
    }
    const theirs = strings.split('\n').filter((l) => /^(Exec|Files|Network)\.[A-Za-z]+$/.test(l));
    for (const k of theirs) assert.ok(NSPAWN_252_KEYS.includes(k), `${k} is missing from the table`);
  });

  it("marks as privileged exactly the keys nspawn ignores in a file it does not trust", () => {
    assert.deepEqual(NSPAWN_KEYS.filter((k) => k.privileged === true).map((k) => k.name).sort(), [...PRIVILEGED].sort());
    // SystemCallFilter=: ignored only when the file's lists allow something (nspawn's merge_settings).
    assert.deepEqual(NSPAWN_KEYS.filter((k) => typeof k.privileged === 'function').map((k) => k.name), ['Exec.SystemCallFilter']);
  });
});

describe('key values', () => {
  const cases: [string, string, object][] = [
    ['Exec', 'Boot=yes', { startMode: 'boot' }],
    ['Exec', 'Boot=no', { startMode: 'command' }],
    ['Exec', 'ProcessTwo=yes', { startMode: 'as-pid2' }],
    ['Exec', 'Ephemeral=yes', { ephemeral: true }],
    ['Exec', 'Environment=A=1 "B=two words" C=', { environment: ['A=1', 'B=two words', 'C='] }],
    ['Exec', 'User=tester', { user: 'tester' }],
    ['Exec', 'WorkingDirectory=/srv//x/', { chdir: '/srv/x' }],
    ['Exec', 'Capability=CAP_NET_ADMIN cap_sys_time', { addCapabilities: ['CAP_NET_ADMIN', 'CAP_SYS_TIME'] }],
    ['Exec', 'DropCapability=CAP_CHOWN', { dropCapabilities: ['CAP_CHOWN'] }],
    ['Exec', 'KillSignal=SIGTERM', { killSignal: 15 }],
    ['Exec', 'KillSignal=RTMIN+3', { killSignal: 37 }],
    ['Exec', 'MachineID=0123456789abcdef0123456789abcdef', { uuid: '0123456789abcdef0123456789abcdef' }],
    ['Exec', 'Hostname=web.example', { hostname: 'web.example' }],
    ['Exec', 'PrivateUsers=pick', { privateUsers: { mode: 'pick' } }],
    ['Exec', 'PrivateUsers=1879048192:1000', { privateUsers: { mode: 'fixed', base: 1879048192, count: 1000 } }],
    ['Files', 'PrivateUsersOwnership=map', { privateUsersOwnership: 'map' }],
    ['Exec', 'NotifyReady=yes', { notifyReady: true }],
    ['Exec', 'ResolvConf=bind-host', { resolvConf: 'bind-host' }],
    ['Exec', 'ResolvConf=no', { resolvConf: 'off' }],
    ['Exec', 'Timezone=symlink', { timezone: 'symlink' }],
    ['Exec', 'Timezone=yes', { timezone: 'auto' }],
    ['Exec', 'LinkJournal=try-guest', { linkJournal: 'try-guest' }],
    ['Files', 'ReadOnly=true', { readOnly: true }],
    ['Files', 'Volatile=state', { volatile: 'state' }],
    ['Files', 'Volatile=off', { volatile: 'no' }],
    ['Network', 'Private=on', { privateNetwork: true }],
    ['Network', 'VirtualEthernet=yes', { networkVeth: true }],
    ['Network', 'VirtualEthernetExtra=ex0:in0', { networkVethExtra: [{ host: 'ex0', container: 'in0' }] }],
    ['Network', 'Bridge=br0', { networkBridge: 'br0' }],
    ['Network', 'Interface=dum0  dum1', { networkInterfaces: ['dum0', 'dum1'] }],
    ['Network', 'MACVLAN=eth0 eth1', { networkMacvlan: ['eth0', 'eth1'] }],
    ['Network', 'IPVLAN=eth2', { networkIpvlan: ['eth2'] }],
    ['Network', 'Zone=lab', { networkZone: 'lab' }],
    ['Network', 'Port=udp:53:5353', { ports: [{ protocol: 'udp', hostPort: 53, containerPort: 5353 }] }],
    ['Exec', 'NoNewPrivileges=yes', { noNewPrivileges: true }],
    ['Exec', 'SuppressSync=yes', { suppressSync: true }],
    ['Files', 'Inaccessible=/srv//secret', { inaccessible: [{ path: '/srv/secret', option: `Inaccessible=/srv//secret (${F}:2)` }] }],
    ['Exec', 'OOMScoreAdjust=-250', { oomScoreAdjust: -250 }],
    ['Exec', 'CPUAffinity=0-2 5', { cpuAffinity: [0, 1, 2, 5] }],
    ['Exec', `Personality=${process.arch === 'arm64' ? 'arm' : 'x86'}`, { personality: process.arch === 'arm64' ? 'arm' : 'x86' }],
    ['Exec', 'AmbientCapability=CAP_NET_BIND_SERVICE cap_chown', { ambientCapabilities: ['CAP_NET_BIND_SERVICE', 'CAP_CHOWN'] }],
    ['Exec', 'LimitNOFILE=1024:4096', { rlimits: { NOFILE: { soft: 1024n, hard: 4096n } } }],
    ['Exec', 'LimitAS=1G:infinity', { rlimits: { AS: { soft: 1n << 30n, hard: 'infinity' } } }],
    ['Exec', 'LimitCPU=2min', { rlimits: { CPU: { soft: 120n, hard: 120n } } }],
  ];
  for (const [section, line, expected] of cases)
    it(`[${section}] ${line}`, () => {
      const r = one(section, line);
      assert.deepEqual(r.warnings, []);
      assert.deepEqual(r.values, expected);
    });

  it('Parameters= splits words with quotes, lines add up, an empty one empties', () => {
    assert.deepEqual(settingsFromFile(F, '[Exec]\nBoot=yes\nParameters=a "b c"\nParameters=\'d\'\n').values.parameters, ['a', 'b c', 'd']);
    assert.deepEqual(settingsFromFile(F, '[Exec]\nBoot=yes\nParameters=a\nParameters=\n').values.parameters, []);
  });

  it('Environment= lines add up; an empty one empties the list', () => {
    assert.deepEqual(settingsFromFile(F, '[Exec]\nEnvironment=A=1\nEnvironment=B=2\n').values.environment, ['A=1', 'B=2']);
    assert.deepEqual(settingsFromFile(F, '[Exec]\nEnvironment=A=1\nEnvironment=\n').values.environment, []);
  });

  it('Bind=, BindReadOnly=, TemporaryFileSystem=, Overlay=, OverlayReadOnly= become mounts naming the file and line', () => {
    const r = settingsFromFile(F, '[Files]\nBind=/srv/a:/a:norbind\nBindReadOnly=+/etc:/mnt/etc\nTemporaryFileSystem=/scratch:size=1M\nOverlay=/l1:/l2:/up:/o\nOverlayReadOnly=/l:/ro\n');
    assert.deepEqual(r.warnings, []);
    assert.deepEqual(r.values.binds, [
      { source: '/srv/a', destination: '/a', readOnly: false, recursive: false, option: `Bind=/srv/a:/a:norbind (${F}:2)` },
      { source: '+/etc', destination: '/mnt/etc', readOnly: true, recursive: true, option: `BindReadOnly=+/etc:/mnt/etc (${F}:3)` },
    ]);
    assert.deepEqual(r.values.tmpfs, [{ destination: '/scratch', options: 'size=1M', flags: ['nosuid', 'nodev', 'strictatime'], option: `TemporaryFileSystem=/scratch:size=1M (${F}:4)` }]);
    assert.deepEqual(r.values.overlays, [
      { lowers: ['/l1', '/l2'], upper: '/up', destination: '/o', option: `Overlay=/l1:/l2:/up:/o (${F}:5)` },
      { lowers: ['/l', '/ro'], destination: '/ro', option: `OverlayReadOnly=/l:/ro (${F}:6)` },
    ]);
  });

  it('Boot=yes and ProcessTwo=yes conflict: the later one is ignored with a warning', () => {
    const r = settingsFromFile(F, '[Exec]\nBoot=yes\nProcessTwo=yes\n');
    assert.equal(r.values.startMode, 'boot');
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /:3: invalid ProcessTwo=yes.*conflicts/);
  });

  it('Parameters= without Boot= or ProcessTwo= is ignored as nspawn does, with a warning', () => {
    const r = settingsFromFile(F, '[Exec]\nParameters=/bin/true\n');
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /:2: Parameters= takes effect only with Boot= or ProcessTwo=/);
  });

  it('an unknown capability is skipped with a warning; the known ones apply', () => {
    const r = one('Exec', 'Capability=CAP_SYS_TIME CAP_BOGUS');
    assert.deepEqual(r.values.addCapabilities, ['CAP_SYS_TIME']);
    assert.equal(r.warnings.length, 1);
    assert.match(r.warnings[0]!, /:2: Capability=CAP_SYS_TIME CAP_BOGUS: unknown capability CAP_BOGUS skipped/);
  });

  const bad: [string, string, RegExp][] = [
    ['Exec', 'Boot=maybe', /invalid Boot=maybe.*yes or no/],
    ['Exec', 'Environment=NOEQUALS', /'NOEQUALS' is not NAME=VALUE/],
    ['Exec', 'Environment="A=1', /unbalanced/],
    ['Exec', 'WorkingDirectory=relative', /absolute/],
    ['Exec', 'KillSignal=SIGNOPE', /signal/],
    ['Exec', 'MachineID=xyz', /UUID/],
    ['Exec', 'Hostname=-bad-', /letters, digits/],
    ['Exec', 'ResolvConf=sometimes', /use one of/],
    ['Exec', 'LinkJournal=yes', /use one of/],
    ['Files', 'Volatile=partly', /use one of/],
    ['Files', 'Bind=relative/path:/x', /not an absolute path/],
    ['Files', 'Bind=/a:rel', /absolute/],
    ['Files', 'TemporaryFileSystem=rel', /absolute/],
    ['Files', 'Overlay=rel:/up:/dst', /not an absolute path/],
    ['Network', 'Private=perhaps', /yes or no/],
    ['Network', 'Port=70000', /not a port number/],
    ['Network', 'Zone=far-too-long-zone', /must be a valid link name/],
    ['Network', 'Interface=a/b', /invalid Interface=a\/b: a link name/],
  ];
  for (const [section, line, pattern] of bad)
    it(`a bad value is one warning naming file, line and key: [${section}] ${line}`, () => {
      const r = one(section, line);
      assert.deepEqual(r.values, {});
      assert.deepEqual(r.seen, []);
      assert.equal(r.warnings.length, 1);
      assert.ok(r.warnings[0]!.startsWith(`${F}:2: invalid ${line.slice(0, line.indexOf('=') + 1)}`), r.warnings[0]);
      assert.match(r.warnings[0]!, pattern);
    });

  it('reads the keys that came last (PivotRoot=, SystemCallFilter=, MACVLAN=, BindUser=) and names an unknown key as unknown', () => {
    const r = settingsFromFile(F, '[Exec]\nPivotRoot=/x\nSystemCallFilter=@sync\nFrobnicate=1\nX-Mine=1\n[Network]\nMACVLAN=eth0\n[Files]\nUser=x\nBindUser=me\n');
    assert.deepEqual(r.warnings, [
      `${F}:4: unknown key Frobnicate= in section [Exec], ignoring it`,
      `${F}:9: unknown key User= in section [Files], ignoring it`,
    ]);
    assert.deepEqual(r.values.pivotRoot, { newRoot: '/x' });
    assert.deepEqual(r.values.bindUsers, ['me']);
  });

  it('a bad line does not stop the rest of the file', () => {
    const r = settingsFromFile(F, '[Exec]\nHostname=-\nnonsense\nUser=u\n[Files]\nReadOnly=x\nVolatile=yes\n');
    assert.deepEqual(r.values, { user: 'u', volatile: 'yes' });
    assert.equal(r.warnings.length, 3);
  });
});

describe('splitWords', () => {
  it("splits on blanks, unquotes '...' and \"...\", keeps escapes", () => {
    assert.deepEqual(splitWords(' a  b\t"c d" \'e"f\' g\\ h ""'), ['a', 'b', 'c d', 'e"f', 'g\\ h', '']);
  });
});
