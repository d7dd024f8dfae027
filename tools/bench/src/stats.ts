// Summary statistics for a series of timings or sizes.
export interface Summary {
  n: number;
  median: number;
  p10: number;
  p90: number;
  min: number;
  max: number;
  /** (p90 - p10) / median: how noisy the series was. */
  spread: number;
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function summarise(values: readonly number[]): Summary {
  const s = [...values].sort((a, b) => a - b);
  const median = quantile(s, 0.5);
  const p10 = quantile(s, 0.1);
  const p90 = quantile(s, 0.9);
  return { n: s.length, median, p10, p90, min: s[0] ?? NaN, max: s[s.length - 1] ?? NaN, spread: median ? (p90 - p10) / median : NaN };
}
