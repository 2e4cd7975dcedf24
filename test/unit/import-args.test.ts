/**
 * import-tar's front door: the archive format by magic (src/image/import/format.ts),
 * the command line (args.ts) and the machine name from the file name (import-tar.ts).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { parseImportArgs } from '../../src/image/import/args.js';
import { DECOMPRESSORS, detectFormat } from '../../src/image/import/format.js';
import { nameFromArchive } from '../../src/image/import/import-tar.js';
import { Scratch, throwsUserError } from './helpers.js';

/** A small tar archive as GNU tar writes it in the given format. */
function tarBytes(format: 'gnu' | 'posix' | 'ustar' | 'v7'): Buffer {
  const s = new Scratch();
  try {
    s.tree('t').file('etc/hostname', 'deb\n');
    return execFileSync('tar', [`--format=${format}`, '-cf', '-', '-C', `${s.dir}/t`, 'etc'], { maxBuffer: 1 << 20 });
  } finally {
    s.remove();
  }
}

describe('detectFormat', () => {
  const payload = Buffer.from('a few bytes to compress, repeated '.repeat(20));

  for (const fmt of ['gzip', 'xz', 'zstd', 'bzip2'] as const)
    it(`recognises ${fmt} output by its magic`, () => {
      const cmd = DECOMPRESSORS[fmt][0]!;
      const compressed = execFileSync(cmd, ['-c'], { input: payload });
      assert.equal(detectFormat(compressed), fmt);
      assert.equal(detectFormat(compressed.subarray(0, 8)), fmt, 'the first bytes suffice');
    });

  it('and each decompressor reverses its own format', () => {
    for (const fmt of ['gzip', 'xz', 'zstd', 'bzip2'] as const) {
      const [cmd, ...args] = DECOMPRESSORS[fmt];
      const compressed = execFileSync(cmd!, ['-c'], { input: payload });
      assert.deepEqual(execFileSync(cmd!, args, { input: compressed }), payload, fmt);
    }
  });

  for (const format of ['gnu', 'posix', 'ustar'] as const)
    it(`recognises a plain tar archive (GNU tar --format=${format}) by "ustar" at 257`, () => {
      const t = tarBytes(format);
      assert.equal(detectFormat(t), 'tar');
      assert.equal(detectFormat(t.subarray(0, 512)), 'tar');
      assert.equal(detectFormat(t.subarray(0, 262)), 'tar');
    });

  it('magic bytes alone, without the rest of a stream', () => {
    assert.equal(detectFormat(Buffer.from([0x1f, 0x8b])), 'gzip');
    assert.equal(detectFormat(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00])), 'xz');
    assert.equal(detectFormat(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
    assert.equal(detectFormat(Buffer.from('BZh9'))!, 'bzip2');
  });

  it('garbage, text and zeros are no archive', () => {
    assert.equal(detectFormat(Buffer.from('hello world, not an archive')), undefined);
    assert.equal(detectFormat(Buffer.alloc(1024)), undefined);
    assert.equal(detectFormat(Buffer.from('#!/bin/sh\necho hi\n'.repeat(40))), undefined);
    assert.equal(detectFormat(Buffer.from('PK\x03\x04 a zip file', 'latin1')), undefined);
  });

  it('short buffers: a partial magic is no match, and nothing crashes', () => {
    assert.equal(detectFormat(Buffer.alloc(0)), undefined);
    assert.equal(detectFormat(Buffer.from([0x1f])), undefined);
    assert.equal(detectFormat(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a])), undefined);
    assert.equal(detectFormat(Buffer.from([0x28, 0xb5, 0x2f])), undefined);
    assert.equal(detectFormat(Buffer.from('BZ')), undefined);
  });

  it('a tar head cut before the end of "ustar" is not recognised', () => {
    const t = tarBytes('gnu');
    assert.equal(detectFormat(t.subarray(0, 261)), undefined);
    assert.equal(detectFormat(t.subarray(0, 100)), undefined);
  });

  it('"ustar" elsewhere than at 257 is not a tar archive', () => {
    const b = Buffer.alloc(512);
    b.write('ustar', 0, 'latin1');
    b.write('ustar', 256, 'latin1');
    assert.equal(detectFormat(b), undefined);
  });

  it('the old V7 tar format, which has no magic, is not recognised', () => {
    assert.equal(detectFormat(tarBytes('v7')), undefined);
  });
});

describe('parseImportArgs', () => {
  it('FILE alone: no name, no output, no force, not quiet', () => {
    const o = parseImportArgs(['debian-12.tar.xz']);
    assert.equal(o.file, 'debian-12.tar.xz');
    assert.equal(o.name, undefined);
    assert.equal(o.output, undefined);
    assert.equal(o.force, false);
    assert.equal(o.quiet, false);
  });

  it('FILE and NAME', () => {
    const o = parseImportArgs(['/srv/debian-12.tar.xz', 'deb']);
    assert.equal(o.file, '/srv/debian-12.tar.xz');
    assert.equal(o.name, 'deb');
  });

  it('"-" is stdin, not an option', () => {
    const o = parseImportArgs(['-', 'deb']);
    assert.equal(o.file, '-');
    assert.equal(o.name, 'deb');
  });

  it('--force, -q and --quiet, anywhere on the line', () => {
    const o = parseImportArgs(['x.tar', '--force', 'n', '-q']);
    assert.equal(o.force, true);
    assert.equal(o.quiet, true);
    assert.equal(o.name, 'n');
    assert.equal(parseImportArgs(['--quiet', 'x.tar']).quiet, true);
  });

  it('--output DIR, -o DIR and --output=DIR', () => {
    assert.equal(parseImportArgs(['--output', '/srv/trees/x', 'x.tar']).output, '/srv/trees/x');
    assert.equal(parseImportArgs(['-o', '/srv/trees/x', 'x.tar']).output, '/srv/trees/x');
    assert.equal(parseImportArgs(['x.tar', '--output=/srv/trees/x']).output, '/srv/trees/x');
  });

  it('the value after --output is taken even when it looks like an option', () => {
    throwsUserError(() => parseImportArgs(['--output', '--force', 'x.tar']), '--output=--force', 'absolute');
  });

  it('--output without a value', () => {
    throwsUserError(() => parseImportArgs(['x.tar', '--output']), "'--output'", 'needs a value', 'usage:');
    throwsUserError(() => parseImportArgs(['x.tar', '-o']), "'-o'", 'needs a value');
  });

  it('a relative or empty --output', () => {
    throwsUserError(() => parseImportArgs(['x.tar', '--output=trees/x']), 'invalid --output=trees/x', 'absolute');
    throwsUserError(() => parseImportArgs(['x.tar', '--output=']), 'invalid --output=', 'absolute');
  });

  it('unknown options name themselves and the usage', () => {
    throwsUserError(() => parseImportArgs(['--verify=no', 'x.tar']), "unknown option '--verify=no'", 'usage: tsnspawn import-tar');
    throwsUserError(() => parseImportArgs(['-f', 'x.tar']), "unknown option '-f'");
  });

  it('FILE is required, and at most a NAME follows', () => {
    throwsUserError(() => parseImportArgs([]), 'takes FILE and an optional NAME');
    throwsUserError(() => parseImportArgs(['--force']), 'takes FILE and an optional NAME');
    throwsUserError(() => parseImportArgs(['a.tar', 'b', 'c']), 'takes FILE and an optional NAME');
  });
});

describe('nameFromArchive', () => {
  const cases: Array<[string, string]> = [
    ['debian-12.tar.xz', 'debian-12'],
    ['/srv/images/debian-12.tar.xz', 'debian-12'],
    ['alpine.tar', 'alpine'],
    ['alpine.tar.gz', 'alpine'],
    ['alpine.tgz', 'alpine'],
    ['fedora.tar.zst', 'fedora'],
    ['fedora.tar.zstd', 'fedora'],
    ['fedora.tzst', 'fedora'],
    ['arch.tar.bz2', 'arch'],
    ['arch.tbz', 'arch'],
    ['arch.tbz2', 'arch'],
    ['arch.txz', 'arch'],
    ['UBUNTU.TAR.GZ', 'UBUNTU'],
    ['rootfs', 'rootfs'],
    ['./rootfs', 'rootfs'],
    ['centos-9.x86_64.tar.xz', 'centos-9.x86_64'],
  ];
  for (const [file, name] of cases)
    it(`${file} -> ${name}`, () => {
      assert.equal(nameFromArchive(file), name);
    });

  it('strips only one archive suffix, at the end', () => {
    assert.equal(nameFromArchive('a.tar.gz.tar'), 'a.tar.gz');
    assert.equal(nameFromArchive('tarball'), 'tarball');
    assert.equal(nameFromArchive('my.tar.d'), 'my.tar.d');
  });

  it('other extensions stay: they are part of the name (or not a tar archive)', () => {
    assert.equal(nameFromArchive('image.raw'), 'image.raw');
    assert.equal(nameFromArchive('image.gz'), 'image.gz');
    assert.equal(nameFromArchive('image.xz'), 'image.xz');
  });
});
