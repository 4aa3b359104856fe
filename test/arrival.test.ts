// Arrival (contract v1.1): the outcome of every (message, device) pair and the evidence that
// decides it — an `arrived` report, or an acknowledgement or read receipt judged by the last
// hand-over before it — as GET /admin/v1/users/{userId}/messages/{seq} shows it. Time is frozen,
// so each outcome's `at` is exact.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  DEVICE_TTL,
  type ClientClaims,
  LAPTOP,
  PENDING_TTL,
  PHONE,
  SECOND,
  ackUpTo,
  admin,
  aheadOfNow,
  client,
  expectInvalid,
  expectProblem,
  freezeTime,
  makeKnown,
  markRead,
  outcomesOf,
  pendingSeqs,
  poll,
  publish,
  publishMany,
  reportArrived,
  runUserAlarm,
  travel,
  unique,
  unreadOf,
} from "./helpers";
import { caughtUpSocket, closeAllLive } from "./live-helpers";

let t0 = 0;
beforeEach(() => {
  t0 = freezeTime(aheadOfNow());
});
afterEach(async () => {
  await closeAllLive();
  vi.useRealTimers();
});

/** A user whose phone (and the other devices given, in order) is known, then `count` messages published at t0. */
async function userWithDevices(count: number, ...others: ClientClaims[]) {
  const user = unique("u");
  await makeKnown(user, PHONE, ...others);
  await publishMany(user, count);
  return user;
}

async function recorded(user: string, seqs: number[], claims = PHONE) {
  const res = await reportArrived(user, seqs, claims);
  expect(res.status).toBe(200);
  return ((await res.json()) as { recorded: number[] }).recorded;
}

async function acked(user: string, upTo: number, claims = PHONE) {
  expect((await ackUpTo(user, upTo, claims)).status).toBe(200);
}

describe("POST /v1/inbox/arrived", () => {
  it("records push at the report's time for each pair it opens; the messages stay pending", async () => {
    const user = await userWithDevices(2);
    travel(3 * SECOND);
    expect(await recorded(user, [2, 99, 1])).toEqual([1, 2]);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["push", t0 + 3 * SECOND] });
    expect(await pendingSeqs(user, PHONE)).toEqual([1, 2]);
  });

  it("a second report of the same seqs records nothing and keeps the first time", async () => {
    const user = await userWithDevices(1);
    expect(await recorded(user, [1])).toEqual([1]);
    travel(SECOND);
    expect(await recorded(user, [1])).toEqual([]);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["push", t0] });
  });

  it("a seq the device has acknowledged, or one never published, records nothing", async () => {
    const user = await userWithDevices(1);
    await acked(user, 1);
    travel(SECOND);
    expect(await recorded(user, [1, 7])).toEqual([]);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["push", t0] });
  });

  it.each([
    ["no via", { seqs: [1] }, "via"],
    ["another via", { seqs: [1], via: "sms" }, "via"],
    ["no seqs", { via: "push" }, "seqs"],
    ["an empty list", { seqs: [], via: "push" }, "seqs"],
    ["501 seqs", { seqs: Array.from({ length: 501 }, (_, i) => i + 1), via: "push" }, "seqs"],
    ["seq 0", { seqs: [0], via: "push" }, "seqs.0"],
  ])("%s: 400 naming the field, and nothing is recorded", async (_, body, field) => {
    const user = await userWithDevices(1);
    await expectInvalid(await client(user, "/v1/inbox/arrived", { ...PHONE, method: "POST", json: body }), field);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["pending", null] });
  });
});

describe("an acknowledgement proves arrival by the last hand-over before it", () => {
  it("polled, then acknowledged: poll, at the poll's time", async () => {
    const user = await userWithDevices(1);
    travel(SECOND);
    await poll(user, "", PHONE);
    travel(SECOND);
    await acked(user, 1);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["poll", t0 + SECOND] });
  });

  it("polled twice: the last poll's time", async () => {
    const user = await userWithDevices(1);
    await poll(user, "", PHONE);
    travel(SECOND);
    await poll(user, "", PHONE);
    travel(SECOND);
    await poll(user, "?ack=1", PHONE);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["poll", t0 + SECOND] });
  });

  it("returned by GET /v1/inbox/unread is a poll hand-over too", async () => {
    const user = await userWithDevices(1);
    travel(SECOND);
    await unreadOf(user, "", PHONE);
    travel(SECOND);
    await acked(user, 1);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["poll", t0 + SECOND] });
  });

  it("consumed by the poll that returned it: poll, at once", async () => {
    const user = await userWithDevices(1);
    travel(SECOND);
    await poll(user, "?consume=true", PHONE);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["poll", t0 + SECOND] });
  });

  it("a live frame, acknowledged on the socket: live, at the publish", async () => {
    const user = unique("u");
    const socket = await caughtUpSocket(user, PHONE);
    travel(SECOND);
    await publish(user);
    await socket.waitForPersonal(1);
    travel(SECOND);
    expect(await socket.request({ type: "ack", upTo: 1 })).toMatchObject({ type: "ok", pending: 0 });
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["live", t0 + SECOND] });
  });

  it("in a live connection's catch-up frame: live, at the connect", async () => {
    const user = await userWithDevices(1);
    travel(SECOND);
    const socket = await caughtUpSocket(user, PHONE);
    travel(SECOND);
    await socket.request({ type: "ack", upTo: 1 });
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["live", t0 + SECOND] });
  });

  it("never handed over: push, at the acknowledgement's time", async () => {
    const user = await userWithDevices(1);
    travel(2 * SECOND);
    await acked(user, 1);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["push", t0 + 2 * SECOND] });
  });

  it("a hand-over earlier than a reported push replaces it; a later acknowledgement does not", async () => {
    const user = await userWithDevices(2);
    await poll(user, "?limit=1", PHONE); // hands over seq 1 at t0
    travel(SECOND);
    expect(await recorded(user, [1, 2])).toEqual([1, 2]);
    travel(SECOND);
    await acked(user, 2);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["poll", t0] });
    expect(await outcomesOf(user, 2)).toStrictEqual({ phone: ["push", t0 + SECOND] });
  });

  it("the last hand-over counts, even when it came after a reported push", async () => {
    const user = await userWithDevices(1);
    await poll(user, "", PHONE);
    travel(SECOND);
    await recorded(user, [1]);
    travel(SECOND);
    await poll(user, "", PHONE); // hands seq 1 over again, after its push
    await acked(user, 1);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["push", t0 + SECOND] });
  });

  it("a hand-over alone is not an arrival", async () => {
    const user = await userWithDevices(1);
    await poll(user, "", PHONE);
    const socket = await caughtUpSocket(user, PHONE);
    await socket.barrier();
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["pending", null] });
  });

  it("each device's pair is its own", async () => {
    const user = await userWithDevices(1, LAPTOP);
    await poll(user, "", LAPTOP);
    travel(SECOND);
    await acked(user, 1, LAPTOP);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["pending", null], laptop: ["poll", t0] });
  });
});

describe("a read receipt", () => {
  it("is the reader's evidence of arrival, and withdraws the message from the other devices", async () => {
    const user = await userWithDevices(1, LAPTOP);
    await poll(user, "", LAPTOP); // handed to the laptop, never acknowledged
    travel(SECOND);
    expect((await markRead(user, { seqs: [1] }, PHONE)).status).toBe(200);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["push", t0 + SECOND], laptop: ["read", t0 + SECOND] });
  });

  it("by a device it was handed to: the hand-over's route and time", async () => {
    const user = await userWithDevices(1, LAPTOP);
    await poll(user, "", PHONE);
    travel(SECOND);
    await markRead(user, { upTo: 1 }, PHONE);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["poll", t0], laptop: ["read", t0 + SECOND] });
  });

  it("changes no pair that is no longer pending", async () => {
    const user = await userWithDevices(1, LAPTOP);
    await acked(user, 1, LAPTOP);
    travel(SECOND);
    await markRead(user, { seqs: [1] }, PHONE);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["push", t0 + SECOND], laptop: ["push", t0] });
  });
});

describe("not arrived: expired, evicted, forgotten", () => {
  it("expired at the pending set's deadline; a later push report still proves the arrival", async () => {
    const user = await userWithDevices(1);
    travel(PENDING_TTL);
    await runUserAlarm(user);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["expired", t0 + PENDING_TTL] });
    travel(SECOND);
    expect(await recorded(user, [1])).toEqual([1]);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["push", t0 + PENDING_TTL + SECOND] });
  });

  it("evicted at the pending limit; an acknowledgement proves the arrival only if it had been handed over", async () => {
    const user = await userWithDevices(2, LAPTOP);
    await poll(user, "?limit=1", PHONE); // seq 1 handed to the phone only
    travel(SECOND);
    await publishMany(user, 100); // seqs 1 and 2 evicted
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["evicted", t0 + SECOND], laptop: ["evicted", t0 + SECOND] });
    travel(SECOND);
    await acked(user, 2, PHONE);
    await acked(user, 2, LAPTOP);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["poll", t0], laptop: ["evicted", t0 + SECOND] });
    expect(await outcomesOf(user, 2)).toStrictEqual({ phone: ["evicted", t0 + SECOND], laptop: ["evicted", t0 + SECOND] });
  });

  it("forgotten at its device's deadline; back, its pairs of messages still pending are pending again", async () => {
    const user = await userWithDevices(1, LAPTOP);
    travel(DEVICE_TTL - SECOND);
    await publish(user); // keeps the pending set from expiring with the phone
    await poll(user, "", LAPTOP);
    travel(SECOND);
    await runUserAlarm(user);
    const forgotten = { phone: ["forgotten", t0 + DEVICE_TTL], laptop: ["pending", null] };
    expect([await outcomesOf(user, 1), await outcomesOf(user, 2)]).toStrictEqual([forgotten, forgotten]);
    await poll(user, "", PHONE);
    const pending = { phone: ["pending", null], laptop: ["pending", null] };
    expect([await outcomesOf(user, 1), await outcomesOf(user, 2)]).toStrictEqual([pending, pending]);
  });

  it("a forgotten device back after its message left the pending set keeps it forgotten", async () => {
    const user = await userWithDevices(1, LAPTOP);
    travel(DEVICE_TTL - SECOND);
    await publish(user);
    await acked(user, 1, LAPTOP);
    travel(SECOND);
    await runUserAlarm(user); // the phone forgotten: seq 1 is pending for no known device
    await poll(user, "", PHONE);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["forgotten", t0 + DEVICE_TTL], laptop: ["push", t0 + DEVICE_TTL - SECOND] });
  });
});

describe("GET /admin/v1/users/{userId}/messages/{seq}", () => {
  it("answers the seq, its createdAt, and the devices that had it pending", async () => {
    const user = await userWithDevices(1, LAPTOP);
    const res = await admin(`/admin/v1/users/${user}/messages/1`);
    expect(await res.json()).toStrictEqual({
      seq: 1,
      createdAt: new Date(t0).toISOString(),
      devices: {
        phone: { outcome: "pending", at: null, push: null },
        laptop: { outcome: "pending", at: null, push: null },
      },
    });
  });

  it("a device first seen while the message is pending had it pending; one seen after it left the set did not", async () => {
    const user = await userWithDevices(1);
    await makeKnown(user, LAPTOP);
    await acked(user, 1, PHONE);
    await acked(user, 1, LAPTOP);
    await makeKnown(user, { device: "tablet" });
    expect(Object.keys(await outcomesOf(user, 1)).sort()).toEqual(["laptop", "phone"]);
  });

  it("a message published while no device was known: no devices, until one is seen", async () => {
    const user = unique("u");
    await publish(user);
    expect(await outcomesOf(user, 1)).toStrictEqual({});
    await makeKnown(user, PHONE);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["pending", null] });
  });

  it("an unknown seq is 404, and so is a message gone from the pending set PENDING_TTL_SECONDS after its publish", async () => {
    const user = await userWithDevices(1);
    await expectProblem(await admin(`/admin/v1/users/${user}/messages/2`), 404);
    travel(PENDING_TTL - SECOND);
    await acked(user, 1);
    await publish(user); // seq 2: records older than PENDING_TTL_SECONDS go as others are published
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["push", t0 + PENDING_TTL - SECOND] });
    travel(2 * SECOND);
    await publish(user);
    await expectProblem(await admin(`/admin/v1/users/${user}/messages/1`), 404);
    expect(await outcomesOf(user, 2)).toStrictEqual({ phone: ["pending", null] });
  });
});
