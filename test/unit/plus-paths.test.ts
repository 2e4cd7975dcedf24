/** '+' sources (paths inside the container's tree) of --bind and --overlay: parsing and their plan ops. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bootOps } from '../../src/plan/boot.js';
import { buildPlan } from '../../src/plan/build.js';
import type { MountOp } from '../../src/plan/types.js';
import { defaultSettings, type Settings } from '../../src/settings/model.js';
import { parseBind, parseOverlay } from '../../src/settings/values.js';
import { UserError } from '../../src/util/errors.js';
import { samplePlanFacts } from './helpers.js';

function userOps(s: Settings): MountOp[] {
  const plan = buildPlan(
    s,
    samplePlanFacts({
      argv: ['sh'],
      console: 'pipe',
      defaultCwd: '/',
      hostOsRelease: { ID: 'debian' },
      hostTerm: 'xterm',
      bootOps: bootOps('0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9'),
    }),
  );
  return plan.ops.filter((o) => ('target' in o && ['/mnt', '/opt'].includes(o.target)) || (o.kind === 'mkdir' && o.path.startsWith('/srv')));
}

describe("'+' sources", () => {
  it('parse with the + kept and the path normalised; host paths as before', () => {
    assert.equal(parseBind('+/srv//data/', false).source, '+/srv/data');
    assert.equal(parseBind('+/srv/data', false).destination, '/srv/data', 'no destination: the same path inside');
    assert.equal(parseBind('/srv/data', false).source, '/srv/data');
    assert.deepEqual(parseOverlay('+/usr:/host/up:/usr', false), { lowers: ['+/usr'], upper: '/host/up', destination: '/usr', option: '--overlay=+/usr:/host/up:/usr' });
    assert.deepEqual(parseOverlay('/a:+/b:/mnt', true).lowers, ['/a', '+/b']);
    assert.equal(parseOverlay('+/a::/mnt', false).upper, '');
  });

  it('refuse a relative path after +, naming the option and the path; take a relative host path from the working directory', () => {
    assert.throws(() => parseBind('+srv', false), (e: unknown) => e instanceof UserError && /^invalid --bind=\+srv: '\+srv': after '\+' give an absolute path inside the container$/.test(e.message));
    assert.deepEqual(parseOverlay('rel:/up:/mnt', false).lowers, [`${process.cwd()}/rel`], 'a relative host path is taken from the working directory, as nspawn');
    assert.equal(parseBind('srv/x', false).destination, `${process.cwd()}/srv/x`);
    assert.throws(() => parseBind('', false), /invalid --bind=: give a source path/);
    assert.throws(() => parseOverlay('+/a:+:/mnt', false), /'\+': after '\+' give a path inside the container/);
  });

  it("a '+' bind is opened inside the tree (bind-inner), a host one on the host", () => {
    const s = defaultSettings();
    s.binds.push(parseBind('+/srv/data:/mnt', true), parseBind('/srv/data:/opt', false));
    const ops = userOps(s);
    assert.deepEqual(ops.map((o) => [o.kind, 'source' in o ? o.source : '', 'flags' in o && o.flags.includes('tree')]), [
      ['bind-inner', '/srv/data', true],
      ['bind', '/srv/data', false],
    ]);
  });

  it("an upper ('+' or host) goes to the helper as given: it makes the work directory (random name) itself", () => {
    const s = defaultSettings();
    s.overlays.push(parseOverlay('+/srv/low:+/srv/up:/mnt', false), parseOverlay('/srv/low:/srv/up:/opt', false));
    assert.deepEqual(userOps(s), [
      { kind: 'overlay', target: '/mnt', upper: '+/srv/up', lowers: ['+/srv/low'] },
      { kind: 'overlay', target: '/opt', upper: '/srv/up', lowers: ['/srv/low'] },
    ]);
  });

  it("with -x (an overlayfs root, no upper layer possible on it) a '+' upper becomes the top lower (optional) under a tmpfs", () => {
    const s = defaultSettings();
    s.ephemeral = true;
    s.overlays.push(parseOverlay('+/srv/low:+/srv/up:/mnt', false));
    assert.deepEqual(userOps(s), [{ kind: 'overlay', target: '/mnt', upper: '', lowers: ['+/srv/low', '?+/srv/up'] }]);
  });
});
