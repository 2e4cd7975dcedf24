/**
 * Manager memory while a booted Debian 12 guest idles: once the guest is
 * running and has settled, the summed RSS and PSS of every process on the
 * manager's side (lib/procs.ts), tsnspawn against systemd-nspawn, alternating.
 */
import { hasRecipe, image, runs, withTreeCopy } from './lib/env.js';
import { bootOnce, type Manager } from './lib/boot.js';
import { managerSide, sumMiB, type Proc } from './lib/procs.js';
import { alternate, sleep } from './lib/run.js';
import { row, skipped, type Row } from './lib/row.js';
import { median } from './lib/stats.js';

const SECTION = 'memory';
const SETTLE_MS = 3000;

interface Sample {
  rss: number;
  pss: number;
  procs: Proc[];
}

async function sample(manager: Manager, tree: string): Promise<Sample> {
  const { up } = await bootOnce(manager, tree, [], async (m) => {
    await sleep(SETTLE_MS);
    const side = managerSide([m.pid]);
    if (side.inits.length !== 1) throw new Error(`${manager}: found ${side.inits.length} container inits below pid ${m.pid}`);
    return side.procs;
  });
  const procs = up!;
  return { rss: sumMiB(procs, 'rssKiB'), pss: sumMiB(procs, 'pssKiB'), procs };
}

/** "node 50.1 + 2 tsnspawn-helper 1.6": median RSS per executable, with the number of processes when not 1. */
function breakdown(samples: Sample[]): string {
  const names = [...new Set(samples.flatMap((s) => s.procs.map((p) => p.name)))];
  return names
    .map((n) => {
      const count = median(samples.map((s) => s.procs.filter((p) => p.name === n).length));
      const mib = median(samples.map((s) => s.procs.filter((p) => p.name === n).reduce((t, p) => t + p.rssKiB, 0) / 1024));
      return `${count === 1 ? '' : `${count} `}${n} ${mib.toFixed(1)}`;
    })
    .join(' + ');
}

export async function memory(): Promise<Row[]> {
  const measure = 'manager memory, Debian 12 booted and idle';
  if (!hasRecipe('debian12')) return [skipped(SECTION, measure, 'tsnspawn', 'systemd-nspawn', 'no recipe images/debian12')];
  return withTreeCopy(image('debian12'), async (tree) => {
    const [a, b] = await alternate(runs(3), [() => sample('tsnspawn', tree), () => sample('systemd-nspawn', tree)]);
    const note = `RSS MiB by process: tsnspawn ${breakdown(a!)}; systemd-nspawn ${breakdown(b!)}; measured ${SETTLE_MS / 1000} s after running`;
    return [
      row(SECTION, `${measure} (RSS)`, 'MiB', 'tsnspawn', a!.map((s) => s.rss), 'systemd-nspawn', b!.map((s) => s.rss), note),
      row(SECTION, `${measure} (PSS)`, 'MiB', 'tsnspawn', a!.map((s) => s.pss), 'systemd-nspawn', b!.map((s) => s.pss)),
    ];
  });
}
