/** The scope and D-Bus object names of systemd the tests use: test/harness/systemd-names.ts. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { machineScopeName, unitObjectPath } from '../harness/systemd-names.js';

const UNIT = '/org/freedesktop/systemd1/unit/';

describe('unitObjectPath (systemd bus_label_escape)', () => {
  const cases: Array<[string, string]> = [
    ['machine-foo.scope', 'machine_2dfoo_2escope'],
    ['getty@tty1.service', 'getty_40tty1_2eservice'],
    ['dbus.socket', 'dbus_2esocket'],
    ['sys-devices-virtual-net-ve\\x2dfoo.device', 'sys_2ddevices_2dvirtual_2dnet_2dve_5cx2dfoo_2edevice'],
    ['a_b.service', 'a_5fb_2eservice'],
    ['x1.scope', 'x1_2escope'],
    ['1abc.service', '_31abc_2eservice'],
    ['9.scope', '_39_2escope'],
    ['UPPER.target', 'UPPER_2etarget'],
    ['a:b.mount', 'a_3ab_2emount'],
  ];
  for (const [unit, label] of cases)
    it(`${unit} -> ${label}`, () => {
      assert.equal(unitObjectPath(unit), UNIT + label);
    });

  it('hex digits are lower case and two wide', () => {
    assert.equal(unitObjectPath('a\tb'), `${UNIT}a_09b`);
    assert.equal(unitObjectPath('a~b'), `${UNIT}a_7eb`);
  });

  it('the path of a machine scope (as machined names it)', () => {
    assert.equal(unitObjectPath(machineScopeName('probe-a')), `${UNIT}machine_2dprobe_5cx2da_2escope`);
    assert.equal(unitObjectPath(machineScopeName('deb')), `${UNIT}machine_2ddeb_2escope`);
  });

  it('is a valid D-Bus object path (only [A-Za-z0-9_] in each element)', () => {
    for (const u of ['machine-a.b-c.scope', machineScopeName('x-1.y'), '0.service', '-.slice'])
      assert.match(unitObjectPath(u), /^\/org\/freedesktop\/systemd1\/unit\/[A-Za-z0-9_]+$/);
  });
});

describe('machineScopeName (as machined: "machine-" + unit_name_escape(name) + ".scope")', () => {
  const cases: Array<[string, string]> = [
    ['probe-a', 'machine-probe\\x2da.scope'],
    ['deb', 'machine-deb.scope'],
    ['debian-12', 'machine-debian\\x2d12.scope'],
    ['fedora.40', 'machine-fedora.40.scope'],
    ['a--b', 'machine-a\\x2d\\x2db.scope'],
    ['0abc', 'machine-0abc.scope'],
    ['UPPER', 'machine-UPPER.scope'],
    ['host.example.com', 'machine-host.example.com.scope'],
  ];
  for (const [name, scope] of cases)
    it(`${name} -> ${scope}`, () => {
      assert.equal(machineScopeName(name), scope);
    });

  it('characters outside machine names are escaped as systemd does', () => {
    assert.equal(machineScopeName('a b'), 'machine-a\\x20b.scope');
    assert.equal(machineScopeName('a\\b'), 'machine-a\\x5cb.scope');
    assert.equal(machineScopeName('a/b'), 'machine-a-b.scope');
    assert.equal(machineScopeName('a_b:c'), 'machine-a_b:c.scope');
  });

  const escape = ['/usr/bin/systemd-escape', '/bin/systemd-escape'].find((p) => existsSync(p));
  it('agrees with systemd-escape for machine names', { skip: escape ? false : 'systemd-escape is not installed' }, () => {
    const names = ['probe-a', 'deb', 'debian-12', 'fedora.40', 'a.b-c', 'x1', '0abc', 'UPPER', 'a--b', 'n-1.example-2.org', 'a'.repeat(64)];
    for (const n of names) {
      const e = execFileSync(escape!, ['--', n]).toString().trim();
      assert.equal(machineScopeName(n), `machine-${e}.scope`, n);
    }
  });
});
