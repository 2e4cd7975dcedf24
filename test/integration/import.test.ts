/**
 * import-tar: a real Debian rootfs archive in each format gives the same tree
 * as GNU tar's extraction (every path: type, owner, mode, size, link target,
 * device numbers, xattrs); crafted archives are refused with the member
 * named and nothing written outside; an interrupted import leaves nothing.
 * Needs root.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { execa } from 'execa';
import { archives } from '../harness/archives.js';
import { TOP, TSNSPAWN } from '../harness/paths.js';
import { rootSkipReason } from '../harness/root.js';
import { run } from '../harness/run.js';

const skip = rootSkipReason();
const listing = (dir: string): string => execFileSync('python3', [`${TOP}/test/harness/tree-listing.py`, dir], { encoding: 'utf8', maxBuffer: 256 << 20 });

describe('import-tar', { skip }, () => {
  let work = '';
  let files: Record<string, string> = {};
  let reference = '';
  before(() => {
    files = archives();
    work = mkdtempSync('/var/tmp/tsnspawn-import-');
    mkdirSync(`${work}/ref`);
    execFileSync('tar', ['--xattrs', '--xattrs-include=*', '--numeric-owner', '-xpf', files.tar!, '-C', `${work}/ref`]);
    reference = listing(`${work}/ref`);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  for (const format of ['tar', 'gzip', 'xz', 'zstd']) {
    it(`imports a ${format} archive identically to GNU tar's extraction`, async () => {
      const out = `${work}/out-${format}`;
      const r = await run(['import-tar', '-q', `--output=${out}`, files[format]!]);
      assert.equal(r.exitCode, 0, r.stderr);
      const ours = listing(out);
      assert.ok(ours.split('\n').length > 5000, 'a whole Debian tree');
      assert.ok(/security\.capability=/.test(ours), "xattrs such as ping's security.capability survive");
      assert.equal(ours, reference);
      rmSync(out, { recursive: true, force: true });
    });
  }

  it('reads an archive from stdin', async () => {
    const out = `${work}/out-stdin`;
    const r = await execa('sh', ['-c', `zstd -dcq "${files.zstd}" | gzip -1 | "${TSNSPAWN}" import-tar -q --output="${out}" - stdin-tree`], { reject: false });
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(listing(out), reference);
    rmSync(out, { recursive: true, force: true });
  });

  it('refuses an existing target without --force and replaces it with --force', async () => {
    const out = `${work}/out-force`;
    mkdirSync(out);
    const refused = await run(['import-tar', '-q', `--output=${out}`, files.zstd!]);
    assert.equal(refused.exitCode, 1);
    assert.match(refused.stderr, /^tsnspawn: cannot import into .*: it exists \(use --force to replace it\)\n$/);
    const forced = await run(['import-tar', '-q', '--force', `--output=${out}`, files.zstd!]);
    assert.equal(forced.exitCode, 0, forced.stderr);
    assert.ok(existsSync(`${out}/usr/lib/os-release`));
    rmSync(out, { recursive: true, force: true });
  });

  for (const [kind, member] of [
    ['dotdot', /member 'usr\/\.\.\/\.\.\/.*dotdot': member name with '\.\.'/],
    ['absolute', /member '\/.*absolute': absolute member name/],
    ['symlink-through', /member 'escape\/through-symlink': extracted through the symlink escape/],
    ['hardlink-out', /member 'hard': hard link to .*outside the archive/],
    ['blockdev', /member 'dev\/sda': block device 8:0/],
    ['chardev', /member 'dev\/mem': character device 1:1/],
    ['symlink-dir-swap', /member 'etc\/?': directory over an earlier symlink/],
    ['wide-date', /member 'dev\/sda': block device 8:0/],
    ['byte-names', /member '\uFFFD\/through-symlink': extracted through the symlink \uFFFD/],
  ] as const) {
    it(`refuses an archive with a ${kind} trick, naming the member, writing nothing outside`, async () => {
      const outside = mkdtempSync(`${work}/outside-`);
      const archive = `${work}/${kind}.tar`;
      execFileSync('python3', [`${TOP}/test/harness/evil-archive.py`, kind, archive, outside]);
      const out = `${work}/target-${kind}`;
      const r = await run(['import-tar', '-q', `--output=${out}`, archive]);
      assert.equal(r.exitCode, 1);
      const lines = r.stderr.split('\n').filter(Boolean);
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, member);
      assert.deepEqual(readdirSync(outside), [], 'nothing was written outside');
      assert.ok(!existsSync(out), 'no target');
      assert.deepEqual(readdirSync(work).filter((f) => f.startsWith('.#import')), [], 'no staging directory left');
    });
  }

  it('lists an archive others could change with the extracting tar itself, and still refuses its tricks', async () => {
    const outside = mkdtempSync(`${work}/outside-`);
    const archive = `${work}/others.tar`;
    execFileSync('python3', [`${TOP}/test/harness/evil-archive.py`, 'blockdev', archive, outside]);
    // Owned by nobody and writable by all: a second reader could be shown other bytes.
    chownSync(archive, 65534, 65534);
    chmodSync(archive, 0o666);
    const out = `${work}/target-others`;
    const r = await run(['import-tar', '-q', `--output=${out}`, archive]);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /member 'dev\/sda': block device 8:0/);
    assert.ok(!existsSync(out));
    assert.deepEqual(readdirSync(outside), []);
  });

  it('an interrupted import leaves nothing', async () => {
    const out = `${work}/out-interrupted`;
    // xz is the slowest to decompress: plenty of time to interrupt.
    const child = execa(TSNSPAWN, ['import-tar', '-q', `--output=${out}`, files.xz!], { reject: false });
    for (let i = 0; i < 100 && !readdirSync(work).some((f) => f.startsWith('.#import')); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGINT');
    const r = await child;
    assert.equal(r.exitCode, 130, String(r.stderr));
    assert.match(String(r.stderr), /interrupted; nothing was kept/);
    assert.ok(!existsSync(out));
    await new Promise((r2) => setTimeout(r2, 200));
    assert.deepEqual(readdirSync(work).filter((f) => f.startsWith('.#import')), []);
  });

  it('refuses a plain archive that changes while it is imported (its listing came from a second read)', async () => {
    const archive = `${work}/changing.tar`;
    execFileSync('cp', [files.tar!, archive]);
    const out = `${work}/out-changing`;
    const child = execa(TSNSPAWN, ['import-tar', '-q', `--output=${out}`, archive], { reject: false });
    // Once tar has put something in the staging directory, both reads are under way.
    // (The staging tree is 'tree' inside a private directory.)
    const extracting = (): boolean =>
      readdirSync(work).some((f) => /^\.#import-\d+-\d+-out-changing/.test(f) && existsSync(`${work}/${f}/tree`) && readdirSync(`${work}/${f}/tree`).length > 0);
    for (let i = 0; i < 2000 && !extracting(); i++) await new Promise((r) => setTimeout(r, 5));
    assert.ok(extracting(), 'the extraction started');
    // A write would do; a utimensat changes the ctime just the same.
    utimesSync(archive, new Date(), new Date());
    const r = await child;
    assert.equal(r.exitCode, 1, String(r.stderr));
    assert.match(String(r.stderr), /^tsnspawn: cannot import .*changing\.tar: the file changed during the import; nothing was kept$/);
    assert.ok(!existsSync(out));
    assert.deepEqual(readdirSync(work).filter((f) => f.startsWith('.#import')), []);
    rmSync(archive);
  });

  it('refuses a file that is not an archive', async () => {
    const r = await run(['import-tar', '-q', `--output=${work}/x`, '/etc/os-release']);
    assert.equal(r.exitCode, 1);
    assert.match(r.stderr, /^tsnspawn: cannot import \/etc\/os-release: not a tar archive/);
  });

  it('puts the tree in /var/lib/machines/NAME where -M finds it', async () => {
    const name = `tsnspawn-import-test-${process.pid}`;
    try {
      const r = await run(['import-tar', '-q', files.zstd!, name]);
      assert.equal(r.exitCode, 0, r.stderr);
      assert.ok(statSync(`/var/lib/machines/${name}/usr`).isDirectory());
      const inside = await run(['-q', '-P', '-M', name, '/bin/cat', '/etc/debian_version']);
      assert.match(inside.stdout, /^12\./);
    } finally {
      rmSync(`/var/lib/machines/${name}`, { recursive: true, force: true });
    }
  });
});
