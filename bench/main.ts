/**
 * `make bench`: every comparison in one run, printed as one table and
 * written to bench/results/ (latest.json when every section ran, and a
 * timestamped copy). BENCH_ONLY=start,boot,import,memory,many,registered,
 * ci-suite,userns,network picks sections (merge.ts then puts the partial
 * run's sections into latest.json); BENCH_RUNS=N sets every section's
 * number of alternating runs.
 * Not a test: there are no thresholds. Needs root, systemd-nspawn, runc, bwrap.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { startLatency } from './start-latency.js';
import { boot } from './boot.js';
import { importTar } from './import.js';
import { memory } from './memory.js';
import { many } from './many.js';
import { registered } from './registered.js';
import { ciSuite } from './ci-suite.js';
import { userns } from './userns.js';
import { network } from './network.js';
import { TOP } from './lib/env.js';
import { machine } from './lib/machine.js';
import { skipped, type Row } from './lib/row.js';
import { text, type Results } from './table.js';

const SECTIONS: [string, () => Promise<Row[]>][] = [
  ['start', startLatency],
  ['boot', boot],
  ['import', importTar],
  ['memory', memory],
  ['many', many],
  ['registered', registered],
  ['ci-suite', ciSuite],
  ['userns', userns],
  ['network', network],
];

const only = process.env.BENCH_ONLY?.split(',').filter(Boolean);
const unknown = only?.filter((s) => !SECTIONS.some(([n]) => n === s));
if (unknown?.length) {
  console.error(`bench: unknown section(s) ${unknown.join(', ')}; known: ${SECTIONS.map(([n]) => n).join(', ')}`);
  process.exit(2);
}

const t0 = Date.now();
const rows: Row[] = [];
for (const [name, fn] of SECTIONS) {
  if (only && !only.includes(name)) continue;
  const t = Date.now();
  process.stderr.write(`bench: ${name} ...`);
  try {
    rows.push(...(await fn()));
    process.stderr.write(` ${((Date.now() - t) / 1000).toFixed(0)} s\n`);
  } catch (e) {
    // A section that fails is a row that says why; the others still run.
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    process.stderr.write(` failed: ${why}\n`);
    rows.push(skipped(name, name, 'tsnspawn', '', why));
  }
}

const date = new Date();
const results: Results = { date: date.toISOString().replace(/\.\d+Z$/, 'Z'), seconds: (Date.now() - t0) / 1000, machine: machine(), rows };
const dir = `${TOP}/bench/results`;
mkdirSync(dir, { recursive: true });
const json = JSON.stringify(results, null, 2) + '\n';
const stamped = `${dir}/${results.date.replace(/[-:]/g, '')}.json`;
writeFileSync(stamped, json);
process.stderr.write(`bench: results in ${stamped}\n`);
if (!only) writeFileSync(`${dir}/latest.json`, json);
console.log(text(results));
