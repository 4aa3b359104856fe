// What a user's object tells the stats: each message, each (message, device) pair's outcome and
// latency, flushed by its alarm within FLUSH_DELAY_MS; and, when an Analytics Engine dataset is
// bound, a data point per outcome.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { FLUSH_DELAY_MS } from "../src/stats/buffer";
import {
  LAPTOP,
  PHONE,
  SECOND,
  ackUpTo,
  freezeTime,
  makeKnown,
  markRead,
  poll,
  publishMany,
  reportArrived,
  runUserAlarm,
  statsOf,
  unique,
  unusedStatsTime,
  userStub,
  windowQuery,
} from "./helpers";

afterEach(() => {
  vi.useRealTimers();
});

/**
 * A phone and a laptop; three messages at t0; the phone polls at +500 ms and acknowledges all at
 * +1 s; the laptop reports seq 1 arrived at +1.5 s and reads seq 2 at +1.8 s (latencies below 2048 ms
 * are exact in the stats' histogram).
 */
async function threeMessagesTwoDevices(t0: number) {
  const user = unique("u");
  await makeKnown(user, PHONE, LAPTOP);
  await publishMany(user, 3);
  freezeTime(t0 + 500);
  await poll(user, "", PHONE);
  freezeTime(t0 + 1000);
  await ackUpTo(user, 3, PHONE);
  freezeTime(t0 + 1500);
  await reportArrived(user, [1], LAPTOP);
  freezeTime(t0 + 1800);
  await markRead(user, { seqs: [2] }, LAPTOP);
  return user;
}

describe("a user's outcomes in GET /admin/v1/stats", () => {
  it("are counted once the object's alarm flushes them, FLUSH_DELAY_MS after the first change", async () => {
    const t0 = freezeTime(unusedStatsTime());
    const user = await threeMessagesTwoDevices(t0);
    const window = windowQuery(t0, t0 + 60 * SECOND);
    expect((await statsOf(window)).personal.messages).toBe(0);

    freezeTime(t0 + FLUSH_DELAY_MS);
    expect(await runUserAlarm(user)).toBe(true);
    const { personal } = await statsOf(window);
    expect(personal).toStrictEqual({
      messages: 3,
      deliveries: 6,
      arrived: { push: 2, live: 0, poll: 3 },
      withdrawn: { read: 0, retracted: 0 },
      notArrived: { expired: 0, evicted: 0, forgotten: 0, pending: 1 },
      arrivalRate: 1,
      backstopShare: 0.6,
      latencyMs: {
        push: { p50: 1500, p90: 1800, p99: 1800 },
        live: { p50: null, p90: null, p99: null },
        poll: { p50: 500, p90: 500, p99: 500 },
      },
    });
  });

  it("a second run of the alarm counts nothing twice", async () => {
    const t0 = freezeTime(unusedStatsTime());
    const user = await threeMessagesTwoDevices(t0);
    freezeTime(t0 + FLUSH_DELAY_MS);
    await runUserAlarm(user);
    await runInDurableObject(userStub(user), (instance) => instance.alarm());
    expect((await statsOf(windowQuery(t0, t0 + 60 * SECOND))).personal.deliveries).toBe(6);
  });
});

describe("with an Analytics Engine dataset bound as ARRIVAL_ANALYTICS", () => {
  it("writes one data point per outcome: user, outcome, the one it replaces, latency, publish time", async () => {
    const t0 = freezeTime(unusedStatsTime());
    const user = unique("u");
    const points: AnalyticsEngineDataPoint[] = [];
    const dataset: AnalyticsEngineDataset = { writeDataPoint: (point) => void points.push(point!) };
    await runInDurableObject(userStub(user), (instance) => {
      Object.assign(instance, { env: { ...env, ARRIVAL_ANALYTICS: dataset } });
    });
    await makeKnown(user, PHONE);
    await publishMany(user, 1);
    freezeTime(t0 + SECOND);
    await reportArrived(user, [1], PHONE);
    expect(points).toStrictEqual([{ indexes: [user], blobs: ["push", "pending"], doubles: [SECOND, t0] }]);
  });
});
