/** Machine UUIDs: src/settings/uuid.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { machineIdToUuid, parseUuidOption, randomUuid, tryParseUuid } from '../../src/settings/uuid.js';
import { rejectsUserError } from './helpers.js';

const DASHED = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';
const PLAIN = '3f2504e04f8941d39a0c0305e82c3301';

describe('tryParseUuid', () => {
  it('accepts the dashed form and returns both forms', async () => {
    assert.deepEqual(await tryParseUuid(DASHED), { dashed: DASHED, plain: PLAIN });
  });

  it('accepts 32 hex digits (the /etc/machine-id form)', async () => {
    assert.deepEqual(await tryParseUuid(PLAIN), { dashed: DASHED, plain: PLAIN });
  });

  it('lowercases and trims', async () => {
    assert.deepEqual(await tryParseUuid(` ${DASHED.toUpperCase()}\n`), { dashed: DASHED, plain: PLAIN });
  });

  it('rejects the all-zero UUID in both forms', async () => {
    assert.equal(await tryParseUuid('00000000-0000-0000-0000-000000000000'), undefined);
    assert.equal(await tryParseUuid('0'.repeat(32)), undefined);
  });

  it('rejects garbage', async () => {
    for (const bad of ['', 'hello', PLAIN.slice(1), PLAIN + '0', 'g' + PLAIN.slice(1), '3f2504e0-4f89-41d3-9a0c0305e82c3301', `{${DASHED}}`, DASHED.replace(/-/g, ':')])
      assert.equal(await tryParseUuid(bad), undefined, bad);
  });

  it('accepts any non-zero 128-bit id, as systemd-nspawn --uuid does (not only RFC 4122 v1-v8 layouts)', async () => {
    // systemd's sd_id128_from_string() takes any 32 hex digits; ids made by
    // dbus-uuidgen or by hand have no version/variant bits.
    assert.deepEqual(await tryParseUuid('0123456789abcdef0123456789abcdef'), {
      dashed: '01234567-89ab-cdef-0123-456789abcdef',
      plain: '0123456789abcdef0123456789abcdef',
    });
  });
});

describe('parseUuidOption', () => {
  it('returns the parsed UUID', async () => {
    assert.deepEqual(await parseUuidOption(PLAIN), { dashed: DASHED, plain: PLAIN });
  });

  it('refuses zero and garbage with a UserError naming --uuid and the value', async () => {
    await rejectsUserError(() => parseUuidOption('0'.repeat(32)), '--uuid', '0'.repeat(32));
    await rejectsUserError(() => parseUuidOption('not-a-uuid'), '--uuid=not-a-uuid');
  });

  it('accepts a machine id without v4 layout, as systemd-nspawn --uuid=0123456789abcdef0123456789abcdef does', async () => {
    assert.equal((await parseUuidOption('0123456789abcdef0123456789abcdef')).plain, '0123456789abcdef0123456789abcdef');
  });
});

describe('machineIdToUuid', () => {
  it("takes a tree's /etc/machine-id, whatever its layout, but not zero", () => {
    assert.deepEqual(machineIdToUuid(PLAIN), { dashed: DASHED, plain: PLAIN });
    assert.equal(machineIdToUuid('0123456789abcdef0123456789abcdef')?.dashed, '01234567-89ab-cdef-0123-456789abcdef');
    assert.equal(machineIdToUuid('0'.repeat(32)), undefined);
    assert.equal(machineIdToUuid('uninitialized'), undefined);
  });
});

describe('randomUuid', () => {
  it('gives a lowercase v4 UUID with matching dashed and plain forms', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const u = randomUuid();
      assert.match(u.dashed, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      assert.equal(u.plain, u.dashed.replace(/-/g, ''));
      assert.match(u.plain, /^[0-9a-f]{32}$/);
      seen.add(u.plain);
    }
    assert.equal(seen.size, 50, 'random UUIDs differ');
  });

  it('is accepted back by tryParseUuid', async () => {
    const u = randomUuid();
    assert.deepEqual(await tryParseUuid(u.plain), u);
  });
});
