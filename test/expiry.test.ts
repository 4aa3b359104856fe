// The pending and unread sets are cleared their TTL after the last insert, by
// the object's alarm. Time moves by fake Date (shared with the Durable Objects,
// which run in this isolate); the alarm is run with runDurableObjectAlarm.
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FLUSH_DELAY_MS } from "../src/stats/buffer";
import {
  ackUpTo,
  admin,
  aheadOfNow,
  DAY,
  DEVICE_TTL,
  freezeTime,
  messagesPath,
  PENDING_TTL,
  poll,
  publish,
  runUserAlarm,
  SECOND,
  storedInUser,
  unique,
  UNREAD_TTL,
  unreadOf,
  userStub,
  userView,
  userWithMessages,
} from "./helpers";

const IDEMPOTENCY_TTL = DAY;

let t0: number;

beforeEach(() => {
  t0 = freezeTime(aheadOfNow());
});

afterEach(() => {
  vi.useRealTimers();
});

const at = (ms: number) => vi.setSystemTime(t0 + ms);
/** Moves the clock to t0 + `ms` and runs the user's alarm; whether one was set. */
const alarmAt = (userId: string, ms: number) => {
  at(ms);
  return runUserAlarm(userId);
};
const iso = (ms: number) => new Date(t0 + ms).toISOString();
/** A publish's stats are flushed first (FLUSH_DELAY_MS after it, by the same alarm); then the alarm is the sets' own. */
const statsFlushed = (userId: string) => alarmAt(userId, FLUSH_DELAY_MS);

describe("the pending set's TTL", () => {
  it("the alarm clears the pending set PENDING_TTL_SECONDS after the insert", async () => {
    const user = await userWithMessages(2);
    expect((await storedInUser(user)).alarm).toBe(t0 + FLUSH_DELAY_MS);
    await statsFlushed(user);
    expect((await storedInUser(user)).alarm).toBe(t0 + PENDING_TTL);

    expect(await alarmAt(user, PENDING_TTL)).toBe(true);
    const after = await storedInUser(user);
    expect(after.pending).toEqual([]);
    expect(after.unread).toEqual([1, 2]);
    expect((await poll(user)).personal).toEqual([]);
  });

  it("the TTL is measured from the last insert, not the first", async () => {
    const user = unique("u");
    await publish(user, { body: "first" });
    at(PENDING_TTL - 60 * SECOND);
    await publish(user, { body: "second" });

    await alarmAt(user, PENDING_TTL + SECOND);
    expect((await storedInUser(user)).pending).toEqual([1, 2]);
    expect((await poll(user)).personal.map((m) => m.body)).toEqual(["first", "second"]);

    expect(await alarmAt(user, 2 * PENDING_TTL)).toBe(true);
    expect((await storedInUser(user)).pending).toEqual([]);
    expect((await poll(user)).personal).toEqual([]);
  });

  it("after a later insert, the alarm at the first deadline removes nothing and re-aims at the new one", async () => {
    const user = await userWithMessages(1);
    at(DAY);
    await publish(user);
    expect(await alarmAt(user, PENDING_TTL)).toBe(true);
    expect((await storedInUser(user)).pending).toEqual([1, 2]);
    expect((await storedInUser(user)).alarm).toBe(t0 + DAY + PENDING_TTL);
  });

  it("an expired set is not shown even before the alarm ran", async () => {
    const user = await userWithMessages(1);
    at(PENDING_TTL);
    const answer = await poll(user);
    expect(answer.personal).toEqual([]);
    expect(answer.ack).toBeNull();
    expect((await userView(user)).pending).toStrictEqual({ count: 0, oldestSeq: null, newestSeq: null, expiresAt: null });
  });

  it("one second before the deadline the set is still there", async () => {
    const user = await userWithMessages(1);
    at(PENDING_TTL - SECOND);
    expect((await poll(user)).personal.map((m) => m.seq)).toEqual([1]);
    expect((await userView(user)).pending.count).toBe(1);
  });

  it("acknowledging does not extend or shorten the TTL", async () => {
    const user = await userWithMessages(2);
    at(DAY);
    await ackUpTo(user, 1);
    expect((await userView(user)).pending.expiresAt).toBe(iso(PENDING_TTL));
    await alarmAt(user, PENDING_TTL);
    expect((await storedInUser(user)).pending).toEqual([]);
  });
});

describe("the unread set's TTL", () => {
  it("pending is gone at 7 d while unread stays until 30 d", async () => {
    const user = await userWithMessages(1);

    expect(await alarmAt(user, PENDING_TTL)).toBe(true);
    let now = await storedInUser(user);
    expect(now.pending).toEqual([]);
    expect(now.unread).toEqual([1]);
    expect(await unreadOf(user)).toMatchObject({ count: 1 });
    // The alarm was re-aimed at the unread deadline.
    expect(now.alarm).toBe(t0 + UNREAD_TTL);

    at(UNREAD_TTL - SECOND);
    expect((await unreadOf(user)).count).toBe(1);

    expect(await alarmAt(user, UNREAD_TTL)).toBe(true);
    now = await storedInUser(user);
    expect(now.unread).toEqual([]);
    // What is left is the deadline to forget the device that read at UNREAD_TTL - 1 s.
    expect(now.alarm).toBe(t0 + UNREAD_TTL - SECOND + DEVICE_TTL);
    expect(await unreadOf(user)).toStrictEqual({ count: 0, messages: [] });
  });

  it("the unread TTL is measured from the last insert", async () => {
    const user = await userWithMessages(1);
    at(UNREAD_TTL - 60 * SECOND);
    await publish(user);
    await alarmAt(user, UNREAD_TTL + SECOND);
    expect((await storedInUser(user)).unread).toEqual([1, 2]);
    expect((await unreadOf(user)).count).toBe(2);
    await alarmAt(user, 2 * UNREAD_TTL);
    expect((await storedInUser(user)).unread).toEqual([]);
  });
});

describe("the admin view's expiresAt", () => {
  it("is the last insert plus each set's TTL", async () => {
    const user = await userWithMessages(1);
    let view = await userView(user);
    expect(view.pending.expiresAt).toBe(iso(PENDING_TTL));
    expect(view.unread.expiresAt).toBe(iso(UNREAD_TTL));

    at(3600 * SECOND);
    await publish(user);
    view = await userView(user);
    expect(view.pending.expiresAt).toBe(iso(3600 * SECOND + PENDING_TTL));
    expect(view.unread.expiresAt).toBe(iso(3600 * SECOND + UNREAD_TTL));
  });

  it("turns null for a set once it was cleared, while the other keeps its own", async () => {
    const user = await userWithMessages(1);
    await alarmAt(user, PENDING_TTL);
    const view = await userView(user);
    expect(view.pending).toStrictEqual({ count: 0, oldestSeq: null, newestSeq: null, expiresAt: null });
    expect(view.unread).toStrictEqual({ count: 1, expiresAt: iso(UNREAD_TTL) });
  });

  it("the alarm fires exactly at the expiresAt the admin view shows", async () => {
    const user = await userWithMessages(1);
    await statsFlushed(user);
    const view = await userView(user);
    expect(new Date(view.pending.expiresAt!).getTime()).toBe((await storedInUser(user)).alarm);
  });

  it("is null for an unused user", async () => {
    const view = await userView(unique("u"));
    expect(view.pending.expiresAt).toBeNull();
    expect(view.unread.expiresAt).toBeNull();
  });
});

describe("seq after expiry", () => {
  it("seq continues after both sets were cleared", async () => {
    const user = await userWithMessages(2);
    await alarmAt(user, PENDING_TTL);
    await alarmAt(user, UNREAD_TTL);
    expect(await storedInUser(user)).toMatchObject({ pending: [], unread: [] });
    expect((await publish(user)).seq).toBe(3);
    expect((await poll(user)).personal.map((m) => m.seq)).toEqual([3]);
  });

  it("a publish after the pending set expired starts a fresh TTL", async () => {
    const user = await userWithMessages(1);
    at(PENDING_TTL + DAY);
    await publish(user);
    expect((await userView(user)).pending).toStrictEqual({
      count: 1,
      oldestSeq: 2,
      newestSeq: 2,
      expiresAt: iso(PENDING_TTL + DAY + PENDING_TTL),
    });
  });
});

describe("the alarm itself", () => {
  it("running the alarm twice gives the same result", async () => {
    const user = await userWithMessages(2);
    expect(await alarmAt(user, PENDING_TTL)).toBe(true);
    const once = { stored: await storedInUser(user), view: await userView(user) };

    // Again through the runtime (the alarm was re-armed for the unread deadline) ...
    expect(await runUserAlarm(user)).toBe(true);
    expect({ stored: await storedInUser(user), view: await userView(user) }).toStrictEqual(once);
    // ... and by calling the handler directly.
    await runInDurableObject(userStub(user), (instance) => instance.alarm());
    expect({ stored: await storedInUser(user), view: await userView(user) }).toStrictEqual(once);
    expect(once.stored).toMatchObject({ pending: [], unread: [1, 2], alarm: t0 + UNREAD_TTL });
  });

  it("an alarm that fires before the deadline removes nothing and stays armed", async () => {
    const user = await userWithMessages(1);
    expect(await alarmAt(user, PENDING_TTL - SECOND)).toBe(true);
    expect(await storedInUser(user)).toStrictEqual({ pending: [1], unread: [1], idempotencyKeys: 0, alarm: t0 + PENDING_TTL });
    expect((await poll(user)).personal.map((m) => m.seq)).toEqual([1]);
  });

  it("an alarm right after publishing removes nothing (the stats' flush comes first)", async () => {
    const user = await userWithMessages(1);
    expect(await runUserAlarm(user)).toBe(true);
    expect(await storedInUser(user)).toStrictEqual({ pending: [1], unread: [1], idempotencyKeys: 0, alarm: t0 + FLUSH_DELAY_MS });
    await statsFlushed(user);
    expect(await storedInUser(user)).toStrictEqual({ pending: [1], unread: [1], idempotencyKeys: 0, alarm: t0 + PENDING_TTL });
  });

  it("a user no client has named has no alarm; a client's first request arms its device's", async () => {
    const user = unique("u");
    await userView(user);
    expect(await runUserAlarm(user)).toBe(false);
    await poll(user);
    expect((await storedInUser(user)).alarm).toBe(t0 + DEVICE_TTL);
  });

  it("an idempotency key's expiry fires first, forgets the key and leaves the sets alone", async () => {
    const user = unique("u");
    const keyed = await admin(messagesPath(user), {
      method: "POST",
      json: { body: "b" },
      headers: { "Idempotency-Key": "k" },
    });
    expect(keyed.status).toBe(201);
    await statsFlushed(user);
    expect((await storedInUser(user)).alarm).toBe(t0 + IDEMPOTENCY_TTL);

    expect(await alarmAt(user, IDEMPOTENCY_TTL)).toBe(true);
    expect(await storedInUser(user)).toStrictEqual({ pending: [1], unread: [1], idempotencyKeys: 0, alarm: t0 + PENDING_TTL });
  });
});
