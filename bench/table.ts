/**
 * The benchmark table, as aligned text for the terminal or as Markdown for
 * the README. As a program: `node dist/bench/table.js [--markdown] [FILE]`
 * prints a results file (default bench/results/latest.json).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import type { Row } from './lib/row.js';
import type { Summary } from './lib/stats.js';
import { TOP } from './lib/env.js';
import type { Machine } from './lib/machine.js';

/** Sections measured in a later partial run and merged in (bench/merge.ts). */
export interface Part {
  sections: string[];
  date: string;
  seconds: number;
  commit: string;
}

export interface Results {
  date: string;
  seconds: number;
  machine: Machine;
  rows: Row[];
  parts?: Part[];
}

function partLine(p: Part): string {
  return `${p.sections.join(', ')}: measured ${p.date} (\`BENCH_ONLY=${p.sections.join(',')}\`, ${p.seconds.toFixed(0)} s) on the same machine, tsnspawn ${p.commit}, merged in.`;
}

function num(x: number, unit: string): string {
  const digits = unit === 'ms' ? (x >= 100 ? 0 : 1) : x >= 100 ? 0 : x >= 10 ? 1 : 2;
  return x.toFixed(digits);
}

function cell(s: Summary | null, unit: string): string {
  if (!s) return '–';
  return `${num(s.median, unit)} ${unit} (${num(s.min, unit)}–${num(s.max, unit)})`;
}

const HEAD = ['measure', 'subject', 'median (min–max)', 'anchor', 'median (min–max)', 'ratio', 'runs'];

function cells(r: Row, i: number | undefined): string[] {
  const mark = i === undefined ? '' : ` [${i}]`;
  return [r.measure + mark, r.subject, cell(r.ours, r.unit), r.anchor, cell(r.theirs, r.unit), r.ratio === null ? '–' : r.ratio.toFixed(2), String(r.ours?.n ?? '–')];
}

/** Rows with their note numbers (one number per distinct note), and the notes. */
function numbered(rows: Row[]): { lines: string[][]; notes: string[] } {
  const notes: string[] = [];
  const lines = rows.map((r) => {
    if (!r.note) return cells(r, undefined);
    if (!notes.includes(r.note)) notes.push(r.note);
    return cells(r, notes.indexOf(r.note) + 1);
  });
  return { lines, notes };
}

export function machineLine(m: Machine): string {
  return `${m.nproc} CPUs (${m.cpu}), ${m.memGiB.toFixed(0)} GiB, kernel ${m.kernel}, Debian ${m.debian}; ${m.versions.join(', ')}; tsnspawn ${m.commit}`;
}

export function text(res: Results): string {
  const { lines, notes } = numbered(res.rows);
  const all = [HEAD, ...lines];
  const widths = HEAD.map((_, c) => Math.max(...all.map((l) => [...l[c]!].length)));
  const fmt = (l: string[]): string => l.map((x, c) => (c === 0 || c === 1 || c === 3 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ').trimEnd();
  return [
    fmt(HEAD),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...lines.map(fmt),
    '',
    ...notes.map((n, i) => `[${i + 1}] ${n}`),
    '',
    `ratio = subject median / anchor median; runs alternate, after one warm-up run each.`,
    `${res.date}, ${res.seconds.toFixed(0)} s; ${machineLine(res.machine)}`,
    ...(res.parts ?? []).map(partLine),
  ].join('\n');
}

export function markdown(res: Results): string {
  const { lines, notes } = numbered(res.rows);
  const row = (l: string[]): string => `| ${l.join(' | ')} |`;
  return [
    row(HEAD),
    row(HEAD.map((_, c) => (c === 0 || c === 1 || c === 3 ? '---' : '---:'))),
    ...lines.map(row),
    '',
    ...notes.map((n, i) => `${i + 1}. ${n}`),
    '',
    `Measured ${res.date} (\`make bench\`, ${res.seconds.toFixed(0)} s) on ${machineLine(res.machine)}.`,
    ...(res.parts ?? []).map(partLine),
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  const md = args.includes('--markdown');
  const file = args.find((a) => !a.startsWith('--')) ?? `${TOP}/bench/results/latest.json`;
  const res = JSON.parse(readFileSync(file, 'utf8')) as Results;
  console.log(md ? markdown(res) : text(res));
}
