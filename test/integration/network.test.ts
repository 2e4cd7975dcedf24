/**
 * Networking, inside the host image booted with a network namespace of its
 * own and systemd-networkd running (so every link, address and rule the
 * tests make lives in a namespace the test made): -n gives a Debian guest
 * an address by DHCP from ve-NAME, machinectl shows it, the host reaches a
 * service in the guest by name (nss-mymachines); --port forwards TCP and
 * UDP, IPv4 and IPv6, from the host's address and from loopback; zones connect their
 * members and nothing else; --network-interface moves a link in and back;
 * --network-macvlan gives two containers on one parent links that reach
 * each other, removed from their namespaces at the end; --network-ipvlan
 * where the kernel has it (else its one-line refusal); --network-namespace-path
 * joins a namespace the test made and leaves it; a SIGKILLed tsnspawn's leftovers (a zone's
 * bridge, the --port table) go at the next start or list. After every case
 * no ve-/vb-/vz- link and no tsnspawn nftables table is left. Needs root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, afterEach, before, describe, it } from 'node:test';
import { containerMac } from '../../src/plan/network.js';
import { HostMachine, TSNSPAWN_INSIDE } from '../harness/host-machine.js';
import { image } from '../harness/images.js';
import { TOP } from '../harness/paths.js';
import { rootSkipReason } from '../harness/root.js';

const skip = rootSkipReason();
const BUSYBOX = '/var/lib/machines/busybox';
const DEBIAN = '/var/lib/machines/debian12';
/** A unique-local IPv6 prefix for the guest (inside the host image's own network namespace). */
const ULA = 'fd14:5e';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('networking (veth, zones, --port) in a host with systemd-networkd', { skip }, () => {
  let host: HostMachine;
  let echo: string;
  before(async () => {
    host = await HostMachine.boot({ unified: true, network: true, machines: { busybox: image('busybox'), debian12: image('debian12') } });
    echo = `${host.share}/echo-server`;
    execFileSync('gcc', ['-static', '-O2', '-o', echo, `${TOP}/test/harness/echo-server.c`]);
  });
  after(async () => host?.shutdown());

  const sh = async (script: string): Promise<string> => (await host.sh(script, { direct: true })).stdout;
  /** Polls a shell script until its output matches. */
  const until = async (script: string, pattern: RegExp, what: string, tries = 300): Promise<string> => {
    let out = '';
    for (let i = 0; i < tries; i++) {
      out = await sh(script);
      if (pattern.test(out)) return out;
      await sleep(200);
    }
    assert.fail(`${what}: last output ${JSON.stringify(out)}`);
  };

  afterEach(async () => {
    if (!host) return;
    const left = await sh("ip -o link | awk -F': ' '{print $2}' | grep -E '^(ve|vb|vz)-' ; nft list tables inet | grep tsnspawn- ; ls /run/tsnspawn/machines 2>/dev/null; true");
    assert.equal(left, '', 'no link, nftables table or runtime record left in the host');
  });

  it('-n: DHCP on host0 from ve-NAME, machinectl shows the address, nss-mymachines resolves the name; --port forwards TCP and UDP, IPv4 and IPv6, from loopback and the host address', async () => {
    // Stock networkd gives ve-* no IPv6 prefix (the guest would have only a
    // link-local address, which --port cannot reach): a ULA prefix, sent in
    // ve-NAME's router advertisements, gives the guest a global address by SLAAC.
    await sh(`mkdir -p /run/systemd/network/80-container-ve.network.d && printf '%s\\n' '[Network]' 'Address=${ULA}::1/64' '[IPv6Prefix]' 'Prefix=${ULA}::/64' >/run/systemd/network/80-container-ve.network.d/ula.conf && networkctl reload`);
    const run = host.run([
      TSNSPAWN_INSIDE, '-q', '--console=pipe', '-D', DEBIAN, '-M', 'web', '-x', '-b', '-n',
      '-p', '8080:7000', '-p', 'udp:8053:7000', `--bind-ro=${echo}:/usr/local/bin/echo-server`,
      'systemd.wants=systemd-networkd.service',
    ]);
    try {
      const listed = await until('machinectl --no-pager list --no-legend', /^web\s.*\b\d+\.\d+\.\d+\.\d+\b/m, 'machinectl list shows an IPv4 address of web');
      const guestAddress = /\b(\d+\.\d+\.\d+\.\d+)\b/.exec(listed)![1]!;
      assert.match(await sh('machinectl --no-pager status web'), new RegExp(`Address: .*${guestAddress.replace(/\./g, '\\.')}`));
      assert.match(await sh('ip -o link show ve-web'), /ve-web@/, 'the host side is ve-NAME');
      assert.equal(
        await sh('busctl get-property org.freedesktop.machine1 /org/freedesktop/machine1/machine/web org.freedesktop.machine1.Machine NetworkInterfaces'),
        `ai 1 ${await sh('cat /sys/class/net/ve-web/ifindex')}`,
        'machined has the host side\'s index',
      );
      assert.equal((await sh('getent ahostsv4 web | head -1')).split(/\s+/)[0], guestAddress, 'nss-mymachines resolves the machine name');
      const server = host.run([TSNSPAWN_INSIDE, 'exec', 'web', '/usr/local/bin/echo-server', '7000']);
      const tcp = (target: string, port: number): string => `timeout 5 bash -c 'exec 3<>/dev/tcp/${target}/${port}; head -1 <&3' 2>&1`;
      const udp = (target: string, port: number): string => `timeout 5 bash -c 'exec 3<>/dev/udp/${target}/${port}; echo x >&3; head -1 <&3' 2>&1`;
      assert.equal(await until(tcp('web', 7000), /tcp 7000/, 'the guest service by name'), 'tcp 7000\n');
      const hostAddress = (await sh("ip -4 -o addr show ve-web | awk '{print $4}' | cut -d/ -f1 | head -1")).trim();
      assert.match(hostAddress, /^\d+\.\d+\.\d+\.\d+$/, 'networkd gave ve-web an address');
      const guestAddress6 = (
        await until(`machinectl --no-pager status web | grep -oE '${ULA}:[0-9a-f:]+' | head -1`, new RegExp(`^${ULA}:`), 'the guest has a SLAAC address in the ULA prefix')
      ).trim();
      await until('nft list table inet tsnspawn-web', new RegExp(`dnat ip6 to \\[${guestAddress6}\\]:7000`), 'the IPv6 DNAT rule points at the guest address');
      for (const target of ['127.0.0.1', hostAddress, '::1', `${ULA}::1`]) {
        assert.equal(await until(tcp(target, 8080), /tcp 7000/, `TCP through --port from ${target}`, 25), 'tcp 7000\n');
        assert.equal(await until(udp(target, 8053), /udp 7000/, `UDP through --port from ${target}`, 25), 'udp 7000\n');
      }
      assert.match(await sh('nft list table inet tsnspawn-web'), /dnat ip to .*:7000/);
      assert.match(await sh('ip -6 route show table local dev ve-web'), /^local ::1 /m, '::1 routed in on ve-web for the answers to loopback');
      await sh('machinectl poweroff web');
      const r = await run;
      assert.equal(r.exitCode, 0, r.stderr);
      await server;
    } finally {
      await sh('machinectl terminate web 2>/dev/null; true');
      await run;
      await sh('rm -rf /run/systemd/network/80-container-ve.network.d; networkctl reload');
    }
  });

  it('--network-zone: two members reach each other, not a third on another zone; the zone bridge goes with its last member', async () => {
    const member = (name: string, zone: string, addr: string, script: string) =>
      host.run([TSNSPAWN_INSIDE, '-q', '-P', '-x', '-D', BUSYBOX, '-M', name, `--network-zone=${zone}`, '/bin/sh', '-c', `ip addr add ${addr}/24 dev host0; ip link set host0 up; ${script}`]);
    const a = member('za', 'lab', '10.77.0.1', 'sleep 8');
    const c = member('zc', 'other', '10.77.0.3', 'sleep 8');
    await until('ip -o link', /vb-za@.*master vz-lab[\s\S]*vb-zc@.*master vz-other|vb-zc@.*master vz-other[\s\S]*vb-za@.*master vz-lab/, 'both members attached');
    const b = await member('zb', 'lab', '10.77.0.2', 'sleep 1; ping -c1 -W2 10.77.0.1 >/dev/null && echo reached-za; ping -c1 -W2 10.77.0.3 >/dev/null && echo reached-zc || echo not-zc');
    assert.equal(b.stdout, 'reached-za\nnot-zc\n', b.stderr);
    assert.equal((await a).exitCode, 0);
    assert.equal((await c).exitCode, 0);
  });

  it('--network-bridge: vb-NAME joins an existing bridge; a missing bridge is refused with nothing left', async () => {
    await sh('ip link add br-test type bridge && ip link set br-test up');
    try {
      const r = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'bm', '--network-bridge=br-test', '/bin/sh', '-c', 'cat /sys/class/net/host0/address']);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /^[0-9a-f]{2}(:[0-9a-f]{2}){5}\n$/);
      const bad = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'bm', '--network-bridge=nosuchbr', '/bin/true']);
      assert.equal(bad.exitCode, 1);
      assert.match(bad.stderr, /cannot attach vb-bm to the bridge nosuchbr: there is no such link/);
      assert.equal(bad.stderr.trim().split('\n').length, 1, 'one line');
    } finally {
      await sh('ip link delete br-test');
    }
  });

  it('--network-interface: a host link moves into the container and back out at exit; a missing one is refused with nothing left', async () => {
    // One end of a veth pair (this kernel has no dummy links); a virtual link
    // dies with the container's namespace, so back on the host means tsnspawn moved it.
    assert.equal(await sh('ip link add mv14 type veth peer name mv14p && echo made'), 'made\n');
    try {
      const done = `${host.share}/moved-done`;
      const run = host.run([
        TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'mv', '--network-interface=mv14', `--bind=${host.share}`, '/bin/sh', '-c',
        `ip -o link show mv14 && ip -o link | wc -l; while [ ! -e ${done} ]; do sleep 0.2; done`,
      ]);
      // nspawn registers only a veth's host side (or its bridge): a moved link has no host side while it is inside.
      const registered = await until(
        'busctl get-property org.freedesktop.machine1 /org/freedesktop/machine1/machine/mv org.freedesktop.machine1.Machine NetworkInterfaces 2>/dev/null',
        /^ai /,
        'mv registered',
      );
      await sh(`touch ${done}`);
      const r = await run;
      await sh(`rm -f ${done}`);
      assert.equal(registered, 'ai 0\n', 'machined gets no link for --network-interface, as from nspawn');
      assert.equal(r.exitCode, 0, r.stderr);
      assert.match(r.stdout, /^\d+: mv14[@:].*\n2\n$/, 'inside: the moved link and loopback, nothing else');
      assert.match(await sh('ip -o link show mv14'), /^\d+: mv14[@:]/, 'back on the host afterwards');
      const bad = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'mv', '--network-interface=nosuch14', '/bin/true']);
      assert.equal(bad.exitCode, 1);
      assert.match(bad.stderr, /cannot move the link nosuch14 into the container: there is no such link on the host \(fix --network-interface\)/);
      assert.equal(bad.stderr.trim().split('\n').length, 1, 'one line');
    } finally {
      await sh('ip link delete mv14p 2>/dev/null; true');
    }
  });

  const links = async (): Promise<string> => sh("ip -o link | awk -F': ' '{print $2}' | sort");
  const oneLine = (stderr: string): void => assert.equal(stderr.trim().split('\n').length, 1, `one line: ${stderr}`);

  it('--network-macvlan: mv-PARENT inside with the MAC nspawn derives, two containers on one parent reach each other, the links leave with them; not in machined\'s NetworkInterfaces, as nspawn', async () => {
    // The parent: one end of a veth pair, both ends up (a macvlan has carrier only with its parent's).
    assert.equal(await sh('ip link add mvp0 type veth peer name mvp1 && ip link set mvp1 up && ip link set mvp0 up && echo made'), 'made\n');
    const hostId = (await sh('cat /etc/machine-id')).trim();
    const done = `${host.share}/macvlan-done`;
    const machineLinks = (name: string): Promise<string> =>
      sh(`busctl get-property org.freedesktop.machine1 /org/freedesktop/machine1/machine/${name} org.freedesktop.machine1.Machine NetworkInterfaces`);
    const before = await links();
    const show = 'cat /sys/class/net/mv-mvp0/address';
    const a = host.run([
      TSNSPAWN_INSIDE, '-q', '-P', '-x', '-D', BUSYBOX, '-M', 'ma', '--network-macvlan=mvp0', `--bind=${host.share}`, '/bin/sh', '-c',
      `ip addr add 10.78.0.1/24 dev mv-mvp0 && ip link set mv-mvp0 up && ${show}; while [ ! -e ${done} ]; do sleep 0.2; done`,
    ]);
    try {
      await until('machinectl show ma -p Leader --value 2>/dev/null', /^[1-9]\d*$/m, 'ma registered');
      // Hold ma's namespace past its end: what is still in it afterwards, tsnspawn left there.
      await until('ip netns attach held-ma $(machinectl show ma -p Leader --value) 2>&1 && echo held', /held/, 'ma\'s namespace held');
      assert.equal(await machineLinks('ma'), 'ai 0\n', 'no host-side link of a macvlan for machined (nspawn passes only a veth\'s)');
      assert.match(await sh('ip -n held-ma -d -o link show mv-mvp0'), new RegExp(`link/ether ${containerMac(hostId, 'ma', 'macvlan')} .*\\bmacvlan mode bridge\\b`), 'a bridge-mode macvlan inside');
      const b = await host.run([
        TSNSPAWN_INSIDE, '-q', '-P', '-x', '-D', BUSYBOX, '-M', 'mb', '--network-macvlan=mvp0', '/bin/sh', '-c',
        `ip addr add 10.78.0.2/24 dev mv-mvp0 && ip link set mv-mvp0 up && ${show} && for i in 1 2 3 4 5 6 7 8 9 10; do ping -c1 -W1 10.78.0.1 >/dev/null && echo reached-ma && break; done`,
      ]);
      await sh(`touch ${done}`);
      const ra = await a;
      assert.equal(ra.exitCode, 0, ra.stderr);
      assert.equal(b.exitCode, 0, b.stderr);
      assert.equal(ra.stdout, `${containerMac(hostId, 'ma', 'macvlan')}\n`, 'ma: the MAC from the host id and its name');
      assert.equal(b.stdout, `${containerMac(hostId, 'mb', 'macvlan')}\nreached-ma\n`, 'mb: its own MAC, and it reached ma over the parent (bridge mode)');
      assert.equal(await sh('ip -n held-ma -o link | grep -c mv-mvp0; true'), '0\n', 'tsnspawn removed the macvlan from the namespace it held');
      assert.equal(await links(), before, 'the host\'s links as before');
    } finally {
      await sh(`touch ${done}`);
      await a;
      await sh(`ip netns delete held-ma 2>/dev/null; rm -f ${done}; ip link delete mvp0 2>/dev/null; true`);
    }
  });

  it('--network-macvlan / --network-ipvlan on a missing parent: one line, nothing left', async () => {
    const before = await links();
    for (const [kind, prefix] of [['macvlan', 'mv'], ['ipvlan', 'iv']]) {
      const r = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'mvbad', `--network-${kind}=nosuch14`, '/bin/true']);
      assert.equal(r.exitCode, 1);
      assert.match(r.stderr, new RegExp(`^tsnspawn: cannot make the ${kind} link ${prefix}-nosuch14: there is no link nosuch14 on the host \\(fix --network-${kind}\\) \\(step network`));
      oneLine(r.stderr);
    }
    assert.equal(await links(), before);
  });

  /** Whether the host image's kernel makes ipvlan links (this workplace's VM kernel has no CONFIG_IPVLAN). */
  const kernelHasIpvlan = async (): Promise<boolean> =>
    (await sh('ip link add ivprobe0 link mvq0 type ipvlan mode l2 2>/dev/null && ip link delete ivprobe0 && echo yes; true')) === 'yes\n';

  it('--network-ipvlan: iv-PARENT inside, an L2 ipvlan sharing its parent\'s MAC', async (t) => {
    await sh('ip link add mvq0 type veth peer name mvq1 && ip link set mvq0 up && ip link set mvq1 up');
    try {
      if (!(await kernelHasIpvlan())) return t.skip('this kernel has no ipvlan (CONFIG_IPVLAN); the next test checks the refusal');
      const parentMac = (await sh('cat /sys/class/net/mvq0/address')).trim();
      const r = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'iv', '--network-ipvlan=mvq0', '/bin/sh', '-c', 'cat /sys/class/net/iv-mvq0/address']);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout, `${parentMac}\n`, 'an ipvlan has its parent\'s MAC address');
    } finally {
      await sh('ip link delete mvq0 2>/dev/null; true');
    }
  });

  it('--network-ipvlan on a kernel without ipvlan: one line naming the missing support, nothing left', async (t) => {
    await sh('ip link add mvq0 type veth peer name mvq1 && ip link set mvq0 up');
    try {
      if (await kernelHasIpvlan()) return t.skip('this kernel has ipvlan; the test before checks the link');
      const before = await links();
      const r = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'iv', '--network-ipvlan=mvq0', '/bin/true']);
      assert.equal(r.exitCode, 1);
      assert.match(r.stderr, /cannot make the ipvlan link iv-mvq0 on mvq0: this kernel has no ipvlan support \(--network-ipvlan\)/);
      oneLine(r.stderr);
      assert.equal(await links(), before);
    } finally {
      await sh('ip link delete mvq0 2>/dev/null; true');
    }
  });

  it('--network-namespace-path: the container joins a namespace the test made (its link and address, loopback up), keeps no CAP_NET_ADMIN unless --private-network; the namespace stays', async () => {
    await sh('ip netns add lab14 && ip -n lab14 link add nx0 type veth peer name nx1 && ip -n lab14 addr add 10.79.0.5/24 dev nx0 && ip -n lab14 link set nx0 up');
    try {
      const inode = (await sh('stat -L -c %i /run/netns/lab14')).trim();
      const probe = "stat -L -c %i /proc/self/ns/net; ip -o -4 addr show | awk '{print $2, $4}'; grep CapBnd /proc/self/status";
      const capNetAdmin = (out: string): boolean => (BigInt(`0x${/CapBnd:\s*([0-9a-f]+)/.exec(out)![1]}`) >> 12n) & 1n ? true : false;
      const r = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'nsj', '--network-namespace-path=/run/netns/lab14', '/bin/sh', '-c', probe]);
      assert.equal(r.exitCode, 0, r.stderr);
      const [ns, ...rest] = r.stdout.split('\n');
      assert.equal(ns, inode, 'the container\'s network namespace is the file\'s');
      assert.match(rest.join('\n'), /^lo 127\.0\.0\.1\/8\nnx0 10\.79\.0\.5\/24\n/, 'loopback up, and the namespace\'s own link and address');
      assert.equal(capNetAdmin(r.stdout), false, 'no CAP_NET_ADMIN in a joined namespace alone (nspawn 252)');
      const priv = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'nsj', '--network-namespace-path=/run/netns/lab14', '--private-network', '/bin/sh', '-c', probe]);
      assert.equal(priv.exitCode, 0, priv.stderr);
      assert.equal(priv.stdout.split('\n')[0], inode);
      assert.equal(capNetAdmin(priv.stdout), true, 'with --private-network: CAP_NET_ADMIN');
      const userns = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-U', '-D', BUSYBOX, '-M', 'nsj', '--network-namespace-path=/run/netns/lab14', '/bin/sh', '-c', 'stat -L -c %i /proc/self/ns/net; ls /sys/class/net']);
      assert.equal(userns.exitCode, 0, userns.stderr);
      assert.equal(userns.stdout, `${inode}\nlo\nnx0\nnx1\n`, 'with -U too, its sysfs showing the joined namespace');
      assert.match(await sh('ip -n lab14 -o -4 addr show nx0'), /10\.79\.0\.5\/24/, 'the namespace and its address are still there');
    } finally {
      await sh('ip netns delete lab14');
    }
  });

  it('--network-namespace-path: a file that is not a network namespace, a missing one, or beside -n: one line, nothing left', async () => {
    const cases: [string[], RegExp][] = [
      [['--network-namespace-path=/etc/os-release'], /^tsnspawn: cannot join \/etc\/os-release: it is not a network namespace \(fix --network-namespace-path: ip netns add NAME makes one at \/run\/netns\/NAME\)/],
      [['--network-namespace-path=/proc/self/ns/mnt'], /cannot join \/proc\/self\/ns\/mnt: it is not a network namespace/],
      [['--network-namespace-path=/run/netns/nosuch14'], /cannot open the network namespace \/run\/netns\/nosuch14 \(fix --network-namespace-path\): No such file or directory/],
      [['--network-namespace-path=/run/netns/nosuch14', '-n'], /cannot combine --network-namespace-path with --network-veth/],
    ];
    for (const [options, pattern] of cases) {
      const r = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'nsbad', ...options, '/bin/true']);
      assert.equal(r.exitCode, 1, options.join(' '));
      assert.match(r.stderr, pattern);
      oneLine(r.stderr);
    }
    assert.equal(await sh('ls /run/tsnspawn/machines; machinectl list --no-legend; true'), '', 'no record, no registration');
  });

  it('SIGKILL of tsnspawn: the veth dies with the namespace; the zone bridge and the --port table go at the next start and list', async () => {
    const run = host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'killme', '--network-zone=kz', '-p', '9090', '/bin/sleep', '60']);
    await until('ip -o link show vz-kz; nft list tables inet', /vz-kz[\s\S]*tsnspawn-killme/, 'zone bridge and table made');
    await until('cat /run/tsnspawn/machines/killme', /"manager"/, 'runtime record');
    await sh(`kill -KILL $(sed -E 's/.*"manager":\\{"pid":([0-9]+).*/\\1/' /run/tsnspawn/machines/killme)`);
    await run;
    await until("ip -o link | grep -c 'vb-killme' || true", /^0$/m, 'the veth went with the namespace');
    assert.match(await sh('ip -o link show vz-kz; nft list tables inet'), /vz-kz[\s\S]*tsnspawn-killme/, 'what a SIGKILL leaves until the next start');
    await sh(`${TSNSPAWN_INSIDE} list >/dev/null`);
    assert.doesNotMatch(await sh('nft list tables inet'), /tsnspawn-killme/, 'tsnspawn list removed the stale table');
    const next = await host.run([TSNSPAWN_INSIDE, '-q', '-P', '-D', BUSYBOX, '-M', 'next', '--network-zone=kz2', '/bin/true']);
    assert.equal(next.exitCode, 0, next.stderr);
    assert.equal(await sh('ip -o link show vz-kz 2>/dev/null; true'), '', 'the next zone start swept the empty bridge');
    await sh('rm -f /run/tsnspawn/machines/killme');
  });
});
