// Scheduled personal messages (contract v1.1, "Scheduled delivery"): a deliverAt ahead holds the
// message in the user's object, invisible to every read, until its alarm (or any read after
// deliverAt) publishes it through the normal publish path, with the next seq, createdAt and pushes
// then; the listing, cancelling, the bounds of deliverAt, and Idempotency-Key.
import { afterEach, describe, expect, it, vi } from "vitest";
import { FLUSH_DELAY_MS } from "../src/stats/buffer";
import {
  admin,
  aheadOfNow,
  cancelled,
  cancelScheduled,
  expectInvalid,
  expectProblem,
  freezeTime,
  messagesPath,
  PENDING_TTL,
  PHONE,
  poll,
  publish,
  publishAt,
  runUserAlarm,
  scheduleAt,
  scheduledOf,
  SECOND,
  statsOf,
  travel,
  unique,
  unreadOf,
  unusedStatsTime,
  userView,
  windowQuery,
  type PublishAnswer,
} from "./helpers";
import { caughtUpSocket, closeAllLive, personalSeqs } from "./live-helpers";
import { registerPush, seqsPushedTo, waitForPushes } from "./push-service";

afterEach(async () => {
  vi.useRealTimers();
  await closeAllLive();
});

const bodies = async (user: string) => (await poll(user, "?limit=500")).personal.map((m) => m.body);

describe("a personal message with a deliverAt ahead", () => {
  it("answers 202 with its id and deliverAt, and is invisible to poll, unread, live and the admin view until due", async () => {
    const user = unique("sched");
    const t0 = freezeTime(aheadOfNow());
    const socket = await caughtUpSocket(user);
    await publish(user, { body: "first" });
    const answer = await scheduleAt({ user }, t0 + 60 * SECOND, { title: "Later", body: "held" });
    expect(answer).toEqual({ scheduled: expect.stringMatching(/^u\./), deliverAt: new Date(t0 + 60 * SECOND).toISOString() });

    expect(await bodies(user)).toEqual(["first"]);
    expect((await unreadOf(user)).count).toBe(1);
    const view = await userView(user);
    expect([view.pending.count, view.pending.newestSeq]).toEqual([1, 1]);
    await socket.waitForFrames(2);
    travel(59 * SECOND);
    expect(await bodies(user)).toEqual(["first"]);
    expect(personalSeqs(socket.frames)).toEqual([1]);
  });

  it("is delivered by the alarm at deliverAt with the next seq after what was published meanwhile, createdAt then, live too", async () => {
    const user = unique("sched");
    const t0 = freezeTime(aheadOfNow());
    await publish(user, { body: "before" });
    await scheduleAt({ user }, t0 + 60 * SECOND, { title: "Later", body: "held", data: { n: 1 } });
    await publish(user, { body: "meanwhile" });
    const socket = await caughtUpSocket(user);

    travel(90 * SECOND);
    expect(await runUserAlarm(user)).toBe(true);
    const { personal } = await poll(user);
    expect(personal.map((m) => [m.seq, m.body])).toEqual([[1, "before"], [2, "meanwhile"], [3, "held"]]);
    // Delivered when the alarm ran (90 s in), not at deliverAt: createdAt is the delivery's.
    expect(personal[2]).toEqual({ seq: 3, title: "Later", body: "held", data: { n: 1 }, createdAt: new Date(t0 + 90 * SECOND).toISOString() });
    await socket.waitForFrame((frame) => frame.type === "personal" && frame.message.seq === 3, "the scheduled message live");
    expect(await scheduledOf({ user })).toEqual([]);
  });

  it("is delivered by any read after deliverAt, before the alarm; a retried alarm then delivers nothing again", async () => {
    const user = unique("sched");
    const t0 = freezeTime(aheadOfNow());
    await scheduleAt({ user }, t0 + 10 * SECOND, { body: "one" });
    travel(11 * SECOND);
    expect(await bodies(user)).toEqual(["one"]);
    await runUserAlarm(user);
    await runUserAlarm(user);
    expect(await bodies(user)).toEqual(["one"]);
    expect((await userView(user)).pending.newestSeq).toBe(1);
  });

  it("a retried alarm delivers once", async () => {
    const user = unique("sched");
    const t0 = freezeTime(aheadOfNow());
    await scheduleAt({ user }, t0 + 10 * SECOND, { body: "once" });
    travel(10 * SECOND);
    expect(await runUserAlarm(user)).toBe(true);
    await runUserAlarm(user);
    expect(await bodies(user)).toEqual(["once"]);
  });

  it("several due at once are delivered soonest first, and listed soonest first while held", async () => {
    const user = unique("sched");
    const t0 = freezeTime(aheadOfNow());
    const c = await scheduleAt({ user }, t0 + 30 * SECOND, { body: "c" });
    const a = await scheduleAt({ user }, t0 + 10 * SECOND, { body: "a" });
    const b = await scheduleAt({ user }, t0 + 20 * SECOND, { title: "B", body: "b" });
    expect(await scheduledOf({ user })).toEqual([
      { id: a.scheduled, deliverAt: a.deliverAt, message: { body: "a" } },
      { id: b.scheduled, deliverAt: b.deliverAt, message: { title: "B", body: "b" } },
      { id: c.scheduled, deliverAt: c.deliverAt, message: { body: "c" } },
    ]);
    travel(20 * SECOND);
    await runUserAlarm(user);
    expect(await bodies(user)).toEqual(["a", "b"]);
    expect((await scheduledOf({ user })).map((entry) => entry.id)).toEqual([c.scheduled]);
    // The alarm was armed again for the one left.
    travel(10 * SECOND);
    expect(await runUserAlarm(user)).toBe(true);
    expect(await scheduledOf({ user })).toEqual([]);
  });

  it("is pushed when it is delivered, not when it is scheduled", async () => {
    const user = unique("sched");
    const t0 = freezeTime(aheadOfNow());
    const endpoint = await registerPush(user, "webpush", PHONE);
    await scheduleAt({ user }, t0 + 60 * SECOND, { body: "pushed later" });
    await publish(user, { body: "now" });
    await waitForPushes(endpoint, 1);
    expect(await seqsPushedTo(endpoint)).toEqual([1]);
    travel(60 * SECOND);
    await runUserAlarm(user);
    const pushes = await waitForPushes(endpoint, 2);
    expect(pushes.map((push) => push.payload)).toEqual([
      expect.objectContaining({ type: "personal" }),
      { type: "personal", message: { seq: 2, body: "pushed later", createdAt: new Date(t0 + 60 * SECOND).toISOString() } },
    ]);
  });
});

describe("the stats", () => {
  it("count a scheduled message when it is delivered, at its delivery time", async () => {
    const user = unique("sched");
    const t0 = freezeTime(unusedStatsTime());
    await scheduleAt({ user }, t0 + 60 * SECOND);
    travel(60 * SECOND);
    await runUserAlarm(user);
    travel(FLUSH_DELAY_MS);
    await runUserAlarm(user);
    const messages = async (from: number, to: number) => (await statsOf(windowQuery(from, to))).personal.messages;
    expect([await messages(t0, t0 + 60 * SECOND), await messages(t0 + 60 * SECOND, t0 + 61 * SECOND)]).toEqual([0, 1]);
  });
});

describe("deliverAt's bounds", () => {
  it("not later than now publishes at once: 201, exactly as without it", async () => {
    const user = unique("sched");
    const t0 = freezeTime(aheadOfNow());
    for (const at of [t0, t0 - 3_600 * SECOND]) {
      const res = await publishAt({ user }, at, { body: "now" });
      expect(res.status).toBe(201);
      expect(Object.keys((await res.json()) as PublishAnswer).sort()).toEqual(["createdAt", "evicted", "pushed", "replaced", "seq"]);
    }
    const { personal } = await poll(user);
    expect(personal.map((m) => [m.seq, m.createdAt])).toEqual([[1, new Date(t0).toISOString()], [2, new Date(t0).toISOString()]]);
    expect(await scheduledOf({ user })).toEqual([]);
  });

  it("at most PENDING_TTL_SECONDS ahead: one millisecond more is a 400 naming deliverAt, and stores nothing", async () => {
    const user = unique("sched");
    const t0 = freezeTime(aheadOfNow());
    await expectInvalid(await publishAt({ user }, t0 + PENDING_TTL + 1, { body: "too far" }), "deliverAt");
    await expectInvalid(await publishAt({ user }, "tomorrow", { body: "not an instant" }), "deliverAt");
    expect(await scheduledOf({ user })).toEqual([]);
    expect((await publishAt({ user }, t0 + PENDING_TTL, { body: "just so" })).status).toBe(202);
  });
});

describe("cancelling", () => {
  it("answers true once, then false; a delivered one false; an unknown well-formed id false; a malformed one 400", async () => {
    const user = unique("sched");
    const t0 = freezeTime(aheadOfNow());
    const kept = await scheduleAt({ user }, t0 + 20 * SECOND, { body: "kept" });
    const dropped = await scheduleAt({ user }, t0 + 10 * SECOND, { body: "dropped" });
    expect(await cancelled(dropped.scheduled)).toBe(true);
    expect(await cancelled(dropped.scheduled)).toBe(false);
    expect((await scheduledOf({ user })).map((entry) => entry.id)).toEqual([kept.scheduled]);

    travel(20 * SECOND);
    await runUserAlarm(user);
    expect(await bodies(user)).toEqual(["kept"]);
    expect(await cancelled(kept.scheduled)).toBe(false);

    const unknown = kept.scheduled.replace(/\.[^.]+$/, `.${"A".repeat(22)}`);
    expect(await cancelled(unknown)).toBe(false);
    for (const malformed of ["nope", "u.!!.AAAAAAAAAAAAAAAAAAAAAA", `x${kept.scheduled.slice(1)}`, `u.${btoa("no spaces")}.${"A".repeat(22)}`]) {
      await expectInvalid(await cancelScheduled(malformed), "id");
    }
  });
});

describe("Idempotency-Key with deliverAt", () => {
  it("a repeat answers the first 202 (same id) and holds nothing again, also once delivered; another deliverAt is 422", async () => {
    const user = unique("sched");
    const t0 = freezeTime(aheadOfNow());
    const headers = { "Idempotency-Key": "later-1" };
    const first = await scheduleAt({ user }, t0 + 10 * SECOND, { body: "once" }, headers);
    expect(await scheduleAt({ user }, t0 + 10 * SECOND, { body: "once" }, headers)).toEqual(first);
    expect(await scheduledOf({ user })).toHaveLength(1);
    await expectProblem(await publishAt({ user }, t0 + 20 * SECOND, { body: "once" }, headers), 422);
    await expectProblem(await admin(messagesPath(user), { method: "POST", headers, json: { body: "once" } }), 422);

    travel(10 * SECOND);
    await runUserAlarm(user);
    expect(await scheduleAt({ user }, t0 + 10 * SECOND, { body: "once" }, headers)).toEqual(first);
    expect(await bodies(user)).toEqual(["once"]);
    expect(await scheduledOf({ user })).toEqual([]);
  });

  it("a deliverAt not later than now keeps the publish's semantics: a repeat answers the first 201", async () => {
    const user = unique("sched");
    const t0 = freezeTime(aheadOfNow());
    const headers = { "Idempotency-Key": "now-1" };
    const first = await publishAt({ user }, t0 - SECOND, { body: "now" }, headers);
    const again = await publishAt({ user }, t0 - SECOND, { body: "now" }, headers);
    expect([first.status, again.status]).toEqual([201, 201]);
    expect(await again.json()).toEqual(await first.json());
    expect(await bodies(user)).toEqual(["now"]);
  });
});
