// The names counts are kept under, in buffers, batches and shards alike: one
// flat namespace, so that a shard sums any of them the same way.
import type { PushChannel } from "../push/channel";
import type { ArrivalRoute, Outcome, PushCount } from "./recorder";

/** Counts by name. */
export type Counts = Record<string, number>;

export const MESSAGES = "messages";
export const ANNOUNCEMENTS = "announcements";
export const outcomeKey = (outcome: Outcome) => `outcome.${outcome}`;
export const pushKey = (channel: PushChannel, count: PushCount) => `push.${channel}.${count}`;
const LATENCY = "latency.";
/** One bin of a route's latency histogram (histogram.ts). */
export const latencyKey = (route: ArrivalRoute, bin: number) => `${LATENCY}${route}.${bin}`;

/** A route's latency histogram out of summed counts, as (bin, count) pairs. */
export function latencyBins(counts: Counts, route: ArrivalRoute): [number, number][] {
  const prefix = `${LATENCY}${route}.`;
  return Object.entries(counts)
    .filter(([key]) => key.startsWith(prefix))
    .map(([key, count]) => [Number(key.slice(prefix.length)), count]);
}

/** Adds `more` into `total`; a count that comes to 0 is left out. */
export function addCounts(total: Counts, more: Counts) {
  for (const [key, n] of Object.entries(more)) {
    const sum = (total[key] ?? 0) + n;
    if (sum === 0) delete total[key];
    else total[key] = sum;
  }
}

/**
 * The part of a bucket's counts that a shard keeps `key` in (one row per part,
 * StatsShard.ts): a latency bin in its route's part of the bins with as many
 * digits, every other count in "counters". k digits span log2(10) ≈ 3.3
 * doublings of at most 1,024 bins each (histogram.ts), so no part holds 3,500
 * counts (the most: 3,463 bins of 6 digits), and a route's bins up to 50 days
 * (2^32 ms) fall in 10 parts.
 */
export function partOf(key: string): string {
  if (!key.startsWith(LATENCY)) return "counters";
  const binAt = key.indexOf(".", LATENCY.length) + 1;
  return `${key.slice(0, binAt)}${key.length - binAt}`;
}
