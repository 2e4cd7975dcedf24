/** Merging a partial bench run into the full one: bench/lib/merge.ts (the README table is made from the result). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { merge } from '../../bench/lib/merge.js';
import type { Machine } from '../../bench/lib/machine.js';
import type { Row } from '../../bench/lib/row.js';
import type { Results } from '../../bench/table.js';

const MACHINE: Machine = { nproc: 2, cpu: 'AMD EPYC', memGiB: 23.5, kernel: '6.18', debian: '12.11', commit: 'aaaaaaa', versions: ['systemd 252', 'node v24'] };

function r(section: string, measure: string, median: number): Row {
  const s = { median, min: median, max: median, n: 1 };
  return { section, measure, unit: 'ms', subject: 'tsnspawn', ours: s, anchor: 'systemd-nspawn', theirs: s, ratio: 1 };
}

const full: Results = {
  date: '2026-11-30T15:00:00Z',
  seconds: 260,
  machine: MACHINE,
  rows: [r('start', 'a', 1), r('userns', 'old', 2), r('userns', 'old2', 3), r('many', 'b', 4)],
};

const partial = (rows: Row[], date = '2026-11-30T17:00:00Z', machine: Partial<Machine> = {}): Results => ({
  date,
  seconds: 30,
  machine: { ...MACHINE, commit: 'bbbbbbb', ...machine },
  rows,
});

describe('merge', () => {
  it("replaces a section's rows where they were and appends a new section's", () => {
    const m = merge(full, partial([r('userns', 'new', 5), r('network', 'n', 6)]));
    assert.deepEqual(m.rows.map((x) => `${x.section}/${x.measure}`), ['start/a', 'userns/new', 'many/b', 'network/n']);
    assert.equal(m.date, full.date, 'the full run keeps its own date');
    assert.equal(m.machine.commit, 'aaaaaaa');
    assert.deepEqual(m.parts, [{ sections: ['userns', 'network'], date: '2026-11-30T17:00:00Z', seconds: 30, commit: 'bbbbbbb' }]);
  });

  it('a later partial run of a section takes it over from an earlier one', () => {
    const once = merge(full, partial([r('userns', 'u1', 5), r('network', 'n1', 6)]));
    const twice = merge(once, partial([r('network', 'n2', 7)], '2026-11-30T18:00:00Z'));
    assert.deepEqual(twice.rows.map((x) => x.measure), ['a', 'u1', 'b', 'n2']);
    assert.deepEqual(twice.parts?.map((p) => [p.sections, p.date]), [
      [['userns'], '2026-11-30T17:00:00Z'],
      [['network'], '2026-11-30T18:00:00Z'],
    ]);
  });

  it('refuses a run from another machine or with other versions, naming what differs', () => {
    assert.throws(() => merge(full, partial([r('userns', 'x', 1)], undefined, { kernel: '6.1' })), /kernel: "6.1" in the partial run, "6.18" in the full one/);
    assert.throws(() => merge(full, partial([r('userns', 'x', 1)], undefined, { versions: ['systemd 257', 'node v24'] })), /versions/);
  });
});
