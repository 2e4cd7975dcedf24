/**
 * Removing recorded overlay work directories (src/runtime/workdirs.ts):
 * only the directory that was made (same device and inode), only names of
 * ours, never through a symlink; a name recorded before it was made goes
 * only while empty.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { noteWorkdir, removeRecordedWorkdir, workdirArgs, type RecordedWorkdir } from '../../src/runtime/workdirs.js';

describe('overlay work directories recorded by Node', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(`${tmpdir()}/workdirs-test-`)));
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A work directory as overlayfs leaves it (work/ with a file), recorded with its identity. */
  function made(name: string): RecordedWorkdir {
    const path = `${dir}/${name}`;
    mkdirSync(`${path}/work/deep`, { recursive: true, mode: 0o700 });
    writeFileSync(`${path}/work/deep/file`, 'x');
    const st = statSync(path, { bigint: true });
    return { path, dev: String(st.dev), ino: String(st.ino) };
  }

  it('removes the directory that was made, with what overlayfs left in it', () => {
    const w = made('.#tsnspawn-work-00aa');
    assert.equal(removeRecordedWorkdir(w), true);
    assert.equal(existsSync(w.path), false);
  });

  it('leaves a directory put in its place (another inode) alone', () => {
    const w = made('.#tsnspawn-work-00bb');
    // Moved away (kept, so its inode number is not handed out again) and replaced.
    renameSync(w.path, `${dir}/moved-away`);
    mkdirSync(`${w.path}/someone-elses`, { recursive: true });
    assert.equal(removeRecordedWorkdir(w), true, 'not ours: nothing to wait for');
    assert.deepEqual(readdirSync(w.path), ['someone-elses']);
  });

  it('never follows a symlink put in its place', () => {
    const target = mkdtempSync(`${dir}/target-`);
    writeFileSync(`${target}/keep`, 'x');
    const w = made('.#tsnspawn-work-00cc');
    renameSync(w.path, `${dir}/moved-away-too`);
    symlinkSync(target, w.path);
    assert.equal(removeRecordedWorkdir(w), true);
    assert.deepEqual(readdirSync(target), ['keep']);
  });

  it('touches nothing but names of its own', () => {
    const w = made('not-a-workdir');
    assert.equal(removeRecordedWorkdir(w), true);
    assert.equal(existsSync(`${w.path}/work/deep/file`), true);
  });

  it('a name recorded before it was made: removed only while empty', () => {
    mkdirSync(`${dir}/.#tsnspawn-work-00dd`);
    assert.equal(removeRecordedWorkdir({ path: `${dir}/.#tsnspawn-work-00dd` }), true);
    assert.equal(existsSync(`${dir}/.#tsnspawn-work-00dd`), false);
    mkdirSync(`${dir}/.#tsnspawn-work-00ee/x`, { recursive: true });
    removeRecordedWorkdir({ path: `${dir}/.#tsnspawn-work-00ee` });
    assert.equal(existsSync(`${dir}/.#tsnspawn-work-00ee/x`), true);
  });

  it('a name, then its identity: one entry; only made ones go to the supervisor', () => {
    const list: RecordedWorkdir[] = [];
    noteWorkdir(list, { path: '/a/.#tsnspawn-work-1' });
    noteWorkdir(list, { path: '/b/.#tsnspawn-work-2' });
    noteWorkdir(list, { path: '/a/.#tsnspawn-work-1', dev: '5', ino: '7' });
    assert.deepEqual(list, [{ path: '/a/.#tsnspawn-work-1', dev: '5', ino: '7' }, { path: '/b/.#tsnspawn-work-2' }]);
    assert.deepEqual(workdirArgs(list), ['--workdir', '5:7:/a/.#tsnspawn-work-1']);
  });
});
