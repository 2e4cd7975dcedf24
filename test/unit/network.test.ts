/** Network options, names and MAC addresses: src/settings/network.ts, src/plan/network.ts, src/plan/siphash.ts. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { siphash24 } from '../../src/plan/siphash.js';
import { containerMac, planNetwork, shortenIfname } from '../../src/plan/network.js';
import { encodePlan } from '../../src/plan/encode.js';
import { settingsFromArgs } from '../../src/settings/from-args.js';
import { checkNetworkSettings, hasPrivateNetwork, makesNetworkNamespace, parsePort } from '../../src/settings/network.js';
import type { Settings } from '../../src/settings/model.js';
import { UserError } from '../../src/util/errors.js';
import type { LaunchPlan, PlanNetwork } from '../../src/plan/types.js';
import { HELPER } from './helpers.js';

const HOST_ID = '3d1219c7c4c5404aaa1f6d2a48adfda4';

async function settings(...argv: string[]): Promise<Settings> {
  const s = await settingsFromArgs(['-D', '/var/lib/machines/deb', ...argv]);
  assert.notEqual(s, 'exit');
  return s as Settings;
}

describe('siphash24', () => {
  it('gives the reference vectors (key 00..0f)', () => {
    const key = Uint8Array.from({ length: 16 }, (_, i) => i);
    assert.equal(siphash24(new Uint8Array(0), key), 0x726fdb47dd0e0e31n);
    assert.equal(siphash24(Uint8Array.from({ length: 15 }, (_, i) => i), key), 0xa129ca6149be45e5n);
    assert.equal(siphash24(Uint8Array.from({ length: 8 }, (_, i) => i), key), 0x93f5f5799a932462n);
  });
});

describe('names and MAC addresses as systemd-nspawn 252 makes them', () => {
  // Read off systemd-nspawn -n on a host with machine id HOST_ID (this workplace's).
  it('derives the container and host MACs from the host machine id and the name', () => {
    assert.equal(containerMac(HOST_ID, 'nettest', 'container'), '5e:69:86:d7:f8:5a');
    assert.equal(containerMac(HOST_ID, 'a-very-long-machine-name-x', 'container'), 'c6:60:2e:27:59:77');
    assert.equal(containerMac(HOST_ID, 'a-very-long-machine-name-x', 'host'), '42:32:bc:fd:41:bb');
  });
  it('shortens a name longer than 15 bytes with 4 characters of its hash', () => {
    assert.equal(shortenIfname('ve-nettest'), 've-nettest');
    assert.equal(shortenIfname('ve-a-very-long-machine-name-x'), 've-a-very-lfLtf');
    assert.equal(shortenIfname('ve-123456789012'), 've-123456789012');
  });
  it('plans ve-NAME/host0 with -n, vb-NAME on a bridge or zone, extra links by their names', async () => {
    const n = planNetwork(await settings('-n', '--network-veth-extra=ex0:in0'), { machineName: 'nettest', hostMachineId: HOST_ID });
    assert.deepEqual(n?.links.map((l) => [l.host, l.container, l.register, l.attach?.bridge]), [
      ['ve-nettest', 'host0', true, undefined],
      ['ex0', 'in0', false, undefined],
    ]);
    const z = planNetwork(await settings('--network-zone=lab'), { machineName: 'a-very-long-machine-name-x', hostMachineId: HOST_ID });
    assert.deepEqual(z?.links[0], {
      host: 'vb-a-very-lP3wh', // the same hash as ve- above, which nspawn gave
      altName: 'vb-a-very-long-machine-name-x',
      hostMac: '42:32:bc:fd:41:bb',
      container: 'host0',
      containerMac: 'c6:60:2e:27:59:77',
      attach: { kind: 'zone', bridge: 'vz-lab' },
      register: true,
    });
    assert.equal(planNetwork(await settings('--private-network'), { machineName: 'x', hostMachineId: HOST_ID }), undefined);
  });
  it('encodes links, ports and the table for the helper', async () => {
    const n = planNetwork(await settings('--network-bridge=br0', '-p', 'udp:53'), { machineName: 'web', hostMachineId: HOST_ID })!;
    const text = encodePlan({
      root: '/r', rootId: { dev: '1', ino: '2' }, hostname: 'web', namespaces: { uts: true, ipc: true, cgroup: true, net: true }, console: 'pipe',
      readOnlyRoot: false, syscallFilter: true, asPid2: false, rootMode: 'plain', cwd: '/', uid: 0, gid: 0, groups: [], capsRetain: '0', exec: '/bin/true',
      argv: ['/bin/true'], env: [], ops: [], network: n,
    });
    assert.match(text, /^net-veth\tvb-web\t-\t[0-9a-f:]{17}\thost0\t[0-9a-f:]{17}\tbridge\tbr0\tregister$/m);
    assert.match(text, /^net-port\tudp\t53\t53$/m);
    assert.match(text, /^net-table\ttsnspawn-web$/m);
  });
});

describe('--network-interface', () => {
  it('plans the named links to move, without a veth, in a network namespace of its own, and encodes net-move records', async () => {
    const s = await settings('--network-interface=eth9', '--network-interface=dum0');
    assert.equal(hasPrivateNetwork(s), true, 'a moved link means a network namespace of its own');
    const n = planNetwork(s, { machineName: 'mv', hostMachineId: HOST_ID })!;
    assert.deepEqual(n, { links: [], moved: ['eth9', 'dum0'], vlans: [], ports: [] });
    const text = encodePlan({
      root: '/r', rootId: { dev: '1', ino: '2' }, hostname: 'mv', namespaces: { uts: true, ipc: true, cgroup: true, net: true }, console: 'pipe',
      readOnlyRoot: false, syscallFilter: true, asPid2: false, rootMode: 'plain', cwd: '/', uid: 0, gid: 0, groups: [], capsRetain: '0', exec: '/bin/true',
      argv: ['/bin/true'], env: [], ops: [], network: n,
    });
    assert.match(text, /^net-move\teth9$/m);
    assert.match(text, /^net-move\tdum0$/m);
  });
  it('refuses a bad link name and a link named twice', async () => {
    await assert.rejects(settings('--network-interface=a/b'), /invalid --network-interface=a\/b: a link name/);
    const twice = await settings('--network-interface=eth9', '--network-interface=eth9');
    assert.throws(() => checkNetworkSettings(twice), /invalid --network-interface: the link eth9 is named twice/);
  });
});

describe('--network-macvlan, --network-ipvlan', () => {
  // Read off systemd-nspawn 252 --network-macvlan=p0 --network-macvlan=averyverylongif on this workplace (machine id HOST_ID).
  it('names mv-IF / iv-IF (shortened as nspawn) and derives each macvlan MAC from the machine name and its index', async () => {
    const s = await settings('--network-macvlan=p0', '--network-macvlan=averyverylongif', '--network-ipvlan=p0');
    assert.equal(hasPrivateNetwork(s), true, 'a macvlan or ipvlan link means a network namespace of its own');
    assert.deepEqual(planNetwork(s, { machineName: 'nettest', hostMachineId: HOST_ID })!.vlans, [
      { kind: 'macvlan', parent: 'p0', name: 'mv-p0', mac: '6a:a4:76:4a:16:c7' },
      { kind: 'macvlan', parent: 'averyverylongif', name: 'mv-averyverlMkl', altName: 'mv-averyverylongif', mac: 'b2:b5:c8:3f:1e:3c' },
      { kind: 'ipvlan', parent: 'p0', name: 'iv-p0' },
    ]);
    const long = planNetwork(s, { machineName: 'a-very-long-machine-name-x', hostMachineId: HOST_ID })!.vlans;
    assert.deepEqual(long.map((v) => v.mac), ['32:39:22:f7:a8:43', '3e:73:3b:35:ef:07', undefined]);
  });
  it('encodes net-vlan records', async () => {
    const n = planNetwork(await settings('--network-macvlan=p0', '--network-ipvlan=eth1'), { machineName: 'nettest', hostMachineId: HOST_ID })!;
    const text = encodePlan({
      root: '/r', rootId: { dev: '1', ino: '2' }, hostname: 'm', namespaces: { uts: true, ipc: true, cgroup: true, net: true }, console: 'pipe',
      readOnlyRoot: false, syscallFilter: true, asPid2: false, rootMode: 'plain', cwd: '/', uid: 0, gid: 0, groups: [], capsRetain: '0', exec: '/bin/true',
      argv: ['/bin/true'], env: [], ops: [], network: n,
    });
    assert.match(text, /^net-vlan\tmacvlan\tp0\tmv-p0\t-\t6a:a4:76:4a:16:c7$/m);
    assert.match(text, /^net-vlan\tipvlan\teth1\tiv-eth1\t-\t-$/m);
  });
  it('refuses a bad parent, 257\'s IF:NAME, and a parent named twice', async () => {
    await assert.rejects(settings('--network-macvlan=a/b'), /invalid --network-macvlan=a\/b: a link name/);
    await assert.rejects(settings('--network-ipvlan=eth0:in0'), /invalid --network-ipvlan=eth0:in0: give the host link alone/);
    const twice = await settings('--network-macvlan=eth0', '--network-macvlan=eth0');
    assert.throws(() => checkNetworkSettings(twice), /invalid --network-macvlan: the link eth0 is named twice/);
  });
});

/** What the helper read back from a plan with this network (tsnspawn-helper --decode). */
function helperNetwork(network: PlanNetwork, net: boolean): { network: unknown; ns: { net: boolean } } {
  const plan: LaunchPlan = {
    root: '/r', rootId: { dev: '1', ino: '2' }, hostname: 'm', namespaces: { uts: true, ipc: true, cgroup: true, net }, console: 'pipe',
    readOnlyRoot: false, syscallFilter: true, asPid2: false, rootMode: 'plain', cwd: '/', uid: 0, gid: 0, groups: [], capsRetain: '0', exec: '/bin/true',
    argv: ['/bin/true'], env: [], ops: [], network,
  };
  const r = spawnSync(HELPER, ['--decode'], { input: encodePlan(plan), encoding: 'utf8', timeout: 10_000 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { network: unknown; ns: { net: boolean } };
}

describe('the helper reads the new network records back', () => {
  it('net-vlan (macvlan with its MAC, ipvlan without, a shortened name with its full one) and net-join', async () => {
    const vlans = planNetwork(await settings('--network-macvlan=averyverylongif', '--network-ipvlan=p0'), { machineName: 'nettest', hostMachineId: HOST_ID })!;
    assert.deepEqual(helperNetwork(vlans, true).network, vlans);
    const join = planNetwork(await settings('--network-namespace-path=/run/netns/lab'), { machineName: 'x', hostMachineId: HOST_ID })!;
    const back = helperNetwork(join, false);
    assert.deepEqual(back.network, join);
    assert.equal(back.ns.net, false);
  });
  it('refuses a net-join beside links', () => {
    const r = spawnSync(HELPER, ['--decode'], {
      input: 'tsnspawn-plan\t1\nroot\t/r\nroot-id\t1\t2\nhostname\tm\nconsole\tpipe\ncwd\t/\nuser\t0\t0\ncaps\t0\nexec\t/bin/true\nnet-move\teth0\nnet-join\t/run/netns/x\nend\n',
      encoding: 'utf8',
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr + r.stdout, /net-join record goes with no link records/);
  });
});

describe('--network-namespace-path', () => {
  it('joins the namespace instead of making one; alone it keeps no CAP_NET_ADMIN, with --private-network it does (as nspawn 252)', async () => {
    const s = await settings('--network-namespace-path=/run/netns/lab');
    assert.equal(s.networkNamespacePath, '/run/netns/lab');
    assert.equal(makesNetworkNamespace(s), false);
    assert.equal(hasPrivateNetwork(s), false);
    assert.deepEqual(planNetwork(s, { machineName: 'x', hostMachineId: HOST_ID }), { links: [], moved: [], vlans: [], ports: [], join: '/run/netns/lab' });
    const both = await settings('--network-namespace-path=/run/netns/lab', '--private-network');
    checkNetworkSettings(both);
    assert.equal(makesNetworkNamespace(both), false, 'joined, not made');
    assert.equal(hasPrivateNetwork(both), true, 'CAP_NET_ADMIN and a writable /proc/sys/net');
  });
  it('makes a relative path absolute and refuses the link options beside it', async () => {
    assert.equal((await settings('--network-namespace-path=lab')).networkNamespacePath, `${process.cwd()}/lab`);
    for (const other of ['-n', '--network-bridge=br0', '--network-zone=z', '--network-veth-extra=a', '--network-interface=eth0', '--network-macvlan=eth0', '--network-ipvlan=eth0']) {
      const s = await settings('--network-namespace-path=/run/netns/lab', other);
      assert.throws(() => checkNetworkSettings(s), /^UserError: cannot combine --network-namespace-path with --network-[a-z-]+: a joined namespace keeps the links it has/, other);
    }
  });
  it('encodes a net-join record and no ns net', async () => {
    const s = await settings('--network-namespace-path=/run/netns/lab');
    const text = encodePlan({
      root: '/r', rootId: { dev: '1', ino: '2' }, hostname: 'm', namespaces: { uts: true, ipc: true, cgroup: true, net: makesNetworkNamespace(s) }, console: 'pipe',
      readOnlyRoot: false, syscallFilter: true, asPid2: false, rootMode: 'plain', cwd: '/', uid: 0, gid: 0, groups: [], capsRetain: '0', exec: '/bin/true',
      argv: ['/bin/true'], env: [], ops: [], network: planNetwork(s, { machineName: 'x', hostMachineId: HOST_ID })!,
    });
    assert.match(text, /^net-join\t\/run\/netns\/lab$/m);
    assert.doesNotMatch(text, /^ns\tnet$/m);
  });
});

describe('network options', () => {
  it('parses [tcp|udp:]HOST[:CONTAINER]', () => {
    assert.deepEqual(parsePort('8080'), { protocol: 'tcp', hostPort: 8080, containerPort: 8080 });
    assert.deepEqual(parsePort('udp:53:5353'), { protocol: 'udp', hostPort: 53, containerPort: 5353 });
    for (const bad of ['0', '65536', 'sctp:1', '1:2:3', 'x', 'tcp:'])
      assert.throws(() => parsePort(bad), (e: unknown) => e instanceof UserError && /invalid --port=/.test(e.message), bad);
  });
  it('refuses bad names, doubled ports and combinations nspawn refuses', async () => {
    const both = await settings('--network-bridge=br0', '--network-zone=z');
    await assert.rejects(settings('--network-zone=much-too-long'), /vz-much-too-long must be a valid link name/);
    await assert.rejects(settings('--network-bridge=a/b'), /invalid --network-bridge=a\/b/);
    await assert.rejects(settings('--network-veth-extra=a:b:c'), /HOSTIF\[:CONTAINERIF\]/);
    await assert.rejects(settings('-p', '80', '-p', 'tcp:80:81'), /tcp port 80 is forwarded twice/);
    assert.throws(() => checkNetworkSettings(both), /cannot combine --network-bridge with --network-zone/);
  });
  it('refuses --port without a veth', async () => {
    const s = await settings('--private-network', '-p', '80');
    assert.throws(() => checkNetworkSettings(s), /cannot use --port without a virtual Ethernet link/);
  });
});

