/** Network options, names and MAC addresses: src/settings/network.ts, src/plan/network.ts, src/plan/siphash.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { siphash24 } from '../../src/plan/siphash.js';
import { containerMac, planNetwork, shortenIfname } from '../../src/plan/network.js';
import { encodePlan } from '../../src/plan/encode.js';
import { settingsFromArgs } from '../../src/settings/from-args.js';
import { checkNetworkSettings, hasPrivateNetwork, parsePort } from '../../src/settings/network.js';
import type { Settings } from '../../src/settings/model.js';
import { UserError } from '../../src/util/errors.js';

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
    assert.deepEqual(n, { links: [], moved: ['eth9', 'dum0'], ports: [] });
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

