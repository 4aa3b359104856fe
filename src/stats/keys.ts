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
/** One bin of a route's latency histogram (histogram.ts). */
export const latencyKey = (route: ArrivalRoute, bin: number) => `latency.${route}.${bin}`;

/** A route's latency histogram out of summed counts, as (bin, count) pairs. */
export function latencyBins(counts: Counts, route: ArrivalRoute): [number, number][] {
  const prefix = `latency.${route}.`;
  return Object.entries(counts)
    .filter(([key]) => key.startsWith(prefix))
    .map(([key, count]) => [Number(key.slice(prefix.length)), count]);
}

/** Adds `more` into `total`. */
export function addCounts(total: Counts, more: Counts) {
  for (const [key, n] of Object.entries(more)) total[key] = (total[key] ?? 0) + n;
}
