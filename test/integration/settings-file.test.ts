/**
 * NAME.nspawn on the bare host: a trusted file in /run/systemd/nspawn
 * changes the container (environment, hostname, a bind mount); the same
 * file beside the tree is not trusted (its bind is ignored with one
 * warning, the rest applies); --settings=no ignores both; the command line
 * wins except with --settings=override. Every file made here is removed.
 * Needs root.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, rmdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { after, afterEach, before, describe, it } from 'node:test';
import { image } from '../harness/images.js';
import { rootSkipReason } from '../harness/root.js';
import { assertOneErrorLine, runClean, type RunResult } from '../harness/run.js';

const skip = rootSkipReason();

const TRUSTED_DIR = '/run/systemd/nspawn';
/** Unique per run, so a file of ours never meets a real machine's. */
const NAME = `tsnspawn-settings-${process.pid}`;
const TRUSTED_FILE = `${TRUSTED_DIR}/${NAME}.nspawn`;

describe('NAME.nspawn settings files', { skip }, () => {
  let tree = '';
  let scratch = '';
  /** A symlink to the tree: the untrusted file goes beside it, not into the shared image cache. */
  let link = '';
  let besideFile = '';
  let madeTrustedDir = false;

  before(() => {
    tree = image('busybox');
    scratch = mkdtempSync('/var/tmp/tsnspawn-settings-');
    mkdirSync(`${scratch}/host-dir`);
    writeFileSync(`${scratch}/host-dir/marker`, 'from the host\n');
    mkdirSync(`${scratch}/machines`);
    link = `${scratch}/machines/${NAME}`;
    symlinkSync(tree, link);
    besideFile = `${scratch}/machines/${NAME}.nspawn`;
    madeTrustedDir = !existsSync(TRUSTED_DIR);
    mkdirSync(TRUSTED_DIR, { recursive: true });
  });
  afterEach(() => {
    rmSync(TRUSTED_FILE, { recursive: true, force: true });
    rmSync(besideFile, { force: true });
  });
  after(() => {
    rmSync(TRUSTED_FILE, { recursive: true, force: true });
    if (madeTrustedDir) rmdirSync(TRUSTED_DIR);
    rmSync(scratch, { recursive: true, force: true });
  });

  const settingsText = (): string => `# written by ${import.meta.url}
[Exec]
Environment=FROM_FILE=yes "SPACED=a b"
Hostname=from-file
[Files]
BindReadOnly=${scratch}/host-dir:/mnt/from-host
`;

  const PROBE = 'echo "env=$FROM_FILE/$SPACED"; echo "host=$(hostname)"; cat /mnt/from-host/marker 2>/dev/null || echo "no bind"';

  /** The probe in the tree (named through the symlink: NAME.nspawn beside it is the untrusted one). */
  const probe = (extra: string[] = []): Promise<RunResult> => runClean(['-q', '--console=pipe', '-D', link, '-M', NAME, ...extra, '/bin/sh', '-c', PROBE], [tree]);

  it('a trusted file in /run/systemd/nspawn sets the environment, the hostname and a bind mount', async () => {
    writeFileSync(TRUSTED_FILE, settingsText());
    const r = await probe();
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'env=yes/a b\nhost=from-file\nfrom the host\n');
    assert.equal(r.stderr, '');
  });

  it('the same file beside the tree: the bind is ignored with one warning naming it, the rest applies', async () => {
    writeFileSync(besideFile, settingsText());
    const r = await probe();
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, 'env=yes/a b\nhost=from-file\nno bind\n');
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, new RegExp(`^tsnspawn: ${besideFile.replace(/[.]/g, '\\.')} is not trusted .*: ignoring BindReadOnly= \\(`));
  });

  it('--settings=trusted applies the file beside the tree in full', async () => {
    writeFileSync(besideFile, settingsText());
    const r = await probe(['--settings=trusted']);
    assert.equal(r.stdout, 'env=yes/a b\nhost=from-file\nfrom the host\n');
    assert.equal(r.stderr, '');
  });

  it('the trusted file is read in place of the one beside the tree', async () => {
    writeFileSync(TRUSTED_FILE, settingsText());
    writeFileSync(besideFile, '[Exec]\nHostname=beside\n');
    const r = await probe();
    assert.match(r.stdout, /^host=from-file$/m);
  });

  it('--settings=no ignores both files', async () => {
    writeFileSync(TRUSTED_FILE, settingsText());
    writeFileSync(besideFile, settingsText());
    const r = await probe(['--settings=no']);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout, `env=/\nhost=${NAME}\nno bind\n`);
    assert.equal(r.stderr, '');
  });

  it('the command line wins over the file, group by group', async () => {
    writeFileSync(TRUSTED_FILE, settingsText());
    const r = await probe(['--hostname=from-cmdline', '-E', 'SPACED=cmd']);
    // -E replaces the file's whole environment (nspawn's rule), --hostname its hostname; the bind stays the file's.
    assert.equal(r.stdout, 'env=/cmd\nhost=from-cmdline\nfrom the host\n');
  });

  it('with --settings=override the file wins over the command line', async () => {
    writeFileSync(TRUSTED_FILE, settingsText());
    const r = await probe(['--settings=override', '--hostname=from-cmdline', '-E', 'SPACED=cmd', `--bind-ro=${scratch}/host-dir:/mnt/elsewhere`]);
    assert.equal(r.stdout, 'env=yes/a b\nhost=from-file\nfrom the host\n');
  });

  it('bad lines: one warning each naming file, line and key; the rest of the file applies', async () => {
    writeFileSync(TRUSTED_FILE, '[Exec]\nHostname=from-file\nBogus=1\nKillSignal=SIGNOPE\nSystemCallFilter=@nonsense\nnot a key value line\n[Nope]\nX=1\n');
    const r = await probe();
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /^host=from-file$/m);
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.deepEqual(
      lines.map((l) => l.slice(0, l.indexOf(': ', `tsnspawn: ${TRUSTED_FILE}`.length) + 1)),
      [3, 4, 5, 6, 7].map((n) => `tsnspawn: ${TRUSTED_FILE}:${n}:`),
      r.stderr,
    );
    assert.match(lines[0]!, /unknown key Bogus=/);
    assert.match(lines[1]!, /invalid KillSignal=SIGNOPE/);
    assert.match(lines[2]!, /invalid SystemCallFilter=@nonsense, ignoring it: unknown system call group @nonsense/);
  });

  it('a file that cannot be read: one error line, a non-zero exit, nothing started or left', async () => {
    mkdirSync(TRUSTED_FILE);
    const r = await probe();
    assertOneErrorLine(r, new RegExp(`cannot read the settings file ${TRUSTED_FILE.replace(/[.]/g, '\\.')}: not a regular file`));
    assert.equal(r.stdout, '');
  });
});
