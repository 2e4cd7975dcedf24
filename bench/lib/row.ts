/** One line of the benchmark table: a subject against its anchor, measured in the same run. */
import { summarize, type Summary } from './stats.js';

export interface Row {
  section: string;
  measure: string;
  unit: string;
  subject: string;
  ours: Summary | null;
  anchor: string;
  theirs: Summary | null;
  /** ours.median / theirs.median */
  ratio: number | null;
  /** Why a row has no figures, or what it measured exactly. */
  note?: string;
}

export function row(section: string, measure: string, unit: string, subject: string, ours: number[], anchor: string, theirs: number[], note?: string): Row {
  const a = summarize(ours);
  const b = summarize(theirs);
  return { section, measure, unit, subject, ours: a, anchor, theirs: b, ratio: a.median / b.median, ...(note ? { note } : {}) };
}

export function skipped(section: string, measure: string, subject: string, anchor: string, why: string): Row {
  return { section, measure, unit: '', subject, ours: null, anchor, theirs: null, ratio: null, note: `not measured: ${why}` };
}
