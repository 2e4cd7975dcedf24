/**
 * The attacks of the security review, replayed by an unprivileged user
 * (nobody) against root's tsnspawn: each must now do no harm. Races are
 * made to happen at the dangerous moment by an inotify watcher run as the
 * attacker (test/harness/swap-on-event.py). Needs root.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { execa, type ResultPromise } from 'execa';
import { image } from '../harness/images.js';
import { TOP, TSNSPAWN } from '../harness/paths.js';
import { rootSkipReason } from '../harness/root.js';
import { assertNoLeaks, assertOneErrorLine, run, runClean, start } from '../harness/run.js';
import { snapshot } from '../harness/host-state.js';

const skip = rootSkipReason();
const NOBODY = { uid: 65534, gid: 65534 };
const listing = (dir: string): string => execFileSync('python3', [`${TOP}/test/harness/tree-listing.py`, dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
const mode = (path: string): string => (statSync(path).mode & 0o7777).toString(8);
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

/** A directory the attacker owns (mode 0755). */
function attackerDir(path: string): string {
  mkdirSync(path, { mode: 0o755 });
  chownSync(path, NOBODY.uid, NOBODY.gid);
  return path;
}

/** The attacker's watcher, started and ready (wrapped: awaiting the process itself would wait for its end). */
async function watcher(args: string[]): Promise<{ done: ResultPromise }> {
  // Debian's python3 by path: the attacker has no access to root's own PATH entries.
  const w = execa('/usr/bin/python3', [`${TOP}/test/harness/swap-on-event.py`, ...args], { ...NOBODY, reject: false, buffer: true });
  await new Promise<void>((resolve, reject) => {
    w.stdout!.once('data', (d: Buffer) => (String(d).startsWith('ready') ? resolve() : reject(new Error(`watcher: ${String(d)}`))));
    w.once('exit', () => reject(new Error('the watcher ended before it was ready')));
  });
  return { done: w };
}

describe('attacks of the security review (an unprivileged user against root)', { skip }, () => {
  let work = '';
  let busybox = '';
  /** Archives of the busybox tree with /etc/marker saying whose it is; evil's with a setuid copy of busybox. */
  const archive = (name: string, marker: string, extra?: (tree: string) => void): string => {
    const tree = `${work}/${name}-tree`;
    cpSync(busybox, tree, { recursive: true, verbatimSymlinks: true });
    writeFileSync(`${tree}/etc/marker`, `${marker}\n`);
    extra?.(tree);
    const out = `${work}/${name}.tar`;
    execFileSync('tar', ['--numeric-owner', '-cpf', out, '-C', tree, '.']);
    rmSync(tree, { recursive: true, force: true });
    return out;
  };
  let trusted = '';
  let evil = '';

  before(() => {
    busybox = image('busybox');
    work = mkdtempSync('/var/tmp/tsnspawn-attack-');
    chmodSync(work, 0o755);
    trusted = archive('trusted', 'trusted');
    evil = archive('evil', 'evil', (tree) => {
      cpSync(`${tree}/bin/busybox`, `${tree}/usr/bin/evil`);
      chmodSync(`${tree}/usr/bin/evil`, 0o4755);
    });
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('1. the tarball cache is private: a setuid program of a cached image is out of reach; a cache made open earlier is closed, with a warning', async () => {
    const parent = `${work}/cache1`;
    const cache = `${parent}/tarballs`;
    const env = { TSNSPAWN_TARBALL_CACHE: cache };
    const r = await runClean(['-q', '-P', '--register=no', `--tarball=${evil}`, '/bin/true'], [cache], { env });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(mode(parent), '700', 'a parent tsnspawn creates is private');
    assert.equal(mode(cache), '700');
    const tree = `${cache}/${sha256(evil).slice(0, 32)}`;
    assert.equal(mode(`${tree}/usr/bin/evil`), '4755', 'the image keeps its setuid program');
    const reach = await execa('stat', [`${tree}/usr/bin/evil`], { ...NOBODY, reject: false });
    assert.notEqual(reach.exitCode, 0, 'nobody reaches the setuid program');
    assert.match(String(reach.stderr), /Permission denied/);

    // A cache left open (as tsnspawn made it before) is closed on the next run.
    chmodSync(cache, 0o755);
    const again = await runClean(['-P', '--register=no', `--tarball=${evil}`, '/bin/true'], [cache], { env });
    assert.equal(again.exitCode, 0, again.stderr);
    assert.match(again.stderr, /^tsnspawn: made .*tarballs private \(mode 0755 -> 0700\)/m);
    assert.equal(mode(cache), '700');
  });

  it('1. an archive being unpacked (and then refused) is out of reach the whole time; import-tar makes a missing parent 0700', async () => {
    const parent = `${work}/machines1`;
    mkdirSync(parent, { mode: 0o755 });
    // A big member first, a character device last: refused only at the end.
    const tricky = `${work}/tricky.tar`;
    execFileSync('python3', ['-c', `
import io, tarfile
with tarfile.open(${JSON.stringify(tricky)}, 'w', format=tarfile.PAX_FORMAT) as t:
    d = tarfile.TarInfo('etc'); d.type = tarfile.DIRTYPE; d.mode = 0o755; t.addfile(d)
    f = tarfile.TarInfo('etc/big'); f.size = 4 << 20; f.mode = 0o644; t.addfile(f, io.BytesIO(bytes(4 << 20)))
    c = tarfile.TarInfo('dev/mem'); c.type = tarfile.CHRTYPE; c.devmajor, c.devminor = 1, 1; c.mode = 0o666; t.addfile(c)
`]);
    const bytes = readFileSync(tricky);
    const before = snapshot();
    const imp = execa(TSNSPAWN, ['import-tar', '-q', `--output=${parent}/x`, '-', 'x'], { stdin: 'pipe', reject: false });
    imp.stdin!.write(bytes.subarray(0, 2 << 20));
    // Wait until tar has made the tree and begun the big file.
    let staged = '';
    for (let i = 0; i < 200 && !staged; i++) {
      const entry = readdirSync(parent).find((n) => /^\.#import-\d+-\d+-x-/.test(n));
      if (entry && existsSync(`${parent}/${entry}/tree/etc/big`)) staged = `${parent}/${entry}`;
      else await new Promise((r) => setTimeout(r, 25));
    }
    assert.ok(staged, 'the import has a staging directory');
    assert.equal(mode(staged), '700');
    const peek = await execa('stat', [`${staged}/tree/etc/big`], { ...NOBODY, reject: false });
    assert.notEqual(peek.exitCode, 0, 'nobody reaches the tree while it is unpacked');
    imp.stdin!.end(bytes.subarray(2 << 20));
    const r = await imp;
    assert.equal(r.exitCode, 1);
    assert.match(String(r.stderr), /member 'dev\/mem': character device 1:1/);
    assert.deepEqual(readdirSync(parent), [], 'nothing kept');
    await assertNoLeaks(before, []);

    const deep = `${work}/new-parent/sub`;
    const ok = await run(['import-tar', '-q', `--output=${deep}/tree`, trusted]);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.equal(mode(`${work}/new-parent`), '700');
    assert.equal(mode(deep), '700');
  });

  it('2. an archive swapped after tsnspawn opened it cannot poison the cache entry of a trusted image', async () => {
    const cache = `${work}/cache2`;
    const env = { TSNSPAWN_TARBALL_CACHE: cache };
    const home = attackerDir(`${work}/home2`);
    for (const [from, to] of [[trusted, 'trusted.tar'], [evil, 'evil.tar']] as const) {
      cpSync(from, `${home}/${to}`);
      chownSync(`${home}/${to}`, NOBODY.uid, NOBODY.gid);
    }
    // On root's first open of the user's copy of trusted.tar, evil.tar takes its name.
    const w = await watcher([home, 'open', 'trusted.tar', '30', `rename:${home}/evil.tar:${home}/trusted.tar`]);
    const first = await runClean(['-q', '-P', '--register=no', `--tarball=${home}/trusted.tar`, '/bin/cat', '/etc/marker'], [cache], { env });
    assert.equal(first.exitCode, 0, first.stderr);
    assert.match(String((await w.done).stdout), /fired trusted.tar/, 'the swap happened');
    assert.equal(first.stdout, 'trusted\n', 'the run used what it opened');
    // Every cache entry holds what its name says.
    const byHash = `${cache}/${sha256(trusted).slice(0, 32)}`;
    assert.equal(readFileSync(`${byHash}/etc/marker`, 'utf8'), 'trusted\n');
    const later = await runClean(['-q', '-P', '--register=no', `--tarball=${trusted}`, '/bin/cat', '/etc/marker'], [cache], { env });
    assert.equal(later.stdout, 'trusted\n', "root's trusted.tar runs the trusted tree");
  });

  it('3. a tree replaced (by a symlink to a root-only directory) after the checks is refused, and nothing is touched', async () => {
    const home = attackerDir(`${work}/home3`);
    cpSync(busybox, `${home}/tree`, { recursive: true, verbatimSymlinks: true });
    const secret = `${work}/root-only`;
    cpSync(busybox, secret, { recursive: true, verbatimSymlinks: true });
    chmodSync(secret, 0o700);
    rmSync(`${secret}/etc/resolv.conf`, { force: true });
    writeFileSync(`${secret}/etc/resolv.conf`, 'secret\n', { mode: 0o600 });
    rmSync(`${secret}/run`, { recursive: true, force: true });
    rmSync(`${secret}/tmp`, { recursive: true, force: true });
    const untouched = listing(secret);
    // When tsnspawn reads the tree's /etc/passwd, the tree becomes a symlink to
    // the secret directory (in one step: the name never goes missing).
    await execa('ln', ['-s', secret, `${home}/link`], NOBODY);
    const w = await watcher([`${home}/tree/etc`, 'open', 'passwd', '30', `exchange:${home}/tree:${home}/link`]);
    const r = await runClean(['-q', '-P', '--register=no', '-D', `${home}/tree`, '/bin/true'], [secret, `${home}/link`]);
    assert.match(String((await w.done).stdout), /fired passwd/);
    assertOneErrorLine(r, /the tree .*tree was replaced after tsnspawn checked it .*nothing was touched/);
    assert.equal(listing(secret), untouched, 'the root-only directory is as it was');
  });

  it('4. the overlay work directory cannot be planted: its name is random; one swapped after its creation is not used or followed', async () => {
    const home = attackerDir(`${work}/home4`);
    const lower = `${work}/lower4`;
    mkdirSync(`${lower}`);
    writeFileSync(`${lower}/file`, 'lower\n');
    const victim = `${work}/victim4`;
    mkdirSync(`${victim}/work`, { recursive: true });
    writeFileSync(`${victim}/work/precious`, 'precious\n');
    const untouched = listing(victim);
    await execa('mkdir', [`${home}/upper`], NOBODY);
    // The old predictable name, planted.
    await execa('ln', ['-s', victim, `${home}/.#upper.tsnspawn-work`], NOBODY);
    const ok = await runClean(['-q', '-P', '--register=no', '-D', busybox, `--overlay=${lower}:${home}/upper:/mnt`, '/bin/sh', '-c', 'cat /mnt/file; echo new > /mnt/new'], [busybox]);
    assert.equal(ok.exitCode, 0, ok.stderr);
    assert.equal(ok.stdout, 'lower\n');
    assert.equal(readFileSync(`${home}/upper/new`, 'utf8'), 'new\n');
    assert.equal(listing(victim), untouched);
    assert.deepEqual(readdirSync(home).sort(), ['.#upper.tsnspawn-work', 'upper'], 'the work directory is gone after the run');

    // The real one, renamed away the moment it appears, a symlink to the victim in its place.
    const w = await watcher([home, 'create', '.#tsnspawn-work-*', '30', `rename:${home}/{name}:${home}/stolen`, `symlink:${victim}:${home}/{name}`]);
    const raced = await runClean(['-q', '-P', '--register=no', '-D', busybox, `--overlay=${lower}:${home}/upper:/mnt`, '/bin/true'], [busybox]);
    assert.match(String((await w.done).stdout), /fired \.#tsnspawn-work-/);
    // Caught by the monitor right after making it, or by the container's setup.
    assertOneErrorLine(raced, /(the work directory made beside .*upper was replaced before it could be used|the upper tree .*upper or the work directory beside it was replaced while the container started); nothing was mounted/);
    assert.equal(listing(victim), untouched, 'the victim directory is as it was');
  });

  it('5. two first runs of the same --tarball both keep their root (the later import discards its own copy)', async () => {
    const cache = `${work}/cache5`;
    const env = { TSNSPAWN_TARBALL_CACHE: cache };
    const big = archive('big', 'big', (tree) => execFileSync('dd', ['if=/dev/urandom', `of=${tree}/var/bigfile`, 'bs=1M', 'count=48', 'status=none']));
    // Both containers wait until both run, so the second import has finished
    // (and, before the fix, deleted the first tree) before either looks.
    const flags = `${work}/flags5`;
    mkdirSync(flags);
    const script = 'mktemp /flags/ready.XXXXXX >/dev/null; while [ ! -e /flags/go ]; do sleep 0.05; done; ls /var/bigfile /bin/busybox';
    const before = snapshot();
    const runs = [0, 1].map(() => start(['-q', '-P', '--register=no', `--tarball=${big}`, `--bind=${flags}:/flags`, '/bin/sh', '-c', script], { env }));
    for (let i = 0; i < 600 && readdirSync(flags).length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    writeFileSync(`${flags}/go`, '');
    const results = await Promise.all(runs);
    for (const r of results) {
      assert.equal(r.exitCode, 0, String(r.stderr));
      assert.equal(String(r.stdout), '/bin/busybox\n/var/bigfile\n');
    }
    await assertNoLeaks(before, [cache]);
    assert.deepEqual(readdirSync(cache).filter((n) => n !== 'index'), [sha256(big).slice(0, 32)], 'one tree, no staging left');
  });

  it('6. a hard link in the tree does not turn the resolv.conf copy into a write to another file', async () => {
    const dir = `${work}/hl`;
    mkdirSync(dir);
    const tree = `${dir}/tree`;
    cpSync(busybox, tree, { recursive: true, verbatimSymlinks: true });
    const victim = `${dir}/victim`;
    writeFileSync(victim, 'victim\n', { mode: 0o600 });
    rmSync(`${tree}/etc/resolv.conf`, { force: true });
    linkSync(victim, `${tree}/etc/resolv.conf`);
    const r = await runClean(['-q', '-P', '--register=no', '--resolv-conf=copy-host', '-D', tree, '/bin/cat', '/etc/resolv.conf'], [tree]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, readFileSync('/etc/resolv.conf', 'utf8'), "the container sees the host's resolv.conf");
    assert.equal(readFileSync(victim, 'utf8'), 'victim\n', 'the linked file keeps its content');
    assert.equal(mode(victim), '600', 'and its mode');
    assert.notEqual(statSync(`${tree}/etc/resolv.conf`).ino, statSync(victim).ino, 'the copy is a file of its own');
  });
});
