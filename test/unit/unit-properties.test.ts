/** --property and --slice: src/settings/unit-properties.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSlice, parseUnitProperty } from '../../src/settings/unit-properties.js';
import { UserError } from '../../src/util/errors.js';

const refused = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (e: unknown) => e instanceof UserError && pattern.test(e.message));
};

describe('parseUnitProperty', () => {
  it('types the values as systemd wants them on the bus', () => {
    assert.deepEqual(parseUnitProperty('MemoryMax=64M'), { name: 'MemoryMax', signature: 't', value: 67108864n });
    assert.deepEqual(parseUnitProperty('MemoryHigh=1G'), { name: 'MemoryHigh', signature: 't', value: 1073741824n });
    assert.deepEqual(parseUnitProperty('MemoryMax=infinity'), { name: 'MemoryMax', signature: 't', value: (1n << 64n) - 1n });
    assert.deepEqual(parseUnitProperty('TasksMax=50'), { name: 'TasksMax', signature: 't', value: 50n });
    assert.deepEqual(parseUnitProperty('CPUQuota=20%'), { name: 'CPUQuotaPerSecUSec', signature: 't', value: 200000n });
    assert.deepEqual(parseUnitProperty('CPUQuota=150%'), { name: 'CPUQuotaPerSecUSec', signature: 't', value: 1500000n });
    assert.deepEqual(parseUnitProperty('IOWeight=10000'), { name: 'IOWeight', signature: 't', value: 10000n });
  });

  it('refuses unknown properties and bad values, naming the option and what is expected', () => {
    refused(() => parseUnitProperty('Bogus=1'), /^invalid --property=Bogus=1: tsnspawn does not know the property Bogus \(it knows MemoryMax, /);
    refused(() => parseUnitProperty('MemoryMax=lots'), /^invalid --property=MemoryMax=lots: MemoryMax takes bytes/);
    refused(() => parseUnitProperty('CPUWeight=0'), /CPUWeight takes a weight from 1 to 10000/);
    refused(() => parseUnitProperty('CPUQuota=20'), /CPUQuota takes a percentage/);
    refused(() => parseUnitProperty('MemoryMax'), /use NAME=VALUE/);
    refused(() => parseUnitProperty('MemoryMax=16E'), /MemoryMax takes bytes/);
    refused(() => parseUnitProperty('TasksMax=99999999999999999999'), /TasksMax takes a number/);
    refused(() => parseUnitProperty('CPUQuota=99999999%'), /CPUQuota takes a percentage/);
  });
});

describe('parseSlice', () => {
  it('takes a slice unit name (adding .slice) and refuses anything else', () => {
    assert.deepEqual(parseSlice('tests-ci.slice'), { name: 'Slice', signature: 's', value: 'tests-ci.slice' });
    assert.deepEqual(parseSlice('tests'), { name: 'Slice', signature: 's', value: 'tests.slice' }, '.slice added, as nspawn');
    assert.equal(parseSlice('-.slice').value, '-.slice', 'the root slice');
    refused(() => parseSlice('a b.slice'), /give a slice unit name/);
  });
});
