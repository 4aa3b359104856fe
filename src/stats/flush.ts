// What an object's alarm calls to hand its stats to their shard. The object
// keeps a StatsBuffer inside storage it writes anyway, aims its alarm at
// `buffer.flushDueAt` (with its other deadlines: the earliest wins), and in the
// alarm, when `buffer.isDue()`, awaits flushStats and then stores the buffer
// again and re-aims the alarm. A flush whose answer was lost is sent again, with
// the same batch number, by the next one; the shard counts it once.
import type { Env } from "../config";
import { statsStub } from "../shared/objects";
import { FLUSH_DELAY_MS, type StatsBuffer } from "./buffer";
import { shardOf } from "./shards";

/**
 * Sends the buffer's batch to the shard of `source` (a name no other object
 * uses: `user:<userId>`, `region:<regionId>`). Answers whether the shard has it;
 * when not, the failure is logged and the buffer is due again FLUSH_DELAY_MS later.
 */
export async function flushStats(env: Pick<Env, "STATS">, source: string, buffer: StatsBuffer): Promise<boolean> {
  const batch = buffer.drain();
  if (!batch) return true;
  try {
    await statsStub(env, shardOf(source)).apply(source, batch);
  } catch (error) {
    console.error(`postbox: the stats of ${source} were not flushed (due again in ${FLUSH_DELAY_MS / 1000} s)`, error);
    return false;
  }
  buffer.confirm(batch.number);
  return true;
}
