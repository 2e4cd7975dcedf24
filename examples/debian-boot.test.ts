/**
 * The API as a CI suite uses it: boot Debian 12 and Debian 13 side by side,
 * each on a throwaway overlay, check the booted system and a package's
 * command in each, power off cleanly. Needs root; the trees come from
 * images/build (built once, then cached).
 *
 * It imports the package by name, as a user's test would (Node resolves a
 * package's own name through its "exports").
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { boot } from 'tsnspawn';

const IMAGES_BUILD = fileURLToPath(new URL('../../images/build', import.meta.url));

/** The cached tree for a recipe: the last line images/build prints. */
function tree(recipe: string): string {
  return execFileSync(IMAGES_BUILD, [recipe], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
}

const releases = [
  { recipe: 'debian12', codename: 'bookworm' },
  { recipe: 'debian13', codename: 'trixie' },
];

// concurrency: the two releases boot at the same time, from one process.
describe('Debian releases boot and answer', { concurrency: true, skip: process.getuid?.() !== 0 && 'needs root' }, () => {
  for (const { recipe, codename } of releases) {
    it(`${recipe} (${codename})`, async (t) => {
      // t.signal: if the test times out or is cancelled, the container dies with it.
      await using c = await boot({ directory: tree(recipe), ephemeral: true, signal: t.signal });
      await c.ready({ timeout: 120_000, signal: t.signal });

      const state = await c.exec(['systemctl', 'is-system-running', '--wait'], { timeout: 120_000 });
      const failed = state.code === 0 ? '' : (await c.exec(['systemctl', '--failed', '--no-legend'])).stdout;
      assert.equal(state.stdout.trim(), 'running', `failed units:\n${failed}`);

      const release = await c.exec(['/bin/sh', '-c', '. /etc/os-release && echo $VERSION_CODENAME'], { check: true });
      assert.equal(release.stdout.trim(), codename);
      const apt = await c.exec(['apt-get', '--version'], { check: true });
      assert.match(apt.stdout, /^apt \d+\.\d+/);

      assert.equal(await c.poweroff({ timeout: 60_000 }), 0);
      assert.equal(c.exitInfo?.outcome, 'poweroff');
    });
  }
});
