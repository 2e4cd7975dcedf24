/**
 * `node dist/bench/merge.js FILE`: puts the sections of a partial run
 * (`BENCH_ONLY=...`, its timestamped results file) into
 * bench/results/latest.json (lib/merge.ts) and prints the table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { TOP } from './lib/env.js';
import { merge } from './lib/merge.js';
import { text, type Results } from './table.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: node dist/bench/merge.js bench/results/TIMESTAMP.json (a BENCH_ONLY run)');
  process.exit(2);
}
const target = `${TOP}/bench/results/latest.json`;
let merged: Results;
try {
  merged = merge(JSON.parse(readFileSync(target, 'utf8')) as Results, JSON.parse(readFileSync(file, 'utf8')) as Results);
} catch (e) {
  console.error(`bench: cannot merge ${file} into ${target}: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
}
writeFileSync(target, JSON.stringify(merged, null, 2) + '\n');
console.log(text(merged));
