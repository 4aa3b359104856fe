// Latency histograms: a count per bin of milliseconds. Below 2048 ms each
// millisecond is its own bin; from 2048 on, a bin keeps the value's 11 most
// significant bits, so values in [2^e, 2^(e+1)) share bins 2^(e-10) ms wide.
// A bin is reported as its midpoint, at most half a bin, 2^(e-11) ms, from any
// value in it: at most 2^-11 ≈ 0.049 % of the value. So a percentile read from
// the bins is within 0.05 % of the true nearest-rank value (exact below 2048 ms),
// and a route has at most 2048 + 1024 bins per doubling of its longest latency.

const EXACT_BELOW = 2048;

/** How wide the bins around `ms` are: 1 below 2048, else the smallest power of two above ms / 2048. */
function binWidth(ms: number) {
  let width = 1;
  while (ms >= EXACT_BELOW * width) width *= 2;
  return width;
}

/** The bin of a latency, named by its lowest value (whole ms; a negative latency, from clocks apart, counts as 0). */
export function latencyBin(ms: number): number {
  const value = Math.max(0, Math.floor(ms));
  const width = binWidth(value);
  return value - (value % width);
}

/** What a bin reports: its midpoint (a whole number: bins wider than 1 ms are at least 2 wide). */
const midpoint = (bin: number) => bin + Math.floor(binWidth(bin) / 2);

export type Percentiles = { p50: number | null; p90: number | null; p99: number | null };

/** Nearest-rank percentiles (the value at rank ⌈p·N/100⌉) of a histogram given as (bin, count) pairs; null without values. */
export function percentiles(bins: Iterable<[bin: number, count: number]>): Percentiles {
  const sorted = [...bins].filter(([, count]) => count > 0).sort(([a], [b]) => a - b);
  const total = sorted.reduce((sum, [, count]) => sum + count, 0);
  const at = (p: number) => {
    if (total === 0) return null;
    const rank = Math.max(1, Math.ceil((p * total) / 100));
    let seen = 0;
    for (const [bin, count] of sorted) {
      seen += count;
      if (seen >= rank) return midpoint(bin);
    }
    return null;
  };
  return { p50: at(50), p90: at(90), p99: at(99) };
}
