/**
 * The tsnspawn this module belongs to, found from the module's own place
 * (dist/api/ or dist/src/api/ in a checkout or an installed package), so a
 * test runs the build it imports and not whatever is on PATH.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest directory above this module with bin/tsnspawn-npm. */
function packageRoot(): string {
  let dir = fileURLToPath(new URL('.', import.meta.url));
  for (let i = 0; i < 5; i++) {
    dir = dir.replace(/\/[^/]+\/?$/, '');
    if (existsSync(`${dir}/bin/tsnspawn-npm`)) return dir;
  }
  throw new Error(`tsnspawn: cannot find the package root above ${fileURLToPath(import.meta.url)}`);
}

/**
 * bin/tsnspawn in a checkout (a symlink to the helper, which is the launcher
 * under that name); in an npm install only bin/tsnspawn-npm exists, a shell
 * script that execs the helper in its own pid. Either way the pid we spawn
 * is tsnspawn's, so signalling it signals tsnspawn.
 */
export function tsnspawnPath(): string {
  if (process.env.TSNSPAWN_BIN) return process.env.TSNSPAWN_BIN;
  const root = packageRoot();
  return existsSync(`${root}/bin/tsnspawn`) ? `${root}/bin/tsnspawn` : `${root}/bin/tsnspawn-npm`;
}

/**
 * util-linux's setpriv, to give tsnspawn a parent-death signal (SIGTERM): Node cannot
 * set PR_SET_PDEATHSIG itself, and a test runner killed by SIGKILL runs no
 * exit handler. setpriv execs, so the pid stays tsnspawn's.
 */
export function setprivPath(): string | undefined {
  for (const p of ['/usr/bin/setpriv', '/bin/setpriv']) if (existsSync(p)) return p;
  return undefined;
}
