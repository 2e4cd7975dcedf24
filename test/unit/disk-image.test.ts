/**
 * -i's image holder (native/image*.c) on GPT images made here byte by byte:
 * what it refuses, with which words, before it attaches anything (so no
 * root is needed: these run before the loop device). Also -i on the
 * command line and the plan's image-holder record. The mounting itself is
 * test/integration/image.test.ts's.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { crc32 } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { encodePlan } from '../../src/plan/encode.js';
import type { LaunchPlan } from '../../src/plan/types.js';
import { settingsFromArgs } from '../../src/settings/from-args.js';
import { machineNameFromImage } from '../../src/image/disk-image.js';
import { HELPER } from './helpers.js';

const ROOT_X86_64 = '4f68bce3-e8cd-4db1-96e7-fbcaf984b709';
const ROOT_X86_64_VERITY = '2c7357ed-ebd2-46d9-aec1-23d437ec2bf5';
const HOME = '933ac7e1-2eb4-4f13-b844-0e14e2aef915';
const NO_AUTO = 1n << 63n;
const SECTOR = 512;
const PART_SECTORS = 2048;

interface Part {
  type: string;
  flags?: bigint;
  /** Bytes at the start of the partition (a superblock's magic, ...). */
  content?: { at: number; bytes: Buffer };
}

/** A GUID in GPT's byte order: the first three fields little endian. */
function guidBytes(uuid: string): Buffer {
  const h = Buffer.from(uuid.replace(/-/g, ''), 'hex');
  return Buffer.concat([Buffer.from(h.subarray(0, 4)).reverse(), Buffer.from(h.subarray(4, 6)).reverse(), Buffer.from(h.subarray(6, 8)).reverse(), h.subarray(8)]);
}

/** A GPT disk image: protective MBR, header at LBA 1, 128 entries from LBA 2, partitions of 1 MiB from LBA 2048. */
function gptImage(parts: Part[], damage?: 'header-crc'): Buffer {
  const img = Buffer.alloc((PART_SECTORS + parts.length * PART_SECTORS + 34) * SECTOR);
  img[510] = 0x55;
  img[511] = 0xaa;
  img[446 + 4] = 0xee;
  const entries = Buffer.alloc(128 * 128);
  parts.forEach((p, i) => {
    const e = entries.subarray(i * 128, (i + 1) * 128);
    guidBytes(p.type).copy(e, 0);
    guidBytes(`00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`).copy(e, 16);
    const first = BigInt(PART_SECTORS * (i + 1));
    e.writeBigUInt64LE(first, 32);
    e.writeBigUInt64LE(first + BigInt(PART_SECTORS) - 1n, 40);
    e.writeBigUInt64LE(p.flags ?? 0n, 48);
    Buffer.from(`part${i + 1}`, 'utf16le').copy(e, 56);
    if (p.content) p.content.bytes.copy(img, Number(first) * SECTOR + p.content.at);
  });
  entries.copy(img, 2 * SECTOR);
  const h = img.subarray(SECTOR, 2 * SECTOR);
  h.write('EFI PART', 0, 'latin1');
  h.writeUInt32LE(0x00010000, 8);
  h.writeUInt32LE(92, 12);
  h.writeBigUInt64LE(1n, 24);
  h.writeBigUInt64LE(BigInt(img.length / SECTOR - 1), 32);
  h.writeBigUInt64LE(34n, 40);
  h.writeBigUInt64LE(BigInt(img.length / SECTOR - 34), 48);
  guidBytes('11111111-2222-4333-8444-555555555555').copy(h, 56);
  h.writeBigUInt64LE(2n, 72);
  h.writeUInt32LE(128, 80);
  h.writeUInt32LE(128, 84);
  h.writeUInt32LE(crc32(entries), 88);
  h.writeUInt32LE((crc32(h.subarray(0, 92)) ^ (damage === 'header-crc' ? 1 : 0)) >>> 0, 16);
  return img;
}

const EXT4 = { at: 1080, bytes: Buffer.from([0x53, 0xef]) };
const LUKS = { at: 0, bytes: Buffer.from('LUKS\xba\xbe', 'latin1') };

const dir = mkdtempSync(`${tmpdir()}/tsnspawn-disk-image-unit-`);
after(() => rmSync(dir, { recursive: true, force: true }));

/** The holder's one line for this image; these images are all refused before anything is attached. */
function holderSays(name: string, img: Buffer): { error?: string; root?: string } {
  const file = `${dir}/${name}.raw`;
  writeFileSync(file, img);
  const r = spawnSync(HELPER, ['--image', file, '--name', name, '--read-only'], { encoding: 'utf8', timeout: 10_000, input: '' });
  assert.equal(r.status, 1, `the holder should refuse: ${r.stdout} ${r.stderr}`);
  return JSON.parse(r.stdout.split('\n')[0]!) as { error?: string };
}

const x86 = process.arch === 'x64' ? false : 'the type table under test is x86-64\'s';

describe('the image holder refuses what it cannot run, before attaching anything', { skip: x86 }, () => {
  it('no root partition for this architecture (only /home)', () => {
    assert.match(holderSays('home-only', gptImage([{ type: HOME, content: EXT4 }])).error!, new RegExp(`it has no root partition for this architecture \\(GPT type ${ROOT_X86_64}`));
  });

  it('a root partition flagged no-auto is no root', () => {
    assert.match(holderSays('no-auto', gptImage([{ type: ROOT_X86_64, flags: NO_AUTO, content: EXT4 }])).error!, /no root partition .* or only ones marked no-auto/);
  });

  it('a verity partition', () => {
    const img = gptImage([{ type: ROOT_X86_64, content: EXT4 }, { type: ROOT_X86_64_VERITY }]);
    assert.match(holderSays('verity', img).error!, /it has a root verity \(x86-64\) partition .*does not set up dm-verity/);
  });

  it('a verity partition flagged no-auto is left alone (then the root is checked)', () => {
    const img = gptImage([{ type: ROOT_X86_64, content: LUKS }, { type: ROOT_X86_64_VERITY, flags: NO_AUTO }]);
    assert.match(holderSays('verity-no-auto', img).error!, /its root partition is encrypted \(LUKS\)/);
  });

  it('without a typed root, a single generic Linux partition is the root (as nspawn); two are refused', () => {
    const GENERIC = '0fc63daf-8483-4772-8e79-3d69d8477de4';
    // LUKS content: the refusal shows which partition was taken as the root, before anything is attached.
    assert.match(holderSays('generic', gptImage([{ type: HOME, content: EXT4 }, { type: GENERIC, content: LUKS }])).error!, /its root partition is encrypted \(LUKS\)/);
    assert.match(holderSays('generic-two', gptImage([{ type: GENERIC, content: EXT4 }, { type: GENERIC, content: EXT4 }])).error!, /no root partition .* and 2 generic Linux partitions, so none is the root/);
  });

  it('a LUKS root, a root without a known file system', () => {
    assert.match(holderSays('luks', gptImage([{ type: ROOT_X86_64, content: LUKS }])).error!, /its root partition is encrypted \(LUKS\), which tsnspawn does not support/);
    assert.match(holderSays('empty', gptImage([{ type: ROOT_X86_64 }])).error!, /its root partition has no file system tsnspawn knows/);
  });

  it('a damaged header', () => {
    assert.match(holderSays('damaged', gptImage([{ type: ROOT_X86_64, content: EXT4 }], 'header-crc')).error!, /its GPT partition table is damaged \(header checksum\)/);
  });

  it('an MBR partition table', () => {
    const img = Buffer.alloc(1 << 20);
    img[510] = 0x55;
    img[511] = 0xaa;
    img[446 + 4] = 0x83;
    assert.match(holderSays('mbr', img).error!, /it has an MBR partition table/);
  });
});

describe('-i on the command line and in the plan', () => {
  it('-i and --image= set the image; the machine name is the file name without .raw', async () => {
    for (const argv of [['-i', '/srv/x.raw'], ['--image=/srv/x.raw']]) {
      const s = await settingsFromArgs(argv);
      assert.ok(s !== 'exit');
      assert.equal(s.image, '/srv/x.raw');
    }
    assert.equal(machineNameFromImage('/srv/images/fedora_40.raw'), 'fedora40');
    assert.equal(machineNameFromImage('/srv/images/debian.img'), 'debian.img');
  });

  it('the plan carries the holder for the monitor to join', () => {
    const plan = { root: '/run/tsnspawn/image/x', rootId: { dev: '1', ino: '2' }, imageHolder: 4242 } as unknown as LaunchPlan;
    const lines = encodePlan({ ...plan, hostname: 'x', namespaces: {}, console: 'pipe', readOnlyRoot: false, syscallFilter: true, asPid2: false, rootMode: 'plain', cwd: '/', uid: 0, gid: 0, groups: [], capsRetain: '0', exec: '/bin/true', argv: ['/bin/true'], env: [], ops: [] } as unknown as LaunchPlan).split('\n');
    assert.ok(lines.includes('image-holder\t4242'), lines.join('\n'));
    const r = spawnSync(HELPER, ['--decode'], { input: lines.join('\n'), encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as { imageHolder?: number }).imageHolder, 4242);
  });
});
