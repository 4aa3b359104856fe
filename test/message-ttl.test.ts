// ttlSeconds (contract v1.1, "Publisher additions"): the message leaves the pending and unread sets
// that long after it was published, its pairs still pending `expired` at that deadline. The deadlines
// are kept in storage, the object's one alarm at the earliest, and every request clears what is due
// first, so a late alarm never shows an expired message. Time moves by fake Date; alarms are run with
// runDurableObjectAlarm.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { FLUSH_DELAY_MS } from "../src/stats/buffer";
import {
  HOUR,
  LAPTOP,
  PENDING_TTL,
  PHONE,
  SECOND,
  ackUpTo,
  aheadOfNow,
  freezeTime,
  makeKnown,
  outcomesOf,
  pendingSeqs,
  poll,
  publish,
  runUserAlarm,
  storedInUser,
  unique,
  unreadSeqs,
  userView,
} from "./helpers";
import { caughtUpSocket, closeAllLive } from "./live-helpers";
import { logOf, pushJobsLeft, registerPush, setFaults, waitForPushOf } from "./push-service";

let t0: number;

beforeEach(() => {
  t0 = freezeTime(aheadOfNow());
});

afterEach(async () => {
  vi.useRealTimers();
  await closeAllLive();
});

const at = (ms: number) => vi.setSystemTime(t0 + ms);

describe("a message with ttlSeconds", () => {
  it("leaves the pending and unread sets that long after its publish, before any alarm runs; the others stay", async () => {
    const user = unique("ttl");
    await publish(user, { body: "short", ttlSeconds: 60 });
    await publish(user, { body: "plain" });
    at(60 * SECOND - 1);
    expect(await pendingSeqs(user)).toEqual([1, 2]);
    at(60 * SECOND);
    expect(await pendingSeqs(user)).toEqual([2]);
    expect(await unreadSeqs(user)).toEqual([2]);
    const { pending, unread } = await userView(user);
    expect([pending.count, pending.oldestSeq, unread.count]).toEqual([1, 2, 1]);
    // The set-wide expiry stays as it was: PENDING_TTL_SECONDS after the newest message.
    expect(pending.expiresAt).toBe(new Date(t0 + PENDING_TTL).toISOString());
  });

  it("arms the object's alarm for the earliest deadline, which removes what is due and arms the next", async () => {
    const user = unique("alarm");
    for (const ttlSeconds of [120, 30, 60]) await publish(user, { body: `${ttlSeconds}`, ttlSeconds });
    at(FLUSH_DELAY_MS);
    expect(await runUserAlarm(user)).toBe(true); // the stats' flush
    expect((await storedInUser(user)).alarm).toBe(t0 + 30 * SECOND);

    at(29 * SECOND);
    expect(await runUserAlarm(user)).toBe(true); // early: removes nothing, and is armed again
    expect(await storedInUser(user)).toMatchObject({ pending: [1, 2, 3], unread: [1, 2, 3], alarm: t0 + 30 * SECOND });

    at(30 * SECOND);
    await runUserAlarm(user);
    expect(await storedInUser(user)).toMatchObject({ pending: [1, 3], unread: [1, 3], alarm: t0 + 60 * SECOND });
    at(60 * SECOND);
    await runUserAlarm(user);
    expect(await storedInUser(user)).toMatchObject({ pending: [1], unread: [1], alarm: t0 + 120 * SECOND });
    at(120 * SECOND);
    await runUserAlarm(user);
    expect(await storedInUser(user)).toMatchObject({ pending: [], unread: [], alarm: t0 + PENDING_TTL });
  });

  it("leaves the unread set too after every device acknowledged it", async () => {
    const user = unique("acked");
    await makeKnown(user, PHONE);
    await publish(user, { body: "short", ttlSeconds: 60 });
    await ackUpTo(user, 1, PHONE);
    expect(await storedInUser(user)).toMatchObject({ pending: [], unread: [1] });
    at(60 * SECOND);
    await runUserAlarm(user);
    expect(await storedInUser(user)).toMatchObject({ pending: [], unread: [] });
  });

  it("ends its pairs still pending as expired at the deadline, however late the alarm; an arrival stays", async () => {
    const user = unique("outcomes");
    await makeKnown(user, PHONE, LAPTOP);
    await publish(user, { body: "short", ttlSeconds: 60 });
    at(10 * SECOND);
    await poll(user, "?ack=0", PHONE);
    await ackUpTo(user, 1, PHONE);
    at(HOUR);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["poll", t0 + 10 * SECOND], laptop: ["expired", t0 + 60 * SECOND] });
    expect(await pendingSeqs(user, LAPTOP)).toEqual([]);
  });

  it("is expired once, whichever comes first: a later alarm or request changes nothing more", async () => {
    const user = unique("once");
    await makeKnown(user, PHONE);
    await publish(user, { body: "short", ttlSeconds: 60 });
    await publish(user, { body: "plain" });
    at(61 * SECOND);
    await runUserAlarm(user);
    await runUserAlarm(user);
    expect(await pendingSeqs(user, PHONE)).toEqual([2]);
    expect(await userView(user)).toMatchObject({ pending: { count: 1 }, unread: { count: 1 } });
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["expired", t0 + 60 * SECOND] });
  });

  it("is not sent live once expired, nor in a catch-up", async () => {
    const user = unique("live");
    await publish(user, { body: "short", ttlSeconds: 60 });
    at(60 * SECOND);
    const socket = await caughtUpSocket(user);
    expect((await socket.catchup()).personal).toEqual([]);
  });
});

describe("its push", () => {
  it("is not retried past the deadline: the retry due then is stopped", async () => {
    const user = unique("retry");
    const endpoint = await registerPush(user, "webpush", PHONE);
    await setFaults(endpoint, { status: 503 });
    await publish(user, { body: "short", ttlSeconds: 2 });
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 1, lastStatus: 503 }) });
    at(60 * SECOND);
    await runUserAlarm(user);
    expect(await pushJobsLeft(user)).toBe(0);
    expect((await logOf(endpoint)).received).toHaveLength(1);
  });
});
