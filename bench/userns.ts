/**
 * Start latency with a user namespace: `/bin/true` with -U, tsnspawn (a
 * picked 64K range, the tree mounted idmapped: nothing on disk changes)
 * against systemd-nspawn -U (pick, ownership auto: idmapped where the file
 * system allows, else it chowns the tree), and against systemd-nspawn with
 * --private-users-ownership=chown, which chowns every file of the tree to
 * the picked range on its first run and keeps the tree that way (later runs
 * see the range in the top directory's owner and skip the walk).
 *
 * On the busybox tree and on the Debian 12 tree, each on copies made here
 * (the cached trees are shared and must not be chowned):
 * - first run: every run on a fresh copy (copied before the clock starts);
 * - later runs: each manager on its own copy, used for every run (the
 *   chown happens in a run before the loop);
 * - both managers without -U on another copy, as the reference of what -U adds;
 * - tsnspawn --private-users-ownership=chown against nspawn's, first and later runs.
 */
import { hasRecipe, image, NSPAWN, runs, TSNSPAWN } from './lib/env.js';
import { ownerOf, TreeCopies, type TreeFacts } from './lib/copies.js';
import { alternate, timeOnce, type Command } from './lib/run.js';
import { row, skipped, type Row } from './lib/row.js';

const SECTION = 'userns';
const COMMON = ['--register=no', '--keep-unit', '-q'];

type Variant = 'tsnspawn -U' | 'systemd-nspawn -U' | 'tsnspawn -U, chown' | 'systemd-nspawn -U, chown' | 'tsnspawn' | 'systemd-nspawn';

const ARGS: Record<Variant, [string, string[]]> = {
  'tsnspawn -U': [TSNSPAWN, ['-U']],
  'systemd-nspawn -U': [NSPAWN, ['-U']],
  // What -U does where the file system has no idmapped mounts.
  'systemd-nspawn -U, chown': [NSPAWN, ['--private-users=pick', '--private-users-ownership=chown']],
  'tsnspawn -U, chown': [TSNSPAWN, ['--private-users=pick', '--private-users-ownership=chown']],
  tsnspawn: [TSNSPAWN, []],
  'systemd-nspawn': [NSPAWN, []],
};

const command = (v: Variant, tree: string): Command => [ARGS[v][0], [...COMMON, ...ARGS[v][1], '-D', tree, '/bin/true']];

interface Timed {
  ms: number;
  /** The owner of the tree's top directory after the run. */
  owner: number;
}

/** One run on a fresh copy, removed after; the copy is made before the clock starts. */
function firstRun(copies: TreeCopies, v: Variant): Timed {
  const tree = copies.fresh();
  try {
    const ms = timeOnce(command(v, tree));
    return { ms, owner: ownerOf(tree) };
  } finally {
    copies.drop(tree);
  }
}

/** What the runs of one variant did to their trees, for the notes. */
function ownership(samples: Timed[]): string {
  const chowned = samples.filter((s) => s.owner !== 0).length;
  if (chowned === 0) return 'owned by root (idmapped, not chowned)';
  if (chowned === samples.length) return 'chowned to the picked range';
  return `${chowned} of ${samples.length} chowned`;
}

/** BENCH_VERBOSE: where a section's wall time goes (copies, syncs, runs). */
function phase(label: string, what: string, t0: number): number {
  const now = Date.now();
  if (process.env.BENCH_VERBOSE) process.stderr.write(`\nuserns ${label}: ${what} ${now - t0} ms`);
  return now;
}

async function compareOn(label: string, cached: string, prune: string[], firstRounds: number, laterRounds: number): Promise<Row[]> {
  let t = Date.now();
  const copies = new TreeCopies(cached, `userns-${label.replace(/\W+/g, '')}`, prune);
  try {
    const facts: TreeFacts = copies.facts();
    t = phase(label, 'base copy and its size', t);
    const size = `${facts.mib.toFixed(0)} MiB, ${facts.inodes} inodes`;

    const [tF, uF, cF, tcF] = await alternate(firstRounds, [
      () => firstRun(copies, 'tsnspawn -U'),
      () => firstRun(copies, 'systemd-nspawn -U'),
      () => firstRun(copies, 'systemd-nspawn -U, chown'),
      () => firstRun(copies, 'tsnspawn -U, chown'),
    ]);

    t = phase(label, `${firstRounds + 1} rounds of first runs`, t);
    const own = { tU: copies.fresh(), nU: copies.fresh(), nC: copies.fresh(), tC: copies.fresh(), plain: copies.fresh() };
    const later = (v: Variant, tree: string) => (): Timed => ({ ms: timeOnce(command(v, tree)), owner: ownerOf(tree) });
    // The chown before the loop, and its writeback too (alternate's warm-up run then finds the tree chowned).
    timeOnce(command('systemd-nspawn -U, chown', own.nC));
    timeOnce(command('tsnspawn -U, chown', own.tC));
    copies.sync();
    const [tL, uL, cL, tcL, tP, nP] = await alternate(laterRounds, [
      later('tsnspawn -U', own.tU),
      later('systemd-nspawn -U', own.nU),
      later('systemd-nspawn -U, chown', own.nC),
      later('tsnspawn -U, chown', own.tC),
      later('tsnspawn', own.plain),
      later('systemd-nspawn', own.plain),
    ]);
    phase(label, `copies and ${laterRounds + 1} rounds of later runs`, t);
    if (ownerOf(own.tU) !== 0) throw new Error(`tsnspawn -U changed the owner of its tree ${own.tU} to ${ownerOf(own.tU)}`);

    const ms = (xs: Timed[]): number[] => xs.map((x) => x.ms);
    const first = `start -U /bin/true (${label}): first run on a fresh copy`;
    const again = `start -U /bin/true (${label}): later runs`;
    return [
      row(SECTION, first, 'ms', 'tsnspawn -U', ms(tF!), 'systemd-nspawn -U', ms(uF!),
        `${label} tree, ${size}; both -U (pick); each run on a fresh copy, made and synced before the clock starts; afterwards systemd-nspawn -U's copies were ${ownership(uF!)}, tsnspawn's ${ownership(tF!)}`),
      row(SECTION, first, 'ms', 'tsnspawn -U', ms(tF!), 'systemd-nspawn -U, chown', ms(cF!),
        `systemd-nspawn --private-users=pick --private-users-ownership=chown (what its -U does without idmapped mounts); afterwards its fresh copies were ${ownership(cF!)}`),
      row(SECTION, first, 'ms', 'tsnspawn -U, chown', ms(tcF!), 'systemd-nspawn -U, chown', ms(cF!),
        `both --private-users=pick --private-users-ownership=chown: each walks its fresh copy and shifts every file into the range; afterwards tsnspawn's copies were ${ownership(tcF!)}`),
      row(SECTION, again, 'ms', 'tsnspawn -U', ms(tL!), 'systemd-nspawn -U', ms(uL!),
        'each manager on its own copy, the same for every run'),
      row(SECTION, again, 'ms', 'tsnspawn -U', ms(tL!), 'systemd-nspawn -U, chown', ms(cL!),
        `systemd-nspawn's copy was chowned by a run before the loop (after the runs: ${ownership(cL!)}); it finds the range in the top directory's owner and skips the walk`),
      row(SECTION, again, 'ms', 'tsnspawn -U, chown', ms(tcL!), 'systemd-nspawn -U, chown', ms(cL!),
        `both on copies chowned by a run before the loop (after the runs: tsnspawn's ${ownership(tcL!)}); pick takes the range the tree is owned by, and neither walks it again`),
      row(SECTION, `start /bin/true (${label}), no user namespace`, 'ms', 'tsnspawn', ms(tP!), 'systemd-nspawn', ms(nP!),
        'reference for what -U adds: both on one more copy, in the same loop as the later runs'),
    ];
  } finally {
    copies.remove();
  }
}

export async function userns(): Promise<Row[]> {
  const rows = await compareOn('busybox', image('busybox'), [], runs(10), runs(30));
  if (!hasRecipe('debian12')) return [...rows, skipped(SECTION, 'start -U /bin/true (Debian 12)', 'tsnspawn -U', 'systemd-nspawn -U', 'no recipe images/debian12')];
  // The journal the shared cache collected from earlier boots is left out: the tree as built.
  return [...rows, ...(await compareOn('Debian 12', image('debian12'), ['var/log/journal'], runs(10), runs(20)))];
}
