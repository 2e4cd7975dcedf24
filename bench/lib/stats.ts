/** Medians, minima and maxima of repeated measurements. */

export interface Summary {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarize(xs: number[]): Summary {
  if (xs.length === 0) throw new Error('no samples');
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}
