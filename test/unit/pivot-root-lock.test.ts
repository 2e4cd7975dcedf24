/**
 * --pivot-root (parsing as nspawn's pivot_root_parse, the .nspawn key, the
 * guest view Node checks, the plan and its encoding) and the tree's lock
 * (nspawn's lock files and modes, the plan record). No root needed.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { buildPlan } from '../../src/plan/build.js';
import { encodePlan } from '../../src/plan/encode.js';
import { globalLockPath, localLockPath } from '../../src/plan/tree-lock.js';
import { pivotView, resolveInGuest } from '../../src/image/pivot-view.js';
import { settingsFromArgs } from '../../src/settings/from-args.js';
import { settingsFromFile } from '../../src/settings/from-file.js';
import { defaultSettings, type Settings } from '../../src/settings/model.js';
import { defaultNspawnEnvironment } from '../../src/settings/nspawn-environment.js';
import { parsePivotRoot } from '../../src/settings/pivot-root.js';
import { HELPER, samplePlanFacts, Scratch, throwsUserError } from './helpers.js';

async function parse(...argv: string[]): Promise<Settings> {
  const s = await settingsFromArgs(argv);
  assert.notEqual(s, 'exit');
  return s as Settings;
}

const plan = (over: Partial<Settings>) => buildPlan({ ...defaultSettings(), ...over }, samplePlanFacts());

function decode(text: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(HELPER, ['--decode'], { input: text, encoding: 'utf8', timeout: 10_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('--pivot-root=PATH[:OLDROOT]', () => {
  it('splits at the first colon as nspawn: the rest, colons and all, is OLDROOT; paths are tidied', () => {
    assert.deepEqual(parsePivotRoot('/os1'), { newRoot: '/os1' });
    assert.deepEqual(parsePivotRoot('/ostree/deploy/os/deploy/abc:/sysroot'), { newRoot: '/ostree/deploy/os/deploy/abc', oldRoot: '/sysroot' });
    assert.deepEqual(parsePivotRoot('/a//b/./:/x:y'), { newRoot: '/a/b', oldRoot: '/x:y' });
    // An empty OLDROOT is none (nspawn: isempty(p)).
    assert.deepEqual(parsePivotRoot('/os1:'), { newRoot: '/os1' });
  });

  it('refuses relative paths, an empty PATH and an OLDROOT of /, in one line naming the option', () => {
    throwsUserError(() => parsePivotRoot('os1'), '--pivot-root=os1', 'absolute');
    throwsUserError(() => parsePivotRoot(''), '--pivot-root=', 'absolute');
    throwsUserError(() => parsePivotRoot(':/x'), 'absolute');
    throwsUserError(() => parsePivotRoot('/os1:old'), '--pivot-root=/os1:old', 'absolute');
    throwsUserError(() => parsePivotRoot('/os1:/'), 'cover the new root');
    throwsUserError(() => parsePivotRoot('/os1:/.//'), 'cover the new root');
  });

  it('is an option of the command line and PivotRoot= of [Exec] in a .nspawn file', async () => {
    assert.deepEqual((await parse('-D', '/t', '--pivot-root=/os1:/sysroot')).pivotRoot, { newRoot: '/os1', oldRoot: '/sysroot' });
    const f = settingsFromFile('/etc/systemd/nspawn/m.nspawn', '[Exec]\nPivotRoot=/os2\n');
    assert.deepEqual(f.warnings, []);
    assert.deepEqual(f.values.pivotRoot, { newRoot: '/os2' });
    const bad = settingsFromFile('/etc/systemd/nspawn/m.nspawn', '[Exec]\nPivotRoot=os2\n');
    assert.equal(bad.warnings.length, 1);
    assert.match(bad.warnings[0]!, /PivotRoot/);
  });

  it('goes into the plan: the pivot first (the root mode on the new root), last with -x (inside the overlay of the whole tree)', () => {
    assert.deepEqual(plan({ pivotRoot: { newRoot: '/os1', oldRoot: '/sysroot' } }).pivotRoot, { newRoot: '/os1', oldRoot: '/sysroot', order: 'first' });
    assert.deepEqual(plan({ pivotRoot: { newRoot: '/os1' }, volatile: 'yes' }).pivotRoot, { newRoot: '/os1', order: 'first' });
    assert.deepEqual(plan({ pivotRoot: { newRoot: '/os1' }, ephemeral: true }).pivotRoot, { newRoot: '/os1', order: 'last' });
    assert.equal(plan({}).pivotRoot, undefined);
  });

  it('crosses to the helper intact (tsnspawn-helper --decode); a bad record is refused', () => {
    const p = plan({ pivotRoot: { newRoot: '/os 1/x', oldRoot: '/sys\troot' }, ephemeral: true });
    const r = decode(encodePlan(p));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).pivotRoot, { newRoot: '/os 1/x', oldRoot: '/sys\troot', order: 'last' });
    const plain = JSON.parse(decode(encodePlan(plan({ pivotRoot: { newRoot: '/os1' } }))).stdout);
    assert.deepEqual(plain.pivotRoot, { newRoot: '/os1', order: 'first' });
    const text = encodePlan(plan({})).replace('\nend\n', '\npivot-root\tsideways\t/os1\t\nend\n');
    const bad = decode(text);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /bad pivot-root record/);
  });

  describe('the view Node checks the tree through', () => {
    const scratch = new Scratch();
    after(() => scratch.remove());
    const t = scratch.tree('multi').dir('/os1/usr').dir('/os1/sysroot').file('/os1/etc/hostname', 'inner\n').file('/outer-only', 'x').link('/current', '/os1').file('/plain', '');

    it('resolves PATH inside the tree (symlinks too) and OLDROOT inside PATH', () => {
      const v = pivotView(t.root, { newRoot: '/current', oldRoot: '/sysroot' });
      assert.equal(v.root, t.host('/os1'));
      assert.equal(v.oldRoot, '/sysroot');
      assert.equal(resolveInGuest(v, '/etc/hostname')?.host, t.host('/os1/etc/hostname'));
      // Below OLDROOT: the whole tree.
      assert.equal(resolveInGuest(v, '/sysroot/outer-only')?.host, t.host('/outer-only'));
      assert.equal(resolveInGuest(v, '/outer-only'), undefined);
    });

    it('refuses a PATH that is missing or no directory, and an OLDROOT missing in PATH', () => {
      throwsUserError(() => pivotView(t.root, { newRoot: '/os2' }), '--pivot-root=/os2', 'does not exist');
      throwsUserError(() => pivotView(t.root, { newRoot: '/plain' }), 'is not a directory');
      throwsUserError(() => pivotView(t.root, { newRoot: '/os1', oldRoot: '/oldroot' }), '--pivot-root=/os1:/oldroot', 'create it');
    });
  });
});

describe("the tree's lock", () => {
  it("uses nspawn's two files: .#NAME.lck beside the tree and /run/systemd/nspawn/locks/inode-DEV:INO", () => {
    assert.equal(localLockPath('/var/lib/machines/deb'), '/var/lib/machines/.#deb.lck');
    assert.equal(localLockPath('/srv/trees/x/'), '/srv/trees/.#x.lck');
    assert.equal(globalLockPath({ dev: '66306', ino: '2' }), '/run/systemd/nspawn/locks/inode-66306:2');
  });

  it('is exclusive for a writable run, shared with --read-only, none with -x or SYSTEMD_NSPAWN_LOCK=0', () => {
    const files = { local: '/var/lib/machines/.#deb.lck', global: '/run/systemd/nspawn/locks/inode-66306:2' };
    assert.deepEqual(plan({}).treeLock, { mode: 'exclusive', ...files });
    assert.deepEqual(plan({ volatile: 'yes' }).treeLock, { mode: 'exclusive', ...files });
    assert.deepEqual(plan({ readOnly: true }).treeLock, { mode: 'shared', ...files });
    assert.equal(plan({ ephemeral: true }).treeLock, undefined);
    assert.equal(plan({ nspawnEnvironment: { ...defaultNspawnEnvironment(), lock: false } }).treeLock, undefined);
  });

  it('crosses to the helper intact; a bad record is refused', () => {
    const r = decode(encodePlan(plan({ readOnly: true })));
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).treeLock, { mode: 'shared', local: '/var/lib/machines/.#deb.lck', global: '/run/systemd/nspawn/locks/inode-66306:2' });
    const bad = decode(encodePlan(plan({})).replace('\ttree-lock\texclusive', '\ttree-lock\tsometimes').replace('tree-lock\texclusive', 'tree-lock\tsometimes'));
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /bad tree-lock record/);
  });
});
