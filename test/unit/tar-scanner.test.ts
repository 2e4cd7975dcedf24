/**
 * The header walk import-tar checks archives with: src/image/import/tar-scanner.ts.
 * Archives are written by GNU tar (the tool that then extracts them), and
 * the scanner must see the members GNU tar sees, however the stream is cut.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { MemberChecker, type Member } from '../../src/image/import/member-check.js';
import { TarScanner } from '../../src/image/import/tar-scanner.js';
import { Scratch } from './helpers.js';

type Seen = { path: string; type: string; linkpath?: string };

const METADATA = new Set(['ExtendedHeader', 'GlobalExtendedHeader', 'NextFileHasLongPath', 'NextFileHasLongLinkpath', 'OldGnuLongPath', 'OldExtendedHeader']);

function scan(archive: Buffer, chunk = archive.length || 1): { members: Member[]; error: string | undefined } {
  const members: Member[] = [];
  const s = new TarScanner((m) => members.push(m));
  for (let off = 0; off < archive.length; off += chunk) s.write(archive.subarray(off, off + chunk));
  s.end();
  return { members, error: s.error };
}

function seen(members: Member[]): Seen[] {
  return members.map((m) => (m.linkpath ? { path: m.path, type: m.type, linkpath: m.linkpath } : { path: m.path, type: m.type }));
}

const TYPES: Record<string, string> = { '-': 'File', d: 'Directory', l: 'SymbolicLink', h: 'Link', p: 'FIFO', c: 'CharacterDevice', b: 'BlockDevice' };

/** What GNU tar itself lists (tar -tv), as the scanner names things. */
function gnuTarListing(file: string): Seen[] {
  const out = execFileSync('tar', ['--quoting-style=literal', '--numeric-owner', '-tvf', file], { stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8');
  return out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = l.match(/^(\S)\S*\s+\S+\s+\S+\s+\S+\s+\S+\s(.*)$/);
      assert.ok(m, `unexpected tar -tv line ${JSON.stringify(l)}`);
      const type = TYPES[m[1]!] ?? `?${m[1]}`;
      let rest = m[2]!;
      if (type === 'SymbolicLink') {
        const [p, target] = rest.split(' -> ') as [string, string];
        return { path: p, type, linkpath: target };
      }
      if (type === 'Link') {
        const [p, target] = rest.split(' link to ') as [string, string];
        return { path: p, type, linkpath: target };
      }
      rest = rest.replace(/ unknown file type .*$/, '');
      return { path: rest, type };
    });
}

/** GNU tar's member names only (tar -t). */
function gnuTarNames(archive: Buffer): string[] {
  const out = execFileSync('tar', ['--quoting-style=literal', '-tf', '-'], { input: archive, stdio: ['pipe', 'pipe', 'pipe'] }).toString('utf8');
  return out.split('\n').filter((l) => l !== '');
}

// ---------------------------------------------------------------- hand-made headers

interface RawHeader {
  name: string;
  type: string;
  size?: number;
  linkname?: string;
  /** 8 bytes at 257: POSIX "ustar\000" by default, GNU's "ustar  \0" with 'gnu'. */
  magic?: 'posix' | 'gnu' | Buffer;
  devmajor?: number;
  devminor?: number;
  prefix?: string;
}

function header(h: RawHeader): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100, 'utf8');
  b.write('0000644\0', 100, 'latin1');
  b.write('0000000\0', 108, 'latin1');
  b.write('0000000\0', 116, 'latin1');
  b.write(`${(h.size ?? 0).toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  b.write('14000000000\0', 136, 'latin1');
  b.write(h.type, 156, 1, 'latin1');
  if (h.linkname) b.write(h.linkname, 157, 100, 'utf8');
  const magic = h.magic === 'gnu' ? Buffer.from('ustar  \0', 'latin1') : Buffer.isBuffer(h.magic) ? h.magic : Buffer.from('ustar\x0000', 'latin1');
  magic.copy(b, 257);
  b.write(`${(h.devmajor ?? 0).toString(8).padStart(7, '0')}\0`, 329, 'latin1');
  b.write(`${(h.devminor ?? 0).toString(8).padStart(7, '0')}\0`, 337, 'latin1');
  if (h.prefix) b.write(h.prefix, 345, 155, 'utf8');
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const x of b) sum += x;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return b;
}

function padded(data: Buffer): Buffer {
  return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

function paxRecords(records: Record<string, string>): Buffer {
  let text = '';
  for (const [k, v] of Object.entries(records)) {
    const body = ` ${k}=${v}\n`;
    let n = body.length + 1;
    while (String(n).length + body.length !== n) n++;
    text += `${n}${body}`;
  }
  return Buffer.from(text, 'utf8');
}

const EOA = Buffer.alloc(1024);

// ---------------------------------------------------------------- a real tree

const LONG_DIR = `deep/${'d'.repeat(60)}/${'e'.repeat(60)}`;
const LONG_FILE = `${LONG_DIR}/${'f'.repeat(90)}.txt`;
const LONG_TARGET = `/usr/share/${'z'.repeat(150)}/target`;

describe('TarScanner', () => {
  const scratch = new Scratch();
  const archives: Record<'gnu' | 'posix', Buffer> = { gnu: Buffer.alloc(0), posix: Buffer.alloc(0) };
  const listings: Record<'gnu' | 'posix', Seen[]> = { gnu: [], posix: [] };

  before(() => {
    const t = scratch.tree('root');
    t.dir('a').file('a/empty').file('a/small', 'x'.repeat(100)).file('a/block', 'b'.repeat(512)).file('a/big', 'B'.repeat(70000));
    linkSync(t.host('a/small'), t.host('a/zz-hard'));
    t.file(LONG_FILE, 'long\n');
    linkSync(t.host(LONG_FILE), t.host(`${LONG_DIR}/hard-to-long`));
    t.link('bin', 'usr/bin').link('lt', LONG_TARGET).link('etc/localtime', '/usr/share/zoneinfo/Etc/UTC');
    t.dir('run');
    execFileSync('mkfifo', [t.host('run/initctl')]);
    t.file('u/ünïcødé', 'utf8\n');
    for (const format of ['gnu', 'posix'] as const) {
      const file = `${scratch.dir}/${format}.tar`;
      execFileSync('tar', [`--format=${format}`, '--sort=name', '--numeric-owner', '-cf', file, '-C', t.root, '.']);
      archives[format] = readFileSync(file);
      listings[format] = gnuTarListing(file);
    }
  });

  after(() => scratch.remove());

  for (const format of ['gnu', 'posix'] as const) {
    describe(`an archive GNU tar writes with --format=${format}`, () => {
      it('gives the members GNU tar lists: paths, types and link targets', () => {
        const { members, error } = scan(archives[format]);
        assert.equal(error, undefined);
        assert.deepEqual(seen(members), listings[format]);
      });

      it('including long names, long link targets, hard links, a fifo and UTF-8 names', () => {
        const got = seen(scan(archives[format]).members);
        const expect: Seen[] = [
          { path: `./${LONG_FILE}`, type: 'File' },
          { path: `./${LONG_DIR}/hard-to-long`, type: 'Link', linkpath: `./${LONG_FILE}` },
          { path: './lt', type: 'SymbolicLink', linkpath: LONG_TARGET },
          { path: './bin', type: 'SymbolicLink', linkpath: 'usr/bin' },
          { path: './a/zz-hard', type: 'Link', linkpath: './a/small' },
          { path: './run/initctl', type: 'FIFO' },
          { path: './u/ünïcødé', type: 'File' },
          { path: './a/', type: 'Directory' },
        ];
        for (const e of expect) assert.ok(got.some((g) => JSON.stringify(g) === JSON.stringify(e)), `missing ${JSON.stringify(e)} in ${JSON.stringify(got)}`);
        assert.equal(got.length, listings[format].length);
      });

      for (const chunk of [1, 7, 511, 512, 513, 4096, 65536, Infinity])
        it(`gives the same members fed in chunks of ${chunk === Infinity ? 'the whole archive' : `${chunk} bytes`}`, () => {
          const a = archives[format];
          const whole = seen(scan(a).members);
          assert.equal(whole.length, listings[format].length);
          const { members, error } = scan(a, chunk === Infinity ? a.length : chunk);
          assert.equal(error, undefined);
          assert.deepEqual(seen(members), whole);
        });

      it('passes the member checks import-tar applies', () => {
        const c = new MemberChecker();
        for (const m of scan(archives[format]).members) assert.equal(c.check(m), undefined, m.path);
      });

      it('trailing zero blocks (record padding, or more) are fine', () => {
        const a = Buffer.concat([archives[format], Buffer.alloc(20 * 512)]);
        const { members, error } = scan(a, 1000);
        assert.equal(error, undefined);
        assert.deepEqual(seen(members), seen(scan(archives[format]).members));
      });

      it('anything after the end-of-archive marker is ignored, as GNU tar ignores it', () => {
        const junk = Buffer.alloc(2048, 0x41);
        const withJunk = Buffer.concat([archives[format], junk]);
        const { members, error } = scan(withJunk);
        assert.equal(error, undefined);
        assert.deepEqual(seen(members), seen(scan(archives[format]).members));
      });
    });
  }

  describe('a truncated archive sets error', () => {
    for (const cut of [100, 511, 513, 700])
      it(`cut after ${cut} bytes`, () => {
        const { error } = scan(archives.gnu.subarray(0, cut));
        assert.match(error ?? '', /truncated/);
      });

    it('cut at a block edge inside the data of a file', () => {
      const a = archives.gnu;
      // The header of ./a/big, then 137 blocks of data: cut after its 10th.
      let at = -1;
      for (let off = 0; off < a.length; off += 512)
        if (a.subarray(off, off + 100).toString('latin1').replace(/\0.*$/s, '') === './a/big') at = off;
      assert.ok(at >= 0);
      for (const chunk of [1, 512, 65536]) {
        const { members, error } = scan(a.subarray(0, at + 512 * 11), chunk);
        assert.match(error ?? '', /truncated/, `chunk ${chunk}`);
        assert.equal(members.at(-1)?.path, './a/big');
      }
    });

    it('cut in the data of a long-name header', () => {
      const a = Buffer.concat([header({ name: '././@LongLink', type: 'L', size: 300, magic: 'gnu' }), Buffer.alloc(100, 0x61)]);
      assert.match(scan(a).error ?? '', /truncated/);
    });
  });

  describe('a corrupt header sets error', () => {
    it('a changed byte in a header without a matching checksum', () => {
      const a = Buffer.from(archives.gnu);
      a[5] = a[5]! ^ 0x20;
      const { members, error } = scan(a);
      assert.match(error ?? '', /checksum/);
      assert.deepEqual(members, []);
    });

    it('a corrupt header after good members: those were seen, the rest is not', () => {
      const a = Buffer.concat([header({ name: 'ok', type: '0' }), header({ name: 'bad', type: '0' }), EOA]);
      a[512 + 148] = 0x37;
      const seenPaths: string[] = [];
      const s = new TarScanner((m) => seenPaths.push(m.path));
      s.write(a);
      s.end();
      assert.match(s.error ?? '', /checksum/);
      assert.deepEqual(seenPaths, ['ok']);
    });

    it('text that is not a tar archive', () => {
      assert.match(scan(Buffer.from('hello, this is not an archive\n'.repeat(40))).error ?? '', /checksum/);
    });

    it('garbage bytes (say a gzip-compressed disk image): error is set, write() does not throw', () => {
      const g = Buffer.alloc(4096);
      for (let i = 0; i < g.length; i++) g[i] = (i * 7919 + 13) & 0xff;
      // import-tar calls write() from a stream 'data' listener: a throw there is an uncaught exception.
      let r: ReturnType<typeof scan> | undefined;
      assert.doesNotThrow(() => (r = scan(g)));
      assert.ok(r?.error);
    });

    it('a header with a checksum-valid but bad base-256 number field', () => {
      const h = header({ name: 'x', type: '0' });
      h[124] = 0x80; // base-256 size, with a bad value
      h.fill(0xff, 125, 136);
      h.fill(0x20, 148, 156);
      let sum = 0;
      for (const x of h) sum += x;
      h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
      let r: ReturnType<typeof scan> | undefined;
      assert.doesNotThrow(() => (r = scan(Buffer.concat([h, EOA]))));
      assert.ok(r?.error);
    });
  });

  it('an empty stream has no members and no error', () => {
    const { members, error } = scan(Buffer.alloc(0));
    assert.deepEqual(members, []);
    assert.equal(error, undefined);
  });

  it('a header with pax path, linkpath and size overrides (x): as GNU tar reads it', () => {
    const pax = paxRecords({ path: 'renamed/by/pax', size: '0' });
    const a = Buffer.concat([
      header({ name: 'PaxHeaders/x', type: 'x', size: pax.length }),
      padded(pax),
      header({ name: 'ustar-name', type: '0', size: 1024 }),
      header({ name: 'next', type: '0' }),
      EOA,
    ]);
    const { members, error } = scan(a);
    assert.equal(error, undefined);
    assert.deepEqual(members.map((m) => m.path), gnuTarNames(a));
    assert.deepEqual(members.map((m) => m.path), ['renamed/by/pax', 'next']);
  });

  it('the ustar prefix field is part of the name (POSIX magic)', () => {
    const a = Buffer.concat([header({ name: 'x', type: '0', prefix: 'pre/fix' }), EOA]);
    assert.deepEqual(scan(a).members.map((m) => m.path), gnuTarNames(a));
    assert.deepEqual(scan(a).members.map((m) => m.path), ['pre/fix/x']);
  });

  it('an old-style file name with a trailing slash is a directory (so it cannot sneak past the symlink rule)', () => {
    const a = Buffer.concat([header({ name: 'a', type: '2', linkname: '/etc' }), header({ name: 'a/', type: '0' }), EOA]);
    const { members } = scan(a);
    assert.equal(members[1]!.type, 'Directory');
    const c = new MemberChecker();
    assert.equal(c.check(members[0]!), undefined);
    assert.match(c.check(members[1]!) ?? '', /directory over an earlier symlink/);
  });

  it('after a lone zero block the scanner goes on checking (GNU tar stops there)', () => {
    const a = Buffer.concat([header({ name: 'a', type: '0' }), Buffer.alloc(512), header({ name: 'b', type: '0' }), EOA]);
    const got = scan(a).members.map((m) => m.path);
    for (const n of gnuTarNames(a)) assert.ok(got.includes(n), n);
    assert.deepEqual(got, ['a', 'b']);
  });

  // ------------------------------------------------------------ what GNU tar extracts, the scanner must see

  describe('sees every member GNU tar would extract', () => {
    function agrees(a: Buffer): void {
      const gnu = gnuTarNames(a);
      const { members, error } = scan(a);
      assert.equal(error, undefined);
      const mine = members.filter((m) => !METADATA.has(m.type)).map((m) => m.path);
      assert.deepEqual(mine, gnu, 'the scanner checked other members than GNU tar extracts');
    }

    it('a Solaris extended header (X), which GNU tar applies like a pax header: path', () => {
      const pax = paxRecords({ path: 'renamed-by-X' });
      agrees(Buffer.concat([header({ name: 'PaxHeaders/x', type: 'X', size: pax.length }), padded(pax), header({ name: 'orig', type: '0' }), EOA]));
    });

    it('a Solaris extended header (X) whose size hides a block device from the check', () => {
      // GNU tar takes size=0 from X, so the next block is a member: a block device.
      const pax = paxRecords({ size: '0' });
      const a = Buffer.concat([
        header({ name: 'PaxHeaders/x', type: 'X', size: pax.length }),
        padded(pax),
        header({ name: 'innocent', type: '0', size: 1024 }),
        header({ name: 'sda', type: '4', devmajor: 8, devminor: 0 }),
        Buffer.alloc(512),
        EOA,
      ]);
      assert.deepEqual(gnuTarNames(a), ['innocent', 'sda']);
      const c = new MemberChecker();
      const refusals = scan(a).members.map((m) => c.check(m)).filter((r) => r !== undefined);
      assert.ok(refusals.length > 0, 'GNU tar would extract the block device 8:0 and nothing was refused');
    });

    it("an old GNU 'N' header, which GNU tar does not take as the next member's name", () => {
      const name = Buffer.from('checked-name\0', 'utf8');
      agrees(Buffer.concat([header({ name: '././@LongLink', type: 'N', size: name.length, magic: 'gnu' }), padded(name), header({ name: 'extracted-name', type: '0', magic: 'gnu' }), EOA]));
    });

    it('a POSIX "ustar\\0" magic with another version: GNU tar still prepends the prefix', () => {
      const magic = Buffer.from('ustar\0xx', 'latin1');
      agrees(Buffer.concat([header({ name: 'a', type: '2', linkname: '/etc' }), header({ name: 'passwd', type: '0', prefix: 'a', magic }), EOA]));
    });
  });

  describe('pax records replace the ustar fields, as GNU tar takes them', () => {
    function agreesWithListing(a: Buffer): Seen[] {
      const file = `${scratch.dir}/crafted.tar`;
      writeFileSync(file, a);
      const { members, error } = scan(a);
      assert.equal(error, undefined);
      const mine = seen(members.filter((m) => !METADATA.has(m.type)));
      assert.deepEqual(mine, gnuTarListing(file));
      return mine;
    }

    it('a pax path replaces the whole name: a ustar prefix is not prepended', () => {
      const pax = paxRecords({ path: 'a/passwd' });
      agreesWithListing(
        Buffer.concat([
          header({ name: 'a', type: '2', linkname: '/etc' }),
          header({ name: 'PaxHeaders/x', type: 'x', size: pax.length }),
          padded(pax),
          header({ name: 'x', type: '0', prefix: 'pre' }),
          EOA,
        ]),
      );
    });

    it('a pax linkpath replaces the ustar link name (hard link)', () => {
      const pax = paxRecords({ linkpath: 's' });
      const got = agreesWithListing(
        Buffer.concat([
          header({ name: 's', type: '2', linkname: '/etc/shadow' }),
          header({ name: 'PaxHeaders/x', type: 'x', size: pax.length }),
          padded(pax),
          header({ name: 'x', type: '1', linkname: 'harmless' }),
          EOA,
        ]),
      );
      const c = new MemberChecker();
      assert.ok(got.map((m) => c.check(m)).some((r) => r !== undefined), 'a hard link to the symlink s must be refused');
    });

    it('a pax linkpath replaces the ustar link name (symlink)', () => {
      const target = `/usr/${'t'.repeat(120)}`;
      const pax = paxRecords({ linkpath: target });
      const got = agreesWithListing(
        Buffer.concat([header({ name: 'PaxHeaders/l', type: 'x', size: pax.length }), padded(pax), header({ name: 'l', type: '2', linkname: target.slice(0, 100) }), EOA]),
      );
      assert.equal(got[0]!.linkpath, target);
    });
  });

  describe('device numbers', () => {
    for (const format of ['gnu', 'posix', 'ustar'] as const)
      it(`reads /dev/null as 1:3 from a --format=${format} archive (the default format is gnu)`, () => {
        const file = `${scratch.dir}/dev-${format}.tar`;
        execFileSync('tar', [`--format=${format}`, '-cf', file, '-C', '/', 'dev/null']);
        const { members, error } = scan(readFileSync(file));
        assert.equal(error, undefined);
        assert.equal(members.length, 1);
        assert.equal(members[0]!.type, 'CharacterDevice');
        assert.deepEqual([members[0]!.devmajor, members[0]!.devminor], [1, 3]);
        assert.equal(new MemberChecker().check(members[0]!), undefined, 'import-tar must accept /dev/null');
      });
  });
});

// Keep the helpers honest: a hand-made header is one GNU tar reads.
describe('test helper: hand-made tar headers', () => {
  it('GNU tar lists them', () => {
    const s = new Scratch();
    try {
      const a = Buffer.concat([header({ name: 'one', type: '0', size: 3 }), padded(Buffer.from('abc')), header({ name: 'two', type: '5' }), EOA]);
      writeFileSync(`${s.dir}/a.tar`, a);
      assert.deepEqual(gnuTarListing(`${s.dir}/a.tar`), [
        { path: 'one', type: 'File' },
        { path: 'two', type: 'Directory' },
      ]);
    } finally {
      s.remove();
    }
  });
});
