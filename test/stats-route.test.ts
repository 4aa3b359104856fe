// GET /admin/v1/stats: the window (its defaults, whole seconds, the 400s), the
// sum over every shard, the rates (null without a divisor) and the latency
// percentiles, and announcements.published end to end through the regions'
// alarms.
import { runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { StatsAnswer } from "../src/shared/responses";
import { FLUSH_DELAY_MS } from "../src/stats/buffer";
import type { OutcomeAt, StatsRecorder } from "../src/stats/recorder";
import { STATS_SHARDS } from "../src/stats/shards";
import {
  admin,
  announce,
  call,
  DAY,
  evictRegion,
  expectInvalid,
  expectProblem,
  freezeTime,
  HOUR,
  regionStub,
  SECOND,
  sendStats,
  sourceOnShard,
  statsOf,
  travel,
  unique,
  unusedStatsTime,
  windowQuery,
} from "./helpers";

const iso = (ms: number) => new Date(ms).toISOString();
const statsAt = (query: string) => admin(`/admin/v1/stats${query}`);
const MAX_WINDOW = 31 * DAY;

/** Records `n` new pairs of messages published at `publishedAt` that went on to `to`. */
function pairs(stats: StatsRecorder, publishedAt: number, n: number, to: OutcomeAt) {
  for (let i = 0; i < n; i++) stats.pair(publishedAt, null, to);
}

const nulls = { p50: null, p90: null, p99: null };
const noPushes = { sent: 0, failed: 0, retried: 0, removed: 0 };
/** The answer over a window in which nothing was published. */
const emptyAnswer = (from: number, to: number): StatsAnswer => ({
  from: iso(from),
  to: iso(to),
  personal: {
    messages: 0,
    deliveries: 0,
    arrived: { push: 0, live: 0, poll: 0 },
    withdrawn: { read: 0, retracted: 0 },
    notArrived: { expired: 0, evicted: 0, forgotten: 0, pending: 0 },
    arrivalRate: null,
    backstopShare: null,
    latencyMs: { push: nulls, live: nulls, poll: nulls },
  },
  push: { webpush: noPushes, fcm: noPushes, apns: noPushes },
  announcements: { published: 0 },
});

afterEach(() => {
  vi.useRealTimers();
});

describe("the window", () => {
  it("is the 24 hours before now by default, from 24 hours before a given `to`, to now from a given `from`", async () => {
    const now = freezeTime(unusedStatsTime(2 * DAY) + DAY + 500);
    const source = unique("user:r");
    await sendStats(source, (stats) =>
      [now - DAY - SECOND, now - DAY, now - HOUR - 1, now - 1, now, now + SECOND].forEach((at) => stats.message(at)),
    );

    const byDefault = await statsOf();
    expect([byDefault.from, byDefault.to]).toEqual([iso(now - DAY), iso(now)]);
    // `now` itself is in the second `to` falls in: whole seconds count.
    expect(byDefault.personal.messages).toBe(4);

    const until = await statsOf(`?to=${iso(now - HOUR)}`);
    expect([until.from, until.to]).toEqual([iso(now - HOUR - DAY), iso(now - HOUR)]);
    expect(until.personal.messages).toBe(3);

    const since = await statsOf(`?from=${iso(now - HOUR)}`);
    expect([since.from, since.to]).toEqual([iso(now - HOUR), iso(now)]);
    expect(since.personal.messages).toBe(3);
  });

  it("may be up to 31 days long, and empty; a longer one, or one that ends before it starts, is a 400 naming from", async () => {
    const to = Date.UTC(2020, 0, 1);
    expect(await statsOf(windowQuery(to - MAX_WINDOW, to))).toEqual(emptyAnswer(to - MAX_WINDOW, to));
    expect(await statsOf(windowQuery(to, to))).toEqual(emptyAnswer(to, to));
    await expectInvalid(await statsAt(windowQuery(to - MAX_WINDOW - 1, to)), "from");
    await expectInvalid(await statsAt(windowQuery(to + 1, to)), "from");
    const now = freezeTime(to);
    await expectInvalid(await statsAt(`?from=${iso(now - MAX_WINDOW - SECOND)}`), "from");
    await expectInvalid(await statsAt(`?from=${iso(now + SECOND)}`), "from");
  });

  it("takes ISO 8601 instants with any offset, and refuses what is not one, naming the parameter", async () => {
    const shifted = await statsOf("?from=2020-01-01T09:00:00%2B08:00&to=2020-01-01T02:00:00.5z");
    expect([shifted.from, shifted.to]).toEqual(["2020-01-01T01:00:00.000Z", "2020-01-01T02:00:00.500Z"]);
    const notInstants = [
      "yesterday", "2026-11-25", "1764064800000", "", "2026-11-25T10:00:00", "2026-11-25T10:00Z",
      "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z", "2026-11-25T24:00:00Z", "2026-11-25T10:60:00Z", "2026-11-25T10:00:60Z",
      "2026-11-25T10:00:00+01:60",
    ];
    for (const text of notInstants) {
      // As `to` alone, each would make a valid window if it were read as some instant.
      await expectInvalid(await statsAt(`?to=${encodeURIComponent(text)}`), "to");
    }
    await expectInvalid(await statsAt("?from=noon&to=2026-11-25T10:00:00+25:00"), "from", "to");
  });

  it("is only for publishers", async () => {
    await expectProblem(await call("/admin/v1/stats"), 401);
  });
});

describe("the counts", () => {
  it("are summed over every shard, the first and the last included", async () => {
    const t = unusedStatsTime();
    const sources = [sourceOnShard(0), sourceOnShard(STATS_SHARDS - 1), sourceOnShard(57)];
    for (const [i, source] of sources.entries()) {
      await sendStats(source, (stats) => {
        for (let n = 0; n <= i; n++) stats.message(t);
        stats.push(t, "webpush", "sent");
      });
    }
    const answer = await statsOf(windowQuery(t, t + SECOND));
    expect([answer.personal.messages, answer.push.webpush.sent]).toEqual([6, 3]);
  });

  it("give deliveries, arrivalRate and backstopShare from the outcomes, and the push counters per channel", async () => {
    const t = unusedStatsTime();
    await sendStats(sourceOnShard(3), (stats) => {
      for (let i = 0; i < 4; i++) stats.message(t);
      pairs(stats, t, 3, { outcome: "push", at: t + 700 });
      pairs(stats, t, 1, { outcome: "live", at: t + 20 });
      pairs(stats, t, 1, { outcome: "poll", at: t + 90_000 });
      pairs(stats, t, 2, { outcome: "read", at: t + 5000 });
      pairs(stats, t, 1, { outcome: "retracted", at: t + 5000 });
      for (const outcome of ["expired", "evicted", "forgotten"] as const) pairs(stats, t, 1, { outcome, at: t + DAY });
      pairs(stats, t, 2, { outcome: "pending", at: null });
      stats.push(t, "fcm", "failed");
      stats.push(t, "fcm", "failed");
      stats.push(t, "apns", "retried");
      stats.push(t, "webpush", "removed");
    });
    const empty = emptyAnswer(t, t + HOUR);
    expect(await statsOf(windowQuery(t, t + HOUR))).toEqual({
      ...empty,
      personal: {
        messages: 4,
        deliveries: 13,
        arrived: { push: 3, live: 1, poll: 1 },
        withdrawn: { read: 2, retracted: 1 },
        notArrived: { expired: 1, evicted: 1, forgotten: 1, pending: 2 },
        // 5 arrived of the 8 that were neither withdrawn nor pending; 2 of the 5 by postbox itself.
        arrivalRate: 5 / 8,
        backstopShare: 2 / 5,
        latencyMs: {
          push: { p50: 700, p90: 700, p99: 700 },
          live: { p50: 20, p90: 20, p99: 20 },
          poll: { p50: 90_016, p90: 90_016, p99: 90_016 },
        },
      },
      push: { ...empty.push, webpush: { ...noPushes, removed: 1 }, fcm: { ...noPushes, failed: 2 }, apns: { ...noPushes, retried: 1 } },
    });
  });

  it("leave a rate null when its divisor is 0: nothing published, only pending pairs, nothing arrived", async () => {
    const t = unusedStatsTime();
    expect(await statsOf(windowQuery(t, t + SECOND))).toEqual(emptyAnswer(t, t + SECOND));

    await sendStats(unique("user:r"), (stats) => pairs(stats, t, 2, { outcome: "pending", at: null }));
    const pending = (await statsOf(windowQuery(t, t + SECOND))).personal;
    expect([pending.deliveries, pending.arrivalRate, pending.backstopShare]).toEqual([2, null, null]);

    const later = t + 10 * SECOND;
    await sendStats(unique("user:r"), (stats) => {
      pairs(stats, later, 1, { outcome: "read", at: later + 1 });
      pairs(stats, later, 1, { outcome: "expired", at: later + DAY });
    });
    const none = (await statsOf(windowQuery(later, later + SECOND))).personal;
    expect([none.deliveries, none.arrivalRate, none.backstopShare, none.latencyMs.push]).toEqual([2, 0, null, nulls]);
  });

  it("give nearest-rank latency percentiles per route, merged over shards, without arrivals that were replaced", async () => {
    const t = unusedStatsTime();
    // Push latencies of 1 … 100 ms, odd ones on one shard and even ones on another.
    for (const [shard, parity] of [[5, 1], [6, 0]] as const) {
      await sendStats(sourceOnShard(shard), (stats) => {
        for (let ms = 1; ms <= 100; ms++) if (ms % 2 === parity) pairs(stats, t, 1, { outcome: "push", at: t + ms });
      });
    }
    // Recorded by push after 10 minutes, then confirmed as an earlier poll hand-over.
    await sendStats(sourceOnShard(7), (stats) => {
      stats.pair(t, null, { outcome: "push", at: t + 10 * 60 * SECOND });
      stats.pair(t, { outcome: "push", at: t + 10 * 60 * SECOND }, { outcome: "poll", at: t + 1500 });
    });
    const { latencyMs, arrived } = (await statsOf(windowQuery(t, t + SECOND))).personal;
    expect(arrived).toEqual({ push: 100, live: 0, poll: 1 });
    expect(latencyMs).toEqual({ push: { p50: 50, p90: 90, p99: 99 }, live: nulls, poll: { p50: 1500, p90: 1500, p99: 1500 } });
  });
});

describe("announcements.published", () => {
  it("counts the ids assigned, one per region of a publish, flushed by each region's alarm when due, once", async () => {
    const at = freezeTime(unusedStatsTime());
    const [a, b] = [unique("r"), unique("r")];
    await announce([a, b]);
    await announce([a]);
    const published = async () => (await statsOf(windowQuery(at, at + SECOND))).announcements.published;
    const runAlarms = async () => {
      for (const region of [a, b]) expect(await runDurableObjectAlarm(regionStub(region))).toBe(true);
    };

    // An alarm before the flush is due (one the expiry set, say) sends nothing yet.
    await runAlarms();
    expect(await published()).toBe(0);
    // What is not flushed yet is in the region's storage.
    await evictRegion(a);
    travel(FLUSH_DELAY_MS);
    await runAlarms();
    expect(await published()).toBe(3);
    await runAlarms();
    expect(await published()).toBe(3);
  });
});
