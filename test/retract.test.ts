// DELETE /admin/v1/users/{userId}/messages/{seq} (contract v1.1, "Publisher additions"): the message
// leaves the pending and unread sets, its pairs still pending become `retracted`, every live
// connection (WebSocket and SSE, every device) gets { "type": "retract", "seq" }, its pushes end, and
// each device its push may have reached that has not acknowledged it gets the retract push through
// its channel, retried like any push and counted in no push counter. The pushes go to the stand-in
// push services on their real socket (test/push-services/); the clock is stopped ahead of real time.
import { afterEach, describe, expect, it, vi } from "vitest";
import { FLUSH_DELAY_MS } from "../src/stats/buffer";
import {
  LAPTOP,
  PHONE,
  SECOND,
  ackUpTo,
  aheadOfNow,
  alarmAfter,
  call,
  expectInvalid,
  freezeTime,
  makeKnown,
  markRead,
  messagePath,
  outcomesOf,
  pendingSeqs,
  poll,
  publish,
  publishMany,
  retract,
  runUserAlarm,
  statsOf,
  travel,
  unique,
  unreadSeqs,
  unusedStatsTime,
  userView,
  windowQuery,
  TABLET,
  DESK,
  PENDING_TTL_SECONDS,
} from "./helpers";
import { caughtUpEventStream, caughtUpSocket, closeAllLive, retractedSeqs, waitFor } from "./live-helpers";
import {
  countersOf,
  logOf,
  pushJobsLeft,
  pushServices,
  registerPush,
  seqOf,
  setFaults,
  waitForPushes,
  waitForPushOf,
} from "./push-service";

afterEach(async () => {
  vi.useRealTimers();
  await closeAllLive();
});

/** The answer of DELETE …/messages/{seq}, which must be 200. */
async function retracted(user: string, seq: number) {
  const res = await retract(user, seq);
  expect(res.status).toBe(200);
  return ((await res.json()) as { retracted: boolean }).retracted;
}

describe("DELETE /admin/v1/users/{userId}/messages/{seq}", () => {
  it("takes a pending message out of both sets: true; then, and for a seq never published, false", async () => {
    const user = unique("sets");
    await publishMany(user, 3);
    expect(await retracted(user, 2)).toBe(true);
    expect(await pendingSeqs(user)).toEqual([1, 3]);
    expect(await unreadSeqs(user)).toEqual([1, 3]);
    expect(await userView(user)).toMatchObject({ pending: { count: 2 }, unread: { count: 2 } });
    expect(await retracted(user, 2)).toBe(false);
    expect(await retracted(user, 9)).toBe(false);
    expect(await retracted(unique("nobody"), 1)).toBe(false);
    expect((await publish(user)).seq).toBe(4);
  });

  it("takes a message only unread (every device has it) out of the unread set; one read already is in neither", async () => {
    const user = unique("unread");
    await makeKnown(user, PHONE);
    await publishMany(user, 2);
    await ackUpTo(user, 2, PHONE);
    await markRead(user, { seqs: [2] }, PHONE);
    expect(await retracted(user, 1)).toBe(true);
    expect(await unreadSeqs(user)).toEqual([]);
    expect(await retracted(user, 2)).toBe(false);
  });

  it("refuses a seq that is not one, and an invalid userId, naming them; without the admin token, 401", async () => {
    await expectInvalid(await retract(unique("u"), 0), "seq");
    await expectInvalid(await call(`/admin/v1/users/${unique("u")}/messages/x`, { method: "DELETE", headers: { Authorization: "Bearer test-admin-token" } }), "seq");
    await expectInvalid(await retract("no spaces", 1), "userId");
    expect((await call(messagePath(unique("u"), 1), { method: "DELETE" })).status).toBe(401);
  });

  it("turns the pairs still pending into retracted, at the retract; a pair already decided keeps its outcome", async () => {
    const user = unique("outcomes");
    const t0 = freezeTime(aheadOfNow());
    await makeKnown(user, PHONE, LAPTOP);
    await publish(user);
    travel(SECOND);
    await poll(user, "", PHONE);
    await ackUpTo(user, 1, PHONE);
    travel(SECOND);
    await retracted(user, 1);
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["poll", t0 + SECOND], laptop: ["retracted", t0 + 2 * SECOND] });
  });

  // A stats query asks every shard, which the file's first one creates.
  it("counts in withdrawn.retracted once the stats are flushed", { timeout: 20_000 }, async () => {
    const t0 = freezeTime(unusedStatsTime());
    const user = unique("stats");
    await makeKnown(user, PHONE, LAPTOP);
    await publishMany(user, 2);
    await retracted(user, 1);
    travel(FLUSH_DELAY_MS);
    await runUserAlarm(user);
    const { personal } = await statsOf(windowQuery(t0, t0 + 60 * SECOND));
    expect(personal).toMatchObject({
      messages: 2,
      deliveries: 4,
      withdrawn: { read: 0, retracted: 2 },
      notArrived: { expired: 0, evicted: 0, forgotten: 0, pending: 2 },
    });
  });

  it("sends { type: retract, seq } to every live connection of every device, WebSocket and SSE; nothing when there was nothing to retract", async () => {
    const user = unique("live");
    await publishMany(user, 2);
    const phone = await caughtUpSocket(user, { device: "phone" });
    const laptop = await caughtUpSocket(user, { device: "laptop" });
    const browser = await caughtUpEventStream(user, { device: "browser" });
    await retracted(user, 1);
    await retracted(user, 1);
    await retracted(user, 2);
    for (const socket of [phone, laptop]) {
      await socket.waitForFrame((f) => f.type === "retract" && "seq" in f && f.seq === 2, "the retract of 2");
      expect(socket.frames.slice(1)).toStrictEqual([{ type: "retract", seq: 1 }, { type: "retract", seq: 2 }]);
    }
    await browser.waitForEvents(3);
    expect(browser.events.slice(1).map(({ event, data }) => [event, data])).toEqual([
      ["retract", '{"type":"retract","seq":1}'],
      ["retract", '{"type":"retract","seq":2}'],
    ]);
    expect(retractedSeqs(browser.frames)).toEqual([1, 2]);
  });
});

describe("the retract push", () => {
  it("goes to exactly the devices the push reached that have not acknowledged it", async () => {
    const user = unique("who");
    freezeTime(aheadOfNow());
    const phone = await registerPush(user, "webpush", PHONE); // pushed, accepted
    const laptop = await registerPush(user, "fcm", LAPTOP); // pushed, accepted, then acknowledged
    const tablet = await registerPush(user, "apns", TABLET); // held a live connection: not pushed
    const desk = await registerPush(user, "webpush", DESK); // pushed, refused for good (400)
    await setFaults(desk, { status: 400 });
    await caughtUpSocket(user, { device: "tablet" });
    expect((await publish(user)).pushed).toBe(3);
    await waitForPushOf(user, 1, {
      phone: expect.objectContaining({ lastStatus: 201 }),
      laptop: expect.objectContaining({ lastStatus: 200 }),
      desk: expect.objectContaining({ lastStatus: 400 }),
    });
    await ackUpTo(user, 1, LAPTOP);
    await retracted(user, 1);
    const [, retractPush] = await waitForPushes(phone, 2);
    expect(retractPush!.payload).toEqual({ type: "retract", seq: 1 });
    expect(await pushJobsLeft(user)).toBe(0);
    for (const [target, pushes] of [[laptop, 1], [tablet, 0], [desk, 1]] as const) {
      expect((await logOf(target)).received.map(seqOf), target).toHaveLength(pushes);
    }
  });

  it("on each channel: the frame alone, normal urgency, no collapse key, for what is left of the message's own lifetime", async () => {
    const user = unique("channels");
    const t0 = freezeTime(aheadOfNow());
    const [webpush, fcm, apns] = [await registerPush(user, "webpush", PHONE), await registerPush(user, "fcm", LAPTOP), await registerPush(user, "apns", TABLET)];
    await publish(user, { title: "t", body: "b", collapseKey: "k", priority: "high", ttlSeconds: 600 });
    await waitForPushOf(user, 1, { phone: expect.anything(), laptop: expect.anything(), tablet: expect.anything() });
    travel(100 * SECOND);
    await retracted(user, 1);
    const frame = { type: "retract", seq: 1 };

    const [, web] = await waitForPushes(webpush, 2);
    expect([web!.payload, web!.headers.ttl, web!.headers.urgency, web!.headers.topic]).toEqual([frame, "500", "normal", undefined]);
    const [, android] = await waitForPushes(fcm, 2);
    expect(android!.message).toStrictEqual({ token: fcm, data: { postbox: JSON.stringify(frame) }, android: { ttl: "500s", priority: "NORMAL" } });
    const [, ios] = await waitForPushes(apns, 2);
    expect(ios!.body).toStrictEqual({ aps: {}, postbox: frame });
    expect(ios!.headers).toMatchObject({ "apns-priority": "5", "apns-expiration": String((t0 + 600 * SECOND) / 1000), "apns-topic": pushServices().apns.topic });
    expect(ios!.headers).not.toHaveProperty("apns-collapse-id");
  });

  it("reaches a device whose push was still unanswered, and lives until the pending set would have expired", async () => {
    const user = unique("in-flight");
    freezeTime(aheadOfNow());
    const endpoint = await registerPush(user, "webpush", PHONE);
    // The message's push is answered while the retract push is still in flight.
    await setFaults(endpoint, { delayMs: 300 }, { delayMs: 900 });
    const counted = await countersOf(user);
    await publish(user);
    await waitForPushes(endpoint, 1);
    travel(10 * SECOND);
    await retracted(user, 1);
    const [, retractPush] = await waitForPushes(endpoint, 2);
    expect([retractPush!.payload, retractPush!.headers.ttl]).toEqual([{ type: "retract", seq: 1 }, String(PENDING_TTL_SECONDS - 10)]);
    await waitFor(async () => (await logOf(endpoint)).received.every((push) => push.answeredAt !== undefined), "both answers");
    await waitFor(async () => (await pushJobsLeft(user)) === 0, "the retract push to end");
    // The message's late answer is not taken for the retract push's (nor counted: its job had ended).
    expect(counted).toEqual([]);
  });

  it("is not sent where the message's push was being retried (its every attempt refused): that retry ends", async () => {
    const user = unique("retrying");
    freezeTime(aheadOfNow());
    const endpoint = await registerPush(user, "fcm", PHONE);
    await setFaults(endpoint, { status: 503, times: 5 });
    await publish(user);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 1, lastStatus: 503 }) });
    await retracted(user, 1);
    expect(await pushJobsLeft(user)).toBe(0);
    await alarmAfter(user, 60 * SECOND);
    expect((await logOf(endpoint)).received).toHaveLength(1);
  });

  it("is retried like any push, counts in no push counter, and stops once the device acknowledges", async () => {
    const user = unique("retried");
    const t0 = freezeTime(aheadOfNow());
    const phone = await registerPush(user, "webpush", PHONE);
    const laptop = await registerPush(user, "apns", LAPTOP);
    const counted = await countersOf(user);
    await publish(user);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ lastStatus: 201 }), laptop: expect.objectContaining({ lastStatus: 200 }) });
    await setFaults(phone, { status: 503 });
    await setFaults(laptop, { status: 503 });
    await retracted(user, 1);
    await waitForPushes(phone, 2);
    await waitForPushes(laptop, 2);
    await ackUpTo(user, 1, LAPTOP);
    await alarmAfter(user, 5 * SECOND);
    const pushes = await waitForPushes(phone, 3);
    expect(pushes.map(({ payload, status }) => [payload.type, status])).toEqual([["personal", 201], ["retract", 503], ["retract", 201]]);
    await alarmAfter(user, 60 * SECOND);
    expect((await logOf(laptop)).received).toHaveLength(2);
    expect(await pushJobsLeft(user)).toBe(0);
    expect(counted.map(([publishedAt, channel, count]) => `${publishedAt - t0} ${channel} ${count}`).sort()).toEqual(["0 apns sent", "0 webpush sent"]);
    // And the message's view shows the message's own pushes.
    await waitForPushOf(user, 1, {
      phone: expect.objectContaining({ attempts: 1, lastStatus: 201 }),
      laptop: expect.objectContaining({ attempts: 1, lastStatus: 200 }),
    });
  });

  it("removes a registration its push service calls dead", async () => {
    const user = unique("dead");
    freezeTime(aheadOfNow());
    const endpoint = await registerPush(user, "webpush", PHONE);
    await publish(user);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ lastStatus: 201 }) });
    await setFaults(endpoint, { status: 410 });
    await retracted(user, 1);
    await waitForPushes(endpoint, 2);
    await waitFor(async () => (await userView(user)).devices.phone!.push === null, "the dead registration to go");
  });
});
