/**
 * Putting a partial run's sections into a full run's results: those
 * sections' rows replace the old ones in place (a new section's go at the
 * end), and `parts` records when and on which commit they were measured.
 * Refuses a run from another machine or with other program versions: its
 * ratios would not be comparable with the rest of the table.
 */
import type { Machine } from './machine.js';
import type { Row } from './row.js';
import type { Results } from '../table.js';

/** Everything of the machine but the tsnspawn commit must match. */
function sameMachine(a: Machine, b: Machine): string | null {
  const keys = ['nproc', 'cpu', 'memGiB', 'kernel', 'debian', 'versions'] as const;
  for (const k of keys) if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return `${k}: ${JSON.stringify(a[k])} in the partial run, ${JSON.stringify(b[k])} in the full one`;
  return null;
}

export function merge(latest: Results, part: Results): Results {
  const why = sameMachine(part.machine, latest.machine);
  if (why) throw new Error(`measured on another machine or with other versions (${why}); run the whole bench instead`);
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
