// The stats shards (src/stats/StatsShard.ts): each (source, batch) counted once
// however often it is sent (flushStats' retries included), also before it is
// folded and across an eviction; a row written per batch and the rows a fold's
// batches share written once; counts read back exactly to the second over any
// window however it falls on minutes, hours and days, and 31 days kept.
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { migrate } from "../src/shared/migrations";
import { statsStub } from "../src/shared/objects";
import { MeteredSql } from "../src/shared/sql";
import { StatsBuffer } from "../src/stats/buffer";
import { flushStats } from "../src/stats/flush";
import { latencyBin } from "../src/stats/histogram";
import { latencyKey, partOf, type Counts } from "../src/stats/keys";
import { windowSeconds } from "../src/stats/report";
import { statsSchema } from "../src/stats/schema";
import { shardOf, STATS_SHARDS } from "../src/stats/shards";
import { cover, SPANS } from "../src/stats/spans";
import { FOLD_EVERY, type StatsShard } from "../src/stats/StatsShard";
import {
  DAY,
  expectLogged,
  freezeTime,
  HOUR,
  SECOND,
  sendStats,
  sourceOnShard,
  travel,
  unique,
  unusedStatsTime,
  userStub,
  wipeStorage,
} from "./helpers";

const shardOfSource = (source: string) => statsStub(env, shardOf(source));
/** The source's shard's counts over [from, to) in ms, as the stats route reads them. */
const countsOver = (source: string, from: number, to: number) =>
  shardOfSource(source).counts(...windowSeconds({ from, to }));
/** Stands in for the stats binding, with `apply` in place of the shards' own. */
const statsBinding = (apply: StatsShard["apply"]) => ({
  STATS: { idFromName: (name: string) => name, get: () => ({ apply }) } as unknown as Env["STATS"],
});
const DAYS_31 = 31 * DAY;
const RETENTION_DAYS = 31;

afterEach(() => {
  vi.useRealTimers();
});

describe("batches", () => {
  it("count once, however often they are sent, also when a late copy comes after the next batch", async () => {
    const source = unique("user:s");
    const t = unusedStatsTime();
    const shard = shardOfSource(source);
    const buffer = StatsBuffer.from();
    buffer.message(t);
    buffer.message(t);
    const first = buffer.drain()!;
    expect(await shard.apply(source, first)).toBe(true);
    expect(await shard.apply(source, first)).toBe(false);
    expect(await countsOver(source, t, t + SECOND)).toEqual({ messages: 2 });
    buffer.confirm(first.number);
    buffer.message(t);
    expect(await shard.apply(source, buffer.drain()!)).toBe(true);
    expect(await shard.apply(source, first)).toBe(false);
    expect(await countsOver(source, t, t + SECOND)).toEqual({ messages: 3 });
  });

  it("of another source on the shard, or of the source's next life (a new epoch), count on their own", async () => {
    const source = unique("user:s");
    const neighbour = sourceOnShard(shardOf(source));
    const t = unusedStatsTime();
    const batchOf = (buffer = StatsBuffer.from()) => {
      buffer.message(t);
      return buffer.drain()!;
    };
    const shard = shardOfSource(source);
    expect(await shard.apply(source, batchOf())).toBe(true);
    expect(await shard.apply(neighbour, batchOf())).toBe(true);
    // Storage that started afresh numbers from 1 again, under another epoch.
    expect(await shard.apply(source, batchOf())).toBe(true);
    expect(await countsOver(source, t, t + SECOND)).toEqual({ messages: 3 });
  });

  it("are sent again by flushStats after a failure, and one whose answer was lost counts once", async () => {
    const source = unique("user:s");
    const t = unusedStatsTime();
    const buffer = StatsBuffer.from();
    buffer.message(t);
    const down = statsBinding(async () => {
      throw new Error("shard unreachable");
    });
    const answerLost = statsBinding(async (...args) => {
      await shardOfSource(source).apply(...args);
      throw new Error("answer lost");
    });
    const notFlushed = new RegExp(`the stats of ${source} were not flushed`);

    expect(await expectLogged(notFlushed, () => flushStats(down, source, buffer))).toBe(false);
    expect(await countsOver(source, t, t + SECOND)).toEqual({});
    expect(buffer.isDue(Date.now())).toBe(false);
    expect(buffer.flushDueAt).not.toBeNull();

    expect(await expectLogged(notFlushed, () => flushStats(answerLost, source, buffer))).toBe(false);
    expect(await countsOver(source, t, t + SECOND)).toEqual({ messages: 1 });

    expect(await flushStats(env, source, buffer)).toBe(true);
    expect(await countsOver(source, t, t + SECOND)).toEqual({ messages: 1 });
    expect(buffer.isEmpty()).toBe(true);
    expect(buffer.flushDueAt).toBeNull();
  });
});

describe("folds", () => {
  it("a batch is written before its apply answers: counted at once, kept across an eviction before the fold, and a repeat meanwhile counts once", async () => {
    const source = unique("user:s");
    const t = unusedStatsTime();
    const shard = shardOfSource(source);
    const messages = async () => (await countsOver(source, t, t + SECOND)).messages;
    const buffer = StatsBuffer.from();
    buffer.message(t);
    const first = buffer.drain()!;
    expect(await shard.apply(source, first)).toBe(true);
    expect(await messages()).toBe(1);
    await evictDurableObject(shard);
    expect(await messages()).toBe(1);
    expect(await shard.apply(source, first)).toBe(false);
    expect(await messages()).toBe(1);

    // The source's next batch before the fold joins the first in its row.
    buffer.confirm(first.number);
    buffer.message(t);
    const second = buffer.drain()!;
    expect(await shard.apply(source, second)).toBe(true);
    await evictDurableObject(shard);
    expect(await messages()).toBe(2);

    // The alarm folds; what was folded is not read back as unfolded after a start.
    expect(await runDurableObjectAlarm(shard)).toBe(true);
    expect(await shard.apply(source, second)).toBe(false);
    await evictDurableObject(shard);
    expect(await messages()).toBe(2);
  });

  it("FOLD_EVERY concurrent flushes write a row each, and the rows they share once", async () => {
    const shardNumber = shardOf(unique("user:s"));
    const shard = statsStub(env, shardNumber);
    // Fold what earlier tests left on the shard, so that these batches start a generation.
    await runDurableObjectAlarm(shard);
    const t = unusedStatsTime();
    const sources = Array.from({ length: FOLD_EVERY }, () => sourceOnShard(shardNumber));
    const before = await shard.storageCost();
    await Promise.all(
      sources.map((source) =>
        sendStats(source, (stats) => {
          stats.message(t);
          stats.pair(t, null, { outcome: "pending", at: null });
        }),
      ),
    );
    const written = (await shard.storageCost()).rowsWritten - before.rowsWritten;
    // A source row per batch; one fold: the counters' row of each span, and the generation.
    expect(written).toBe(FOLD_EVERY + SPANS.length + 1);
    expect(await shard.counts(...windowSeconds({ from: t, to: t + SECOND }))).toEqual({
      messages: FOLD_EVERY,
      "outcome.pending": FOLD_EVERY,
    });
  });

  it("keep a bucket's counts in parts of fewer than 3,500 counts: the counters, and a route's bins with as many digits", () => {
    const sizes = new Map<string, number>([[partOf(latencyKey("push", 0)), 1]]);
    // The bins in [2^e, 2^(e+1)) are all as wide as the last one.
    for (let e = 0; e < 32; e++) {
      const width = 2 ** (e + 1) - latencyBin(2 ** (e + 1) - 1);
      for (let bin = 2 ** e; bin < 2 ** (e + 1); bin += width) {
        const part = partOf(latencyKey("push", bin));
        sizes.set(part, (sizes.get(part) ?? 0) + 1);
      }
    }
    expect(Math.max(...sizes.values())).toBeLessThan(3500);
    expect(sizes.size).toBe(10);
    expect(partOf(latencyKey("poll", 1234))).not.toBe(partOf(latencyKey("push", 1234)));
    expect(partOf("messages")).toBe(partOf("push.fcm.sent"));
  });

  it("storage from before the parts: schema step 2 puts every count in the part partOf names, and no batch in the source rows", async () => {
    const keys = ["messages", "outcome.push", latencyKey("push", 7), latencyKey("push", 1234), latencyKey("push", 1999), latencyKey("poll", 65_536), latencyKey("live", 0)];
    const [parts, sources] = await runInDurableObject(userStub(unique("scratch")), async (_instance, { storage }) => {
      await wipeStorage(storage);
      const sql = new MeteredSql(storage.sql);
      migrate(storage, sql, { ...statsSchema, steps: statsSchema.steps.slice(0, 1) });
      keys.forEach((key, i) => sql.run("INSERT INTO counts (span, bucket, key, n) VALUES (60, 120, ?, ?)", key, i + 1));
      sql.run("INSERT INTO counts (span, bucket, key, n) VALUES (60, 120, 'outcome.pending', 0)");
      sql.run("INSERT INTO sources (source, epoch, batch, seen_at) VALUES ('user:a', 'e', 3, 0)");
      migrate(storage, sql, statsSchema);
      return [
        sql.all<{ span: number; bucket: number; part: string; counts: string }>("SELECT span, bucket, part, counts FROM parts"),
        sql.all("SELECT source, generation, unfolded FROM sources"),
      ];
    });
    const expected = new Map<string, Counts>();
    keys.forEach((key, i) => {
      const counts = expected.get(partOf(key)) ?? {};
      expected.set(partOf(key), { ...counts, [key]: i + 1 });
    });
    expect(new Map(parts.map(({ part, counts }) => [part, JSON.parse(counts) as Counts]))).toEqual(expected);
    expect(parts.every(({ span, bucket }) => span === 60 && bucket === 120)).toBe(true);
    expect(sources).toEqual([{ source: "user:a", generation: 0, unfolded: "{}" }]);
  });
});

describe("windows", () => {
  it("count exactly the seconds that overlap [from, to), however the window falls on minutes, hours and days, before and after the fold", async () => {
    const source = unique("user:s");
    const day = Math.ceil(unusedStatsTime(4 * DAY) / DAY) * DAY;
    // Offsets from a UTC midnight: each side of every kind of bucket boundary.
    const edges = [
      -SECOND, 0, 500, SECOND, 59 * SECOND, 60 * SECOND, 61_500, HOUR - SECOND, HOUR, DAY - 500, DAY, DAY + HOUR + 61 * SECOND,
      2 * DAY - SECOND, 2 * DAY + 5 * HOUR + 7 * 60 * SECOND + 3 * SECOND,
    ];
    const published = edges.flatMap((edge) => [day + edge, day + edge + 999]);
    await sendStats(source, (stats) => published.forEach((at) => stats.message(at)));

    const overlaps = (at: number, from: number, to: number) => {
      const start = Math.floor(at / SECOND) * SECOND;
      return from < to && start < to && start + SECOND > from;
    };
    for (const stage of ["unfolded", "folded"]) {
      if (stage === "folded") expect(await runDurableObjectAlarm(shardOfSource(source))).toBe(true);
      for (const from of edges) {
        for (const to of edges.filter((to) => to >= from)) {
          const expected = published.filter((at) => overlaps(at, day + from, day + to)).length;
          const counts = await countsOver(source, day + from, day + to);
          expect(counts.messages ?? 0, `${stage} [${from}, ${to})`).toBe(expected);
        }
      }
    }
  });

  it("are read as the coarsest whole buckets: at most 31 days, 2·23 hours, 2·59 minutes and 2·59 seconds of them", () => {
    const from = Date.UTC(2026, 0, 1, 5, 59, 58) / SECOND;
    for (const length of [0, 1, 59, 61, 3601, DAY / SECOND - 1, DAYS_31 / SECOND]) {
      const to = from + length;
      const ranges = cover(from, to);
      // One after the other, exactly [from, to), each bucket whole.
      let at = from;
      for (const range of ranges) {
        expect([range.from, range.from % range.span, range.to % range.span]).toEqual([at, 0, 0]);
        at = range.to;
      }
      expect(at).toBe(to);
      const buckets = SPANS.map((span) =>
        ranges.filter((range) => range.span === span).reduce((n, range) => n + (range.to - range.from) / span, 0),
      );
      expect(buckets.every((n, i) => n <= [31, 2 * 23, 2 * 59, 2 * 59][i]!), `${length} s: ${buckets}`).toBe(true);
    }
  });
});

describe("retention", () => {
  /** The shard's rows as (span, bucket) pairs. */
  const rowsOf = (source: string) =>
    runInDurableObject(shardOfSource(source), (_instance, { storage }) =>
      storage.sql.exec<{ span: number; bucket: number }>("SELECT span, bucket FROM parts").toArray(),
    );
  const alarmOf = (source: string) =>
    runInDurableObject(shardOfSource(source), (_instance, { storage }) => storage.getAlarm());

  it("drops counts of seconds already older than 31 days when they arrive", async () => {
    const source = unique("user:s");
    const now = freezeTime(unusedStatsTime(40 * DAY) + 35 * DAY);
    await sendStats(source, (stats) => {
      stats.message(now - DAYS_31 - 1);
      stats.message(now - DAYS_31);
    });
    expect(await countsOver(source, now - DAYS_31 - SECOND, now)).toEqual({ messages: 1 });
  });

  it("sweeps, by alarm, the buckets that end before the last 31 days, of every span, and forgets quiet sources", async () => {
    const source = unique("user:s");
    const now = freezeTime(unusedStatsTime(80 * DAY) + 35 * DAY);
    const old = now - DAYS_31 + HOUR;
    const recent = now - HOUR;
    await sendStats(source, (stats) => {
      stats.message(old);
      stats.message(recent);
    });
    expect(await alarmOf(source)).not.toBeNull();

    travel(2 * HOUR);
    expect(await runDurableObjectAlarm(shardOfSource(source))).toBe(true);
    const cutoff = Math.floor(Date.now() / SECOND) - RETENTION_DAYS * DAY / SECOND;
    const rows = await rowsOf(source);
    expect(rows.filter(({ span, bucket }) => bucket + span <= cutoff)).toEqual([]);
    // Every span of the recent second is kept.
    expect(rows.filter(({ bucket, span }) => bucket <= recent / SECOND && recent / SECOND < bucket + span)).toHaveLength(SPANS.length);
    expect(await countsOver(source, old, old + SECOND)).toEqual({});
    expect(await countsOver(source, recent, recent + SECOND)).toEqual({ messages: 1 });
    expect(await alarmOf(source)).not.toBeNull();

    // A day past the 31 days of its last batch, the source is forgotten with its counts, and the sweep stops.
    travel(DAYS_31 + DAY);
    expect(await runDurableObjectAlarm(shardOfSource(source))).toBe(true);
    const sources = await runInDurableObject(shardOfSource(source), (_instance, { storage }) =>
      storage.sql.exec("SELECT source FROM sources WHERE source = ?", source).toArray(),
    );
    expect(sources).toEqual([]);
    expect(await alarmOf(source)).toBeNull();
  });
});

it("has STATS_SHARDS shards, and sources spread over them", () => {
  const used = new Set(Array.from({ length: 4000 }, (_, i) => shardOf(`user:u${i}`)));
  expect(used.size).toBe(STATS_SHARDS);
});
