import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, describe, it } from 'node:test';
import { openListingFile } from '../../src/image/import/listing-file.js';

describe('openListingFile', () => {
  const dir = mkdtempSync(`${tmpdir()}/tsnspawn-listing-`);
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('leaves no file behind, even while open', () => {
    const listing = openListingFile(dir);
    assert.deepEqual(readdirSync(dir), []);
    listing.close();
    listing.close(); // a second close is harmless
  });

  it('returns complete lines only, keeping a line cut by a write, and a character cut inside its bytes', () => {
    const listing = openListingFile(dir);
    const cafe = Buffer.from('café\n', 'utf8');
    writeSync(listing.writeFd, 'one\ntw');
    assert.deepEqual(listing.newLines(), ['one']);
    writeSync(listing.writeFd, 'o\n');
    writeSync(listing.writeFd, cafe.subarray(0, 4)); // 'caf' and the first byte of 'é'
    assert.deepEqual(listing.newLines(), ['two']);
    writeSync(listing.writeFd, cafe.subarray(4));
    assert.deepEqual(listing.newLines(), ['café']);
    assert.deepEqual(listing.newLines(), []);
    listing.close();
    assert.ok(existsSync(dir));
  });
});
