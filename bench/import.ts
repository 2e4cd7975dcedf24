/**
 * import-tar against GNU tar alone, extracting the same Debian 12 archive
 * (plain and zstd) onto tmpfs (/dev/shm), alternating. This 2-CPU machine's
 * tar times are bimodal, so the minima are worth reading beside the medians;
 * tsnspawn's peak RSS goes into the note.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { archives } from '../test/harness/archives.js';
import { hasRecipe, runs, TSNSPAWN } from './lib/env.js';
import { alternate } from './lib/run.js';
import { row, skipped, type Row } from './lib/row.js';

const SECTION = 'import';
const DEST = '/dev/shm/tsnspawn-bench-import';
const GNU_TAR = `tar --xattrs --xattrs-include='*' --numeric-owner -xpf`;

let peakKiB = 0;

function timed(cmd: string, args: string[]): number {
  rmSync(DEST, { recursive: true, force: true });
  mkdirSync(DEST, { recursive: true });
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/usr/bin/time', ['-f', '%M', cmd, ...args], { encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  if (cmd === TSNSPAWN) peakKiB = Math.max(peakKiB, Number(r.stderr.trim().split('\n').pop()));
  return ms;
}

export async function importTar(): Promise<Row[]> {
  if (!hasRecipe('debian12')) return [skipped(SECTION, 'import-tar', 'tsnspawn', 'GNU tar', 'no recipe images/debian12')];
  const files = archives();
  const size = Number(execFileSync('stat', ['-c', '%s', files.tar!], { encoding: 'utf8' })) / 2 ** 20;
  const rows: Row[] = [];
  try {
    for (const [label, file, gnu] of [
      ['plain', files.tar!, `${GNU_TAR} "${files.tar}" -C ${DEST}/t`],
      ['zstd', files.zstd!, `zstd -dcq "${files.zstd}" | ${GNU_TAR} - -C ${DEST}/t`],
    ] as const) {
      peakKiB = 0;
      const [a, b] = await alternate(runs(11), [
        () => timed(TSNSPAWN, ['import-tar', '-q', `--output=${DEST}/t`, file]),
        () => timed('sh', ['-c', `mkdir ${DEST}/t && ${gnu}`]),
      ]);
      const note = `${size.toFixed(0)} MiB archive of the Debian 12 tree, extracted onto tmpfs; tsnspawn peak RSS ${(peakKiB / 1024).toFixed(0)} MiB`;
      rows.push(row(SECTION, `import-tar, ${label} archive`, 'ms', 'tsnspawn', a!, 'GNU tar', b!, note));
    }
  } finally {
    rmSync(DEST, { recursive: true, force: true });
  }
  return rows;
}
