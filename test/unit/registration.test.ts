/** Who the helper registers with, and how: src/machined/registration.ts (pure). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planRegistration, type RegistrationFacts } from '../../src/machined/registration.js';
import { defaultSettings, type Settings } from '../../src/settings/model.js';
import { parseSlice, parseUnitProperty } from '../../src/settings/unit-properties.js';

const FACTS: RegistrationFacts = { machineName: 'deb', uuid: '3f2504e04f8941d39a0c0305e82c3301', root: '/var/lib/machines/deb', killSignal: 37, busSocket: '/run/dbus/system_bus_socket', resumed: false };

const settings = (change: (s: Settings) => void = () => {}): Settings => {
  const s = defaultSettings();
  change(s);
  return s;
};

const names = (r: ReturnType<typeof planRegistration>): string[] => r?.properties.map((p) => p.name) ?? [];

describe('planRegistration', () => {
  it('by default: machined makes a scope (CreateMachine), auto, with nspawn\'s scope properties and the kill signal', () => {
    const r = planRegistration(settings(), FACTS)!;
    assert.equal(r.kind, 'machine');
    assert.equal(r.mode, 'auto');
    assert.deepEqual(r.machine, { name: 'deb', id: FACTS.uuid, service: 'tsnspawn', root: FACTS.root });
    assert.deepEqual(names(r), ['Description', 'DevicePolicy', 'DeviceAllow', 'KillSignal', 'KillMode']);
    assert.deepEqual(r.properties.find((p) => p.name === 'DeviceAllow')?.values, ['/dev/net/tun', 'rwm', 'char-pts', 'rw']);
    assert.deepEqual(r.properties.find((p) => p.name === 'KillSignal'), { name: 'KillSignal', signature: 'i', values: ['37'] });
  });

  it('--keep-unit: RegisterMachine of the unit tsnspawn runs in, no scope properties', () => {
    const r = planRegistration(settings((s) => (s.keepUnit = true)), FACTS)!;
    assert.equal(r.kind, 'unit');
    assert.deepEqual(r.properties, []);
  });

  it('--slice/--property make registration required and come last (later entries win)', () => {
    const r = planRegistration(settings((s) => s.unitProperties.push(parseSlice('ci'), parseUnitProperty('MemoryMax=64M'))), FACTS)!;
    assert.equal(r.mode, 'yes');
    assert.deepEqual(names(r).slice(-2), ['Slice', 'MemoryMax']);
    assert.deepEqual(r.properties.at(-1), { name: 'MemoryMax', signature: 't', values: [String(64 * 2 ** 20)] });
  });

  it('--register=no: a scope of systemd\'s own, NAME.scope in machine.slice, unless --keep-unit or there is no bus', () => {
    const r = planRegistration(settings((s) => (s.register = 'no')), FACTS)!;
    assert.equal(r.kind, 'scope');
    assert.equal(r.unit, 'deb.scope');
    assert.equal(r.mode, 'auto');
    assert.deepEqual(names(r).slice(0, 4), ['Slice', 'Delegate', 'CollectMode', 'AddRef']);
    assert.equal(planRegistration(settings((s) => ((s.register = 'no'), (s.keepUnit = true))), FACTS), undefined);
    assert.equal(planRegistration(settings((s) => (s.register = 'no')), { ...FACTS, busSocket: undefined }), undefined);
  });

  it('without a system bus: none for auto; refused for yes and for --slice/--property', () => {
    const noBus = { ...FACTS, busSocket: undefined };
    assert.equal(planRegistration(settings(), noBus), undefined);
    assert.throws(() => planRegistration(settings((s) => (s.register = 'yes')), noBus), /cannot register with systemd-machined: there is no system bus/);
    assert.throws(() => planRegistration(settings((s) => ((s.register = 'no'), s.unitProperties.push(parseSlice('ci')))), noBus), /cannot use --slice\/--property/);
  });

  it('--register=no: nothing at all', () => {
    assert.equal(planRegistration(settings((s) => ((s.register = 'no'), (s.keepUnit = true))), FACTS), undefined);
  });

  it('after a guest reboot the helper may retry while the last boot\'s machine goes', () => {
    assert.equal(planRegistration(settings(), { ...FACTS, resumed: true })!.retry, true);
    assert.equal(planRegistration(settings(), FACTS)!.retry, false);
  });
});
