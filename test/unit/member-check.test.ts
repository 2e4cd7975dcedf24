/** The safety rules import-tar applies to each archive member: src/image/import/member-check.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MemberChecker, type Member } from '../../src/image/import/member-check.js';

const dir = (path: string): Member => ({ path, type: 'Directory' });
const file = (path: string): Member => ({ path, type: 'File' });
const symlink = (path: string, linkpath: string): Member => ({ path, type: 'SymbolicLink', linkpath });
const hardlink = (path: string, linkpath: string): Member => ({ path, type: 'Link', linkpath });
const chr = (path: string, devmajor: number, devminor: number): Member => ({ path, type: 'CharacterDevice', devmajor, devminor });

/** Feeds the members in order; returns the first refusal as [index, reason], or undefined. */
function run(...members: Member[]): [number, string] | undefined {
  const c = new MemberChecker();
  for (let i = 0; i < members.length; i++) {
    const r = c.check(members[i]!);
    if (r !== undefined) return [i, r];
  }
  return undefined;
}

function accepts(...members: Member[]): void {
  const r = run(...members);
  assert.equal(r, undefined, r && `member ${r[0]} (${members[r[0]]!.path}) refused: ${r[1]}`);
}

/** The last member is refused (and only it), with a reason mentioning each fragment. */
function refusesLast(members: Member[], ...fragments: string[]): string {
  const r = run(...members);
  assert.ok(r, `expected ${JSON.stringify(members.at(-1))} to be refused`);
  assert.equal(r[0], members.length - 1, `refused member ${r[0]} (${members[r[0]]!.path}): ${r[1]}`);
  for (const f of fragments) assert.ok(r[1].includes(f), `reason ${JSON.stringify(r[1])} should mention ${JSON.stringify(f)}`);
  return r[1];
}

describe('MemberChecker', () => {
  describe('accepts an ordinary OS tree', () => {
    it('directories, files, relative and absolute symlinks, in the usual order', () => {
      accepts(
        dir('./'),
        dir('./etc/'),
        file('./etc/hostname'),
        symlink('./etc/localtime', '/usr/share/zoneinfo/Etc/UTC'),
        symlink('./etc/mtab', '../proc/self/mounts'),
        dir('./usr/'),
        dir('./usr/bin/'),
        file('./usr/bin/bash'),
        symlink('./bin', 'usr/bin'),
        symlink('./lib64', '/usr/lib64'),
        symlink('./usr/bin/sh', 'bash'),
        { path: './usr/bin/perl', type: 'OldFile' },
        { path: './usr/bin/contig', type: 'ContiguousFile' },
      );
    });

    it('names without a leading ./ and with doubled or trailing slashes', () => {
      accepts(dir('etc'), dir('etc//default/'), file('etc//default//grub'), file('./././x'));
    });

    it('hard links to earlier files', () => {
      accepts(dir('usr/bin/'), file('usr/bin/perl5.36'), hardlink('usr/bin/perl', 'usr/bin/perl5.36'), hardlink('./usr/bin/perl2', './usr/bin/perl5.36'));
    });

    it('the standard character devices and the console devices', () => {
      const devs: Array<[string, number, number]> = [
        ['null', 1, 3], ['zero', 1, 5], ['full', 1, 7], ['random', 1, 8], ['urandom', 1, 9],
        ['tty', 5, 0], ['console', 5, 1], ['ptmx', 5, 2], ['net/tun', 10, 200],
      ];
      accepts(dir('dev/'), ...devs.map(([n, ma, mi]) => chr(`dev/${n}`, ma, mi)));
    });

    it('fifos', () => {
      accepts(dir('run/'), { path: 'run/initctl', type: 'FIFO' });
    });

    it('pax and GNU metadata headers, whatever their names', () => {
      for (const type of ['ExtendedHeader', 'GlobalExtendedHeader', 'NextFileHasLongPath', 'NextFileHasLongLinkpath', 'OldGnuLongPath'])
        accepts({ path: '/PaxHeaders/../x', type }, file('x'));
    });

    it('symlink names that are only prefixes of later paths (etc vs etcetera)', () => {
      accepts(symlink('etc', '/x'), dir('etcetera/'), file('etcetera/a'), file('et/c'));
    });

    it('a symlink replaced by a regular file: later paths through the name are fine', () => {
      accepts(symlink('a', '/etc'), file('a'), symlink('b', '/etc'), hardlink('b', 'a'));
    });

    it('a symlink replaced by a fifo or a device clears it too', () => {
      // (not a directory either: tar itself fails a/y; the checker no longer counts a symlink there)
      accepts(symlink('a', '/x'), { path: 'a', type: 'FIFO' }, file('a/y'));
      accepts(symlink('d', '/x'), chr('d', 1, 3), file('d/y'));
    });

    it('a symlink over another symlink of the same name', () => {
      accepts(symlink('a', 'x'), symlink('a', 'y'));
    });
  });

  describe('refuses', () => {
    it('absolute member names', () => {
      refusesLast([file('/etc/passwd')], 'absolute');
      refusesLast([dir('/')], 'absolute');
      refusesLast([symlink('/bin', 'usr/bin')], 'absolute');
    });

    it("'..' anywhere in a name", () => {
      refusesLast([file('../x')], "'..'");
      refusesLast([file('a/../../x')], "'..'");
      refusesLast([file('a/b/..')], "'..'");
      refusesLast([dir('./../')], "'..'");
    });

    it("'..' behind '.' components and doubled slashes", () => {
      refusesLast([file('./a/./../../x')], "'..'");
      refusesLast([file('a//..')], "'..'");
      refusesLast([dir('.//../')], "'..'");
      refusesLast([file('./.././x')], "'..'");
      refusesLast([hardlink('x', './/a/.//../../b')], 'outside the archive');
    });

    it('paths through a symlink however either is spelt', () => {
      for (const link of ['etc', './etc', 'etc/', './/etc', '././etc/.'])
        for (const path of ['etc/passwd', './etc//passwd', '././etc/./passwd', './/etc/passwd', 'etc/./passwd'])
          refusesLast([symlink(link, '/etc'), file(path)], 'symlink etc');
      refusesLast([symlink('./a//b/', '/'), file('a/./b//c')], 'symlink a/b');
      refusesLast([symlink('etc', '/etc'), hardlink('x', './/etc/./shadow')], 'symlink etc');
      refusesLast([symlink('./s', '/etc/shadow'), hardlink('x', '././s')], 'symlink s');
    });

    it('names that only look like ..', () => {
      accepts(file('...'), file('..a'), file('a..'), dir('.../'));
    });

    it('anything extracted through an earlier symlink', () => {
      refusesLast([symlink('etc', '/etc'), file('etc/passwd')], 'symlink etc');
      refusesLast([symlink('./etc', '/etc'), file('etc/passwd')], 'symlink etc');
      refusesLast([symlink('etc', '/etc'), dir('etc/cron.d/')], 'symlink etc');
      refusesLast([symlink('etc', '/etc'), symlink('etc/x', 'y')], 'symlink etc');
      refusesLast([symlink('etc', '/etc'), chr('etc/null', 1, 3)], 'symlink etc');
      refusesLast([symlink('etc', '/etc'), hardlink('etc/x', 'y')], 'symlink etc');
    });

    it('deeper paths through a symlink, and a symlink found deeper', () => {
      refusesLast([symlink('a', '/'), file('a/b/c/d')], 'symlink a');
      refusesLast([dir('a/'), dir('a/b/'), symlink('a/b/c', '/'), file('a/b/c/d/e')], 'symlink a/b/c');
    });

    it('paths through a relative symlink too (it could point at another symlink)', () => {
      refusesLast([symlink('lib', 'usr/lib'), file('lib/x')], 'symlink lib');
    });

    it('a directory over an earlier symlink of the same name', () => {
      refusesLast([symlink('etc', '/etc'), dir('etc/')], 'directory over an earlier symlink');
      refusesLast([symlink('etc', '/etc'), dir('./etc')], 'directory over an earlier symlink');
    });

    it('a symlink over an earlier directory, then paths under it', () => {
      refusesLast([dir('etc/'), file('etc/a'), symlink('etc', '/etc'), file('etc/passwd')], 'symlink etc');
    });

    it('hard links to absolute paths', () => {
      refusesLast([hardlink('x', '/etc/shadow')], 'absolute', '/etc/shadow');
    });

    it("hard links with '..'", () => {
      refusesLast([hardlink('x', '../etc/shadow')], '../etc/shadow');
      refusesLast([hardlink('x', 'a/../../b')], 'a/../../b');
    });

    it('hard links through a symlink, or to a symlink', () => {
      refusesLast([symlink('etc', '/etc'), hardlink('x', 'etc/shadow')], 'symlink etc');
      refusesLast([symlink('s', '/etc/shadow'), hardlink('x', 's')], 'symlink s');
      refusesLast([symlink('s', '/etc/shadow'), hardlink('x', './s/')], 'symlink s');
    });

    it('block devices', () => {
      refusesLast([{ path: 'dev/sda', type: 'BlockDevice', devmajor: 8, devminor: 0 }], 'block device 8:0');
      refusesLast([{ path: 'dev/loop0', type: 'BlockDevice', devmajor: 7, devminor: 0 }], 'block device');
    });

    it('character devices outside the standard set', () => {
      refusesLast([chr('dev/mem', 1, 1)], 'character device 1:1');
      refusesLast([chr('dev/kmem', 1, 2)], 'character device 1:2');
      refusesLast([chr('dev/port', 1, 4)], 'character device 1:4');
      refusesLast([chr('dev/tty0', 4, 0)], 'character device 4:0');
      refusesLast([chr('dev/kvm', 10, 232)], 'character device 10:232');
      refusesLast([chr('dev/x', 0, 0)], 'character device 0:0');
      refusesLast([{ path: 'dev/x', type: 'CharacterDevice' }], 'character device');
    });

    it('member types a tree has no business with', () => {
      for (const type of ['SparseFile', 'GNUDumpDir', 'TapeVolumeHeader', 'ContinuationFile', 'Unsupported'])
        refusesLast([{ path: 'x', type }], `unsupported member type ${type}`);
    });

    it('an absolute name even for a type that is otherwise fine', () => {
      refusesLast([dir('a/'), { path: '/a/b', type: 'FIFO' }], 'absolute');
    });
  });

  it('each checker has its own memory of symlinks', () => {
    const a = new MemberChecker();
    const b = new MemberChecker();
    assert.equal(a.check(symlink('etc', '/etc')), undefined);
    assert.notEqual(a.check(file('etc/passwd')), undefined);
    assert.equal(b.check(file('etc/passwd')), undefined);
  });
});
