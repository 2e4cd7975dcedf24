/**
 * nspawn's options brought in by issue 15, parsing and plan: --inaccessible
 * (and Inaccessible=). The integration tests (test/integration/nspawn-parity)
 * check that each takes effect in a container.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { settingsFromArgs } from '../../src/settings/from-args.js';
import { settingsFromFile } from '../../src/settings/from-file.js';
import type { Settings } from '../../src/settings/model.js';
import { buildPlan } from '../../src/plan/build.js';
import { INACCESSIBLE_DIR } from '../../src/plan/mount-table.js';
import { rejectsUserError, samplePlanFacts } from './helpers.js';

async function parse(...argv: string[]): Promise<Settings> {
  const s = await settingsFromArgs(argv);
  assert.notEqual(s, 'exit');
  return s as Settings;
}

describe('--inaccessible', () => {
  it('takes absolute paths, normalised, in order, each naming its option', async () => {
    const s = await parse('--inaccessible=/etc//shadow/', '--inaccessible', '/home');
    assert.deepEqual(s.inaccessible, [
      { path: '/etc/shadow', option: '--inaccessible=/etc//shadow/' },
      { path: '/home', option: '--inaccessible=/home' },
    ]);
    assert.ok(s.setOnCommandLine.has('custom-mounts'), 'a custom mount, as nspawn: a file\'s mounts are then left alone');
  });

  it('refuses a relative path, one with .., and the root', async () => {
    await rejectsUserError(() => parse('--inaccessible=etc'), 'invalid --inaccessible=etc: use an absolute path');
    await rejectsUserError(() => parse('--inaccessible=/etc/../x'), "must not contain '..'");
    await rejectsUserError(() => parse('--inaccessible=//'), "the container's root cannot be made inaccessible");
  });

  it('Inaccessible= in a .nspawn file: a custom mount naming file and line', () => {
    const r = settingsFromFile('/etc/systemd/nspawn/m.nspawn', '[Files]\nInaccessible=/srv/secret\n');
    assert.deepEqual(r.values.inaccessible, [{ path: '/srv/secret', option: 'Inaccessible=/srv/secret (/etc/systemd/nspawn/m.nspawn:2)' }]);
  });

  it('plans a read-only by-type bind from /run/host/inaccessible, after the other mounts at the same depth and after their parents', async () => {
    const s = await parse('--inaccessible=/srv/a/secret', '--tmpfs=/srv/a', '--bind=/tmp:/srv/b', '--inaccessible=/srv/b');
    const ops = buildPlan(s, samplePlanFacts()).ops;
    const idx = (target: string, kind: string): number => ops.findIndex((o) => o.kind === kind && 'target' in o && o.target === target);
    assert.deepEqual(ops[idx('/srv/a/secret', 'bind-inner')], { kind: 'bind-inner', source: INACCESSIBLE_DIR, target: '/srv/a/secret', flags: ['ro', 'by-type'] });
    assert.ok(idx('/srv/a', 'mount') < idx('/srv/a/secret', 'bind-inner'), 'the tmpfs it lies on first');
    assert.ok(idx('/srv/b', 'bind') < idx('/srv/b', 'bind-inner'), 'the bind at the same path first (nspawn: CUSTOM_MOUNT_INACCESSIBLE after BIND)');
    const nodes = ops.findIndex((o) => o.kind === 'mkdir' && o.path === INACCESSIBLE_DIR);
    assert.ok(nodes >= 0 && nodes < idx('/srv/b', 'bind-inner'), 'the nodes exist before');
  });
});

describe('--suppress-sync', () => {
  it('takes a boolean; the later one wins; it marks its own group', async () => {
    assert.equal((await parse('--suppress-sync=yes')).suppressSync, true);
    assert.equal((await parse('--suppress-sync=1', '--suppress-sync', 'off')).suppressSync, false);
    assert.equal((await parse()).suppressSync, false);
    assert.ok((await parse('--suppress-sync=no')).setOnCommandLine.has('suppress-sync'));
    await rejectsUserError(() => parse('--suppress-sync=maybe'), 'invalid --suppress-sync=maybe: use yes or no');
  });

  it('reaches the plan only when on, whatever SYSTEMD_SECCOMP says of the default filter', async () => {
    const on = await parse('--suppress-sync=yes');
    on.syscallFilter = false;
    const plan = buildPlan(on, samplePlanFacts());
    assert.equal(plan.suppressSync, true);
    assert.equal(plan.syscallFilter, false);
    assert.equal(buildPlan(await parse(), samplePlanFacts()).suppressSync, undefined);
  });
});

describe('--template', () => {
  it('takes a path; an empty one is refused', async () => {
    assert.equal((await parse('--template=/var/lib/machines/base', '-D', '/x')).template, '/var/lib/machines/base');
    await rejectsUserError(() => parse('--template='), 'invalid --template=');
  });

  it('fills -D, else -M\'s directory under /var/lib/machines (as nspawn), else refuses', async () => {
    const { templateTarget } = await import('../../src/image/template.js');
    assert.equal(templateTarget('/srv/new/', 'ignored', '/t'), '/srv/new');
    assert.equal(templateTarget(undefined, 'web', '/t'), '/var/lib/machines/web');
    assert.throws(() => templateTarget(undefined, undefined, '/t'), /cannot use --template=\/t without -D or -M/);
  });
});
