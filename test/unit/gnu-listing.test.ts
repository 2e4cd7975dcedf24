import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { displayPath, parseListingLine, parseTarComplaint, unquote } from '../../src/image/import/gnu-listing.js';
import type { Member } from '../../src/image/import/member-check.js';

describe("GNU tar's -vv --quoting-style=c listing", () => {
  it('reads files, directories, symlinks, hard links, devices and fifos, with or without the xattr column', () => {
    assert.deepEqual(parseListingLine('-rw-r--r-- 0/0               8 1970-01-01 00:00 "usr/lib/os-release"'), { path: 'usr/lib/os-release', type: 'File' });
    assert.deepEqual(parseListingLine('drwxr-xr-x  0/0               0 1970-01-01 00:00 "usr/"'), { path: 'usr/', type: 'Directory' });
    assert.deepEqual(parseListingLine('lrwxrwxrwx 0/0               0 2026-11-25 09:51 "./sl" -> "/abs target"'), { path: './sl', type: 'SymbolicLink', linkpath: '/abs target' });
    assert.deepEqual(parseListingLine('hrw-r--r-- 0/0               0 2026-11-25 09:51 "./hard" link to "./we ird -> x"'), { path: './hard', type: 'Link', linkpath: './we ird -> x' });
    assert.deepEqual(parseListingLine('brw-rw----  0/0             8,0 1970-01-01 00:00 "dev/sda"'), { path: 'dev/sda', type: 'BlockDevice', devmajor: 8, devminor: 0 });
    assert.deepEqual(parseListingLine('crw-rw-rw-+ 0/0             1,3 1970-01-01 00:00 "dev/null"'), { path: 'dev/null', type: 'CharacterDevice', devmajor: 1, devminor: 3 });
    assert.deepEqual(parseListingLine('prw-r--r-- 0/0               0 2026-11-25 09:51 "./ff"'), { path: './ff', type: 'FIFO' });
  });

  it('undoes C quoting into bytes, including octal bytes of UTF-8 names and escaped quotes', () => {
    assert.equal(unquote('a\\"b\\\\c\\n'), 'a"b\\c\n');
    assert.equal(displayPath(unquote('caf\\303\\251')), 'café');
    assert.notEqual(unquote('\\377'), unquote('\\376'), 'bytes that are no UTF-8 stay distinct');
    assert.equal(unquote('plain/name with spaces'), 'plain/name with spaces');
    assert.equal(unquote('\\1x\\12y\\0'), '\x01x\ny\0', 'short octal escapes end at a non-digit or the end');
    assert.deepEqual(parseListingLine('-rw-r--r-- 0/0 1 1970-01-01 00:00 "a \\"q\\" b"'), { path: 'a "q" b', type: 'File' });
  });

  it('tells notes from members, names an unknown type, and does not understand anything else', () => {
    assert.equal(parseListingLine('drwxr-xr-x                  Creating directory: "usr/lib"'), 'note');
    assert.equal(parseListingLine(''), 'note');
    assert.equal(parseListingLine('  x: 20 security.capability'), 'note');
    assert.match((parseListingLine('Vrw-r--r-- 0/0 0 1970-01-01 00:00 "label"') as Member).type, /unknown type 'V'/);
    assert.equal(parseListingLine('something else "x"'), undefined);
    assert.equal(parseListingLine('-rw-r--r-- 0/0 1 1970-01-01 00:00'), undefined);
  });

  it('reads members whatever the width of the date (years past 9999 widen every later line)', () => {
    assert.deepEqual(parseListingLine('-rw-r--r--  0/0               1 36812-02-20 00:36 "a/b/c"'), { path: 'a/b/c', type: 'File' });
    assert.deepEqual(parseListingLine('lrwxrwxrwx  0/0               0 1970-01-01 00:00  "link" -> "sub"'), { path: 'link', type: 'SymbolicLink', linkpath: 'sub' });
    assert.deepEqual(parseListingLine('brw-rw----  0/0             8,0 1099511627776  "dev/sda"'), { path: 'dev/sda', type: 'BlockDevice', devmajor: 8, devminor: 0 });
  });

  it("turns GNU tar's own refusals into member-named reasons", () => {
    assert.equal(parseTarComplaint(`tar: "usr/../../x": Member name contains '..'`), "member 'usr/../../x': member name with '..'");
    assert.match(parseTarComplaint('tar: "hard": Cannot hard link to ‘etc/passwd’: No such file or directory')!, /^member 'hard': hard link to etc\/passwd, outside/);
    assert.equal(parseTarComplaint('tar: Removing leading `/\' from member names'), undefined);
  });
});
