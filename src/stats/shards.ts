// Which shard keeps a source's stats, and the sum over all shards. The count
// and its arithmetic (flushes per shard at a million users, the rows a window
// reads, the subrequests of one stats request) are in docs/ARCHITECTURE.md, "Stats".
import type { Env } from "../config";
import { statsStub } from "../shared/objects";
import { addCounts, type Counts } from "./keys";

export const STATS_SHARDS = 256;

/** At most this many shards are asked at once by one stats request. */
const READ_CONCURRENCY = 16;

/** The shard of a source: FNV-1a of its name, modulo the shard count. */
export function shardOf(source: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < source.length; i++) hash = Math.imul(hash ^ source.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % STATS_SHARDS;
}

/** Every shard's counts of the messages published in the seconds [from, to), summed. */
export async function readCounts(env: Pick<Env, "STATS">, from: number, to: number): Promise<Counts> {
  const total: Counts = {};
  let next = 0;
  const reader = async () => {
    while (next < STATS_SHARDS) addCounts(total, await statsStub(env, next++).counts(from, to));
  };
  await Promise.all(Array.from({ length: READ_CONCURRENCY }, reader));
  return total;
}
