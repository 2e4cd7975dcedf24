import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeChildCause, describeNoSpace, errnoInLine, isFull } from '../../src/image/import/failure-cause.js';

describe('import failure causes', () => {
  it("reads the system error from GNU tar's and the decompressors' stderr", () => {
    assert.equal(errnoInLine('tar: "./usr/share/locale/pl/LC_MESSAGES/tar.mo": Cannot write: No space left on device'), 'ENOSPC');
    assert.equal(errnoInLine('tar: ./a: Cannot open: Too many open files in system'), 'ENFILE');
    assert.equal(errnoInLine('tar: ./a: Cannot open: Too many open files'), 'EMFILE');
    assert.equal(errnoInLine('zstd: error 70 : Write error : cannot write block : Input/output error'), 'EIO');
    // "Wrote only N of M bytes" names no errno: the file system's state decides.
    assert.equal(errnoInLine('tar: ./x: Wrote only 7680 of 10240 bytes'), undefined);
  });

  it('a file system with less than a tar record or no inode left is full', () => {
    assert.equal(isFull({ bytes: 4096, inodes: 10 }), 'bytes');
    assert.equal(isFull({ bytes: 1 << 30, inodes: 0 }), 'inodes');
    assert.equal(isFull({ bytes: 1 << 30, inodes: Number.POSITIVE_INFINITY }), undefined);
    assert.equal(isFull(undefined), undefined);
  });

  it('names the file system, the sizes and what to do', () => {
    const where = { dir: '/var/lib/machines', elsewhere: 'import elsewhere with --output=DIR', treeBytes: 181e6, freeNow: { bytes: 20e6, inodes: 100 } };
    assert.equal(
      describeNoSpace(where),
      'no space left on the filesystem of /var/lib/machines (the tree needs about 181 MB, 20 MB free): free some space there, or import elsewhere with --output=DIR',
    );
    assert.equal(
      describeNoSpace({ dir: '/m', elsewhere: 'x', freeBefore: { bytes: 21e6, inodes: 5 } }),
      'no space left on the filesystem of /m (the tree needs more than the 21 MB that were free): free some space there, or x',
    );
    assert.match(describeChildCause({ kind: 'signal', signal: 'SIGKILL', label: 'zstd | tar' }, where), /^zstd \| tar was killed by SIGKILL, not by tsnspawn/);
    assert.match(describeChildCause({ kind: 'errno', errno: 'EROFS', label: 'tar', line: '' }, where), /^the filesystem of \/var\/lib\/machines is read-only/);
  });
});
