/**
 * `node dist/bench/merge.js FILE`: puts the sections of a partial run
 * (`BENCH_ONLY=...`, its timestamped results file) into
 * bench/results/latest.json, replacing those sections' rows there (a new
 * section's rows go at the end), and records when and on which commit they
 * were measured (the table's footer says so). Refuses a run from another
 * machine or other program versions: its ratios would not be comparable.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { TOP } from './lib/env.js';
import type { Machine } from './lib/machine.js';
import type { Row } from './lib/row.js';
import { text, type Results } from './table.js';

/** Everything of the machine but the tsnspawn commit must match. */
function sameMachine(a: Machine, b: Machine): string | null {
  const keys = ['nproc', 'cpu', 'memGiB', 'kernel', 'debian', 'versions'] as const;
  for (const k of keys) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return `${k}: ${JSON.stringify(a[k])} here, ${JSON.stringify(b[k])} in latest.json`;
  return null;
}

export function merge(latest: Results, part: Results): Results {
  const why = sameMachine(part.machine, latest.machine);
  if (why) throw new Error(`cannot merge: measured on another machine or with other versions (${why}); run the whole bench instead`);
  const sections = [...new Set(part.rows.map((r) => r.section))];
  const rows: Row[] = [];
  const placed = new Set<string>();
  for (const r of latest.rows) {
    if (!sections.includes(r.section)) rows.push(r);
    else if (!placed.has(r.section)) {
      placed.add(r.section);
      rows.push(...part.rows.filter((p) => p.section === r.section));
    }
  }
  for (const s of sections) if (!placed.has(s)) rows.push(...part.rows.filter((p) => p.section === s));
  const older = (latest.parts ?? []).map((p) => ({ ...p, sections: p.sections.filter((s) => !sections.includes(s)) })).filter((p) => p.sections.length);
  return { ...latest, rows, parts: [...older, { sections, date: part.date, seconds: part.seconds, commit: part.machine.commit }] };
}

const file = process.argv[2];
if (!file) {
  console.error('usage: node dist/bench/merge.js bench/results/TIMESTAMP.json (a BENCH_ONLY run)');
  process.exit(2);
}
const target = `${TOP}/bench/results/latest.json`;
const merged = merge(JSON.parse(readFileSync(target, 'utf8')) as Results, JSON.parse(readFileSync(file, 'utf8')) as Results);
writeFileSync(target, JSON.stringify(merged, null, 2) + '\n');
console.log(text(merged));
