/**
 * Boot to running and halt: Debian 12 and 13 under tsnspawn -b against
 * systemd-nspawn -b, and Debian 12 with -x against systemd-nspawn -x, each
 * alternating in the same run. Writable boots run on a private copy of the
 * cached tree, so the shared cache stays pristine.
 */
import { hasRecipe, image, runs, withTreeCopy } from './lib/env.js';
import { bootOnce } from './lib/boot.js';
import { alternate } from './lib/run.js';
import { row, skipped, type Row } from './lib/row.js';

const SECTION = 'boot';

async function compare(measure: string, tree: string, extra: string[], rounds: number, note: string): Promise<Row> {
  const [a, b] = await alternate(rounds, [
    async () => (await bootOnce('tsnspawn', tree, extra)).ms,
    async () => (await bootOnce('systemd-nspawn', tree, extra)).ms,
  ]);
  return row(SECTION, measure, 'ms', 'tsnspawn', a!, 'systemd-nspawn', b!, note);
}

export async function boot(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const release of ['debian12', 'debian13']) {
    const measure = `boot ${release} to running, halt`;
    if (!hasRecipe(release)) {
      rows.push(skipped(SECTION, measure, 'tsnspawn', 'systemd-nspawn', `no recipe images/${release}`));
      continue;
    }
    await withTreeCopy(image(release), async (copy) => {
      rows.push(await compare(measure, copy, [], runs(5), 'writable copy of the tree, --console=pipe, SIGTERM once running'));
      // -x inside the scratch copy, so systemd-nspawn's own copy of it lands there too.
      if (release === 'debian12') rows.push(await compare(`boot -x ${release} to running, halt`, copy, ['-x'], runs(3), 'both -x; systemd-nspawn copies the tree (not btrfs)'));
    });
  }
  return rows;
}
