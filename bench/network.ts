/**
 * Start latency with a veth pair: `/bin/true` in the busybox tree with -n,
 * tsnspawn against systemd-nspawn -n, and both without -n as the reference
 * of what the veth adds, alternating. What is measured is making the pair
 * (host side ve-NAME, host0 moved into the container), and removing it when
 * the container ends; nothing configures the links (no systemd-networkd here).
 *
 * The whole loop runs in a network namespace of its own (`unshare --net`
 * around a second run of this file with --inner), so no link ever appears
 * among the host's interfaces; the namespace goes away with that process.
 * The inner run checks first that each manager's container sees host0, and
 * lists the namespace's links after the loop: anything but lo left behind
 * fails the section.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { image, NSPAWN, runs, TSNSPAWN } from './lib/env.js';
import { TreeCopies } from './lib/copies.js';
import { alternate, timeOnce, type Command } from './lib/run.js';
import { row, type Row } from './lib/row.js';

const SECTION = 'network';
const MEASURE = 'start -n /bin/true (busybox tree)';
const COMMON = ['--register=no', '--keep-unit', '-q'];

interface InnerResult {
  /** ms: tsnspawn -n, systemd-nspawn -n, tsnspawn, systemd-nspawn. */
  samples: number[][];
  /** `ip -o link` names in the namespace after the loop. */
  linksAfter: string[];
}

const links = (): string[] =>
  execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(':')[1]!.trim().replace(/@.*$/, ''));

/** Runs inside the namespace: the sanity check, the loop, the leftover links. */
async function inner(tree: string, rounds: number): Promise<InnerResult> {
  if (!existsSync('/etc/machine-id')) throw new Error('no /etc/machine-id: both managers derive the veth MAC addresses from it');
  const before = links();
  if (before.join() !== 'lo') throw new Error(`not in a fresh network namespace: links ${before.join(', ')}`);
  const cmd = (manager: string, extra: string[], payload: string[]): Command => [manager, [...COMMON, ...extra, '-D', tree, ...payload]];
  // The pair is really made: the container has host0 (its own /sys shows its own namespace).
  for (const m of [TSNSPAWN, NSPAWN]) timeOnce(cmd(m, ['-n'], ['/bin/sh', '-c', 'test -e /sys/class/net/host0']));
  const samples = await alternate(rounds, [
    () => timeOnce(cmd(TSNSPAWN, ['-n'], ['/bin/true'])),
    () => timeOnce(cmd(NSPAWN, ['-n'], ['/bin/true'])),
    () => timeOnce(cmd(TSNSPAWN, [], ['/bin/true'])),
    () => timeOnce(cmd(NSPAWN, [], ['/bin/true'])),
  ]);
  return { samples, linksAfter: links() };
}

export async function network(): Promise<Row[]> {
  const copies = new TreeCopies(image('busybox'), 'network');
  try {
    const out = execFileSync('unshare', ['--net', '--', process.execPath, fileURLToPath(import.meta.url), '--inner', copies.base, String(runs(30))], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 16 << 20,
    });
    const res = JSON.parse(out) as InnerResult;
    const left = res.linksAfter.filter((l) => l !== 'lo');
    if (left.length) throw new Error(`links left in the bench's network namespace: ${left.join(', ')}`);
    const [tN, nN, tP, nP] = res.samples;
    return [
      row(SECTION, MEASURE, 'ms', 'tsnspawn -n', tN!, 'systemd-nspawn -n', nN!,
        "in a network namespace of the bench's (unshare --net); host side ve-NAME left unconfigured; both checked to give the container host0"),
      row(SECTION, 'start /bin/true (busybox tree), same namespace, no -n', 'ms', 'tsnspawn', tP!, 'systemd-nspawn', nP!,
        'reference for what -n adds: the same loop, without -n'),
    ];
  } finally {
    copies.remove();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--inner') {
  const [tree, rounds] = process.argv.slice(3);
  process.stdout.write(JSON.stringify(await inner(tree!, Number(rounds))) + '\n');
}
