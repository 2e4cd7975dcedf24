/** Signal names and numbers (Linux x86_64), as systemd's signal_from_string accepts them. */
import { constants } from 'node:os';
import { refuse } from '../util/errors.js';

/** SIGRTMIN as glibc exposes it to programs (the kernel's 32 plus glibc's 2 reserved). */
export const SIGRTMIN = 34;
export const SIGRTMAX = 64;

const NAMED: Record<string, number> = Object.fromEntries(
  Object.entries(constants.signals).map(([name, num]) => [name.replace(/^SIG/, ''), num]),
);

export function signalName(num: number): string {
  for (const [name, n] of Object.entries(NAMED)) if (n === num) return `SIG${name}`;
  if (num >= SIGRTMIN && num <= SIGRTMAX) return num === SIGRTMIN ? 'SIGRTMIN' : `SIGRTMIN+${num - SIGRTMIN}`;
  return String(num);
}

/** Accepts "TERM", "SIGTERM", "15", "RTMIN+3", "SIGRTMIN+3", "RTMAX-1". */
export function parseSignal(value: string, option: string): number {
  const v = value.toUpperCase().replace(/^SIG/, '');
  let num: number | undefined;
  if (/^\d+$/.test(v)) num = Number(v);
  else if (v in NAMED) num = NAMED[v];
  else {
    const m = v.match(/^RT(MIN|MAX)(?:([+-])(\d+))?$/);
    if (m) {
      const base = m[1] === 'MIN' ? SIGRTMIN : SIGRTMAX;
      const off = m[3] ? Number(m[3]) * (m[2] === '-' ? -1 : 1) : 0;
      num = base + off;
    }
  }
  if (num === undefined || num < 1 || num > SIGRTMAX || (num > 31 && num < SIGRTMIN))
    refuse(`invalid ${option}=${value}: use a signal name like SIGTERM or SIGRTMIN+3, or its number`);
  return num;
}

/** The words --kill-signal=help lists, as nspawn: names without SIG, in number order, then the real-time ones. */
export const SIGNAL_WORDS: readonly string[] = [
  ...Object.entries(NAMED)
    .filter(([, n]) => n >= 1 && n < SIGRTMIN)
    .sort((a, b) => a[1] - b[1])
    .map(([name]) => name)
    .filter((name, i, all) => all.indexOf(name) === i),
  ...Array.from({ length: SIGRTMAX - SIGRTMIN + 1 }, (_, i) => `RTMIN+${i}`),
];
