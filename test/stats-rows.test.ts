// What the stats cost in rows written (docs/ARCHITECTURE.md, "Stats"): the
// docs' workload, in which each message to a user with 2 devices is three
// flushes (its publish, then each device's push arrival 9 to 20 s later), at
// the worked example's load and at the upper bound's, counted by the shard's
// own storage counters. A count in each of 4 spans a row cost 35 rows a message.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, expect, it, vi } from "vitest";
import { statsStub } from "../src/shared/objects";
import type { OutcomeAt, StatsRecorder } from "../src/stats/recorder";
import { shardOf } from "../src/stats/shards";
import { DAY, freezeTime, SECOND, seededRandom, sendStats, sourceOnShard, travel, unique, unusedStatsTime } from "./helpers";

afterEach(() => {
  vi.useRealTimers();
});

type Flush = (stats: StatsRecorder) => void;
const PENDING: OutcomeAt = { outcome: "pending", at: null };

/**
 * `perSecond` messages a second for `seconds` seconds, flushed by sources of
 * shard `shardNumber` as the seconds pass (the clock frozen and moved on);
 * answers how many messages were sent.
 */
async function sendWorkload(shardNumber: number, perSecond: number, seconds: number) {
  const random = seededRandom(shardNumber);
  const sources = Array.from({ length: 1000 }, () => sourceOnShard(shardNumber));
  const due = new Map<number, Flush[]>();
  const later = (second: number, flush: Flush) => due.set(second, [...(due.get(second) ?? []), flush]);
  let messages = 0;
  let flushes = 0;
  for (let second = 0; second < seconds + 21; second++) {
    const published = second < seconds ? Math.floor((second + 1) * perSecond) - Math.floor(second * perSecond) : 0;
    for (let i = 0; i < published; i++) {
      messages++;
      const publishedAt = Date.now() - Math.floor(random() * 9 * SECOND);
      later(second, (stats) => {
        stats.message(publishedAt);
        stats.pair(publishedAt, null, PENDING);
        stats.pair(publishedAt, null, PENDING);
      });
      for (let device = 0; device < 2; device++) {
        const latency = Math.floor(200 * Math.exp(random() * 2.5));
        later(second + 9 + Math.floor(random() * 12), (stats) =>
          stats.pair(publishedAt, PENDING, { outcome: "push", at: publishedAt + latency }),
        );
      }
    }
    await Promise.all((due.get(second) ?? []).map((flush) => sendStats(sources[flushes++ % sources.length]!, flush)));
    travel(SECOND);
  }
  return messages;
}

it.each([
  { load: "the worked example's 0.45", perSecond: 0.45, seconds: 300, atMost: 6 },
  { load: "the upper bound's 145", perSecond: 145, seconds: 1, atMost: 4 },
])("a message to a user with 2 devices costs its shard at most $atMost rows written at $load messages a second", async ({ perSecond, seconds, atMost }) => {
  const shardNumber = shardOf(unique("user:s"));
  const shard = statsStub(env, shardNumber);
  freezeTime(unusedStatsTime(DAY));
  // The alarm folds: what earlier tests left, then the workload's last batches.
  await runDurableObjectAlarm(shard);
  const before = await shard.storageCost();
  const messages = await sendWorkload(shardNumber, perSecond, seconds);
  expect(await runDurableObjectAlarm(shard)).toBe(true);
  const written = (await shard.storageCost()).rowsWritten - before.rowsWritten;
  expect(written / messages).toBeLessThanOrEqual(atMost);
});
