// The pending push attempts in a user's object: what is due, leased so it is handed out once; answers
// recorded once; retries, give-ups, acknowledgements; and reads in proportion to what is returned.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { PushResult } from "../src/push/channel";
import { MeteredSql } from "../src/shared/sql";
import { PUSH_LEASE_MS, PushJobs, type PushTarget } from "../src/user/push-jobs";
import { range, SECOND, unique, userStub } from "./helpers";

const T0 = Date.UTC(2025, 0, 1);
const PHONE: PushTarget = { device: "phone", channel: "fcm" };
const LAPTOP: PushTarget = { device: "laptop", channel: "webpush" };
const SENT: PushResult = { outcome: "sent", status: 200 };
const UNAVAILABLE: PushResult = { outcome: "retry", status: 503 };

/** A fresh user object's push jobs, PUSH_MAX_ATTEMPTS as given, the jitter at its lowest (backoff 500 ms, 1 s, 2 s …). */
function withPushJobs<T>(run: (jobs: PushJobs, sql: MeteredSql) => T, maxAttempts = 5) {
  return runInDurableObject(userStub(unique("u")), (_instance, { storage }) => {
    const sql = new MeteredSql(storage.sql);
    return run(new PushJobs(sql, () => maxAttempts, () => 0), sql);
  });
}

const lastStatus = (sql: MeteredSql, device: string, seq: number) =>
  sql.first<{ last_status: number | null }>("SELECT last_status FROM push_jobs WHERE device = ? AND seq = ?", device, seq)?.last_status;

describe("push jobs", () => {
  it("hands out what is due oldest first, each once: a second due() before the answers gives nothing", async () => {
    await withPushJobs((jobs) => {
      jobs.schedule(2, [PHONE, LAPTOP], T0 + SECOND);
      jobs.schedule(1, [PHONE], T0 + SECOND);
      jobs.schedule(3, [PHONE], T0 + 5 * SECOND);
      expect(jobs.nextDueAt()).toBe(T0 + SECOND);
      expect(jobs.due(T0).send).toEqual([]);
      const { send } = jobs.due(T0 + SECOND);
      expect(send).toEqual([
        { device: "phone", seq: 1, channel: "fcm", attempt: 1, firstDueAt: T0 + SECOND, retractUntil: null },
        { device: "laptop", seq: 2, channel: "webpush", attempt: 1, firstDueAt: T0 + SECOND, retractUntil: null },
        { device: "phone", seq: 2, channel: "fcm", attempt: 1, firstDueAt: T0 + SECOND, retractUntil: null },
      ]);
      expect(jobs.due(T0 + SECOND)).toEqual({ send: [], givenUp: [] });
      expect(jobs.nextDueAt()).toBe(T0 + 5 * SECOND);
      expect(jobs.due(T0 + 5 * SECOND, 10).send.map((job) => job.seq)).toEqual([3]);
    });
  });

  it("ends a job when it is sent, dead or failed, and records each answer only once", async () => {
    await withPushJobs((jobs) => {
      jobs.schedule(1, [PHONE, LAPTOP, { device: "tablet", channel: "apns" }], T0);
      const [first, second, third] = jobs.due(T0).send;
      expect(jobs.record(first!, SENT, T0 + 100)).toBe("sent");
      expect(jobs.record(second!, { outcome: "dead", status: 410 }, T0 + 100)).toBe("dead");
      expect(jobs.record(third!, { outcome: "failed", status: 400 }, T0 + 100)).toBe("failed");
      expect([jobs.record(first!, SENT, T0 + 200), jobs.record(second!, UNAVAILABLE, T0 + 200)]).toEqual(["stale", "stale"]);
      expect(jobs.nextDueAt()).toBeNull();
      expect(jobs.due(T0 + PUSH_LEASE_MS).send).toEqual([]);
    });
  });

  it("schedules a retry by the policy, keeps its status, and a repeated answer moves nothing", async () => {
    await withPushJobs((jobs, sql) => {
      jobs.schedule(1, [PHONE], T0);
      const [attempt] = jobs.due(T0).send;
      expect(jobs.record(attempt!, UNAVAILABLE, T0 + 300)).toBe("retrying");
      expect([jobs.nextDueAt(), lastStatus(sql, "phone", 1)]).toEqual([T0 + 800, 503]);
      expect(jobs.record(attempt!, { outcome: "retry", status: 429, retryAfterMs: 30 * SECOND }, T0 + 400)).toBe("stale");
      expect([jobs.nextDueAt(), lastStatus(sql, "phone", 1)]).toEqual([T0 + 800, 503]);
      expect(jobs.due(T0 + 799).send).toEqual([]);
      const [retry] = jobs.due(T0 + 800).send;
      expect(retry).toMatchObject({ attempt: 2, firstDueAt: T0 });
      expect(jobs.record(retry!, { outcome: "retry", status: 429, retryAfterMs: 30 * SECOND }, T0 + 900)).toBe("retrying");
      expect(jobs.nextDueAt()).toBe(T0 + 30_900);
    });
  });

  it("gives up after PUSH_MAX_ATTEMPTS attempts in all", async () => {
    await withPushJobs((jobs) => {
      jobs.schedule(1, [PHONE], T0);
      const [first] = jobs.due(T0).send;
      expect(jobs.record(first!, UNAVAILABLE, T0)).toBe("retrying");
      const [second] = jobs.due(T0 + 500).send;
      expect(second!.attempt).toBe(2);
      expect(jobs.record(second!, UNAVAILABLE, T0 + 600)).toBe("given up");
      expect([jobs.nextDueAt(), jobs.record(second!, UNAVAILABLE, T0 + 700)]).toEqual([null, "stale"]);
    }, 2);
  });

  it("tries again an attempt whose answer was lost when its lease ends, and gives it up when it was the last", async () => {
    await withPushJobs((jobs) => {
      jobs.schedule(1, [PHONE], T0);
      expect(jobs.due(T0).send.map((job) => job.attempt)).toEqual([1]);
      expect(jobs.nextDueAt()).toBe(T0 + PUSH_LEASE_MS);
      expect(jobs.due(T0 + PUSH_LEASE_MS - 1).send).toEqual([]);
      const [again] = jobs.due(T0 + PUSH_LEASE_MS).send;
      expect(again!.attempt).toBe(2);
      expect(jobs.due(T0 + 2 * PUSH_LEASE_MS)).toEqual({ send: [], givenUp: [{ ...again, attempt: 2 }] });
      expect([jobs.nextDueAt(), jobs.record(again!, SENT, T0 + 2 * PUSH_LEASE_MS)]).toEqual([null, "stale"]);
    }, 2);
  });

  it("cancels a device's jobs up to the seq it acknowledged, an attempt in flight included, and no other device's", async () => {
    await withPushJobs((jobs) => {
      for (const seq of [1, 2, 3]) jobs.schedule(seq, [PHONE, LAPTOP], T0);
      const inFlight = jobs.due(T0, 1).send[0]!;
      expect(inFlight).toMatchObject({ device: "laptop", seq: 1 });
      expect(jobs.cancelFor("laptop", 2)).toBe(2);
      expect(jobs.record(inFlight, UNAVAILABLE, T0 + 100)).toBe("stale");
      expect(jobs.due(T0).send.map(({ device, seq }) => `${device} ${seq}`)).toEqual(["phone 1", "phone 2", "laptop 3", "phone 3"]);
    });
  });

  it("keeps a job as it is when the same message is scheduled to the device again", async () => {
    await withPushJobs((jobs) => {
      jobs.schedule(1, [PHONE], T0);
      const [first] = jobs.due(T0).send;
      jobs.schedule(1, [PHONE], T0 + 100);
      expect(jobs.due(T0 + 100).send).toEqual([]);
      expect(jobs.record(first!, SENT, T0 + 200)).toBe("sent");
    });
  });

  it("reads about the rows it hands out, however many are waiting", async () => {
    await withPushJobs((jobs, sql) => {
      for (const seq of range(1, 200)) jobs.schedule(seq, [PHONE, LAPTOP], T0 + seq);
      const cost = (run: () => unknown) => {
        const before = sql.rowsRead;
        run();
        return sql.rowsRead - before;
      };
      // Of 400 jobs all due: about two rows per attempt handed out (the row, its lease), three per cancel (with the index).
      for (const limit of [1, 5, 50]) {
        expect(cost(() => expect(jobs.due(T0 + 400, limit).send).toHaveLength(limit))).toBeLessThanOrEqual(2 * limit + 1);
      }
      expect(cost(() => jobs.nextDueAt())).toBeLessThanOrEqual(2);
      expect(cost(() => expect(jobs.cancelFor("phone", 3)).toBe(3))).toBeLessThanOrEqual(3 * 3 + 1);
      expect(cost(() => expect(jobs.cancelFor("phone", 33)).toBe(30))).toBeLessThanOrEqual(3 * 30 + 1);
    });
  });
});
