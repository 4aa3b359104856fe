// Dispatch (contract v1.1, "Push channels", Delivery): a published personal message goes out through
// the push channel of each device that has one and no open live connection, to the stand-in push
// services on their real socket (test/push-services/), which check each push as the real service
// does; the publish answers `pushed`, waiting for none of them. A push stops when the message is no
// longer pending for the device, or the device's registration changed.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../src/config";
import {
  admin,
  aheadOfNow,
  ackUpTo,
  client,
  freezeTime,
  LAPTOP,
  makeKnown,
  markRead,
  messagesPath,
  PHONE,
  publish,
  sameVarsInObject,
  travel,
  unique,
  userStub,
  runUserAlarm,
  TABLET,
  DESK,
  PENDING_TTL_SECONDS,
} from "./helpers";
import { caughtUpSocket, closeAllLive } from "./live-helpers";
import {
  logOf,
  pushJobsLeft,
  pushOf,
  pushServices,
  registerPush,
  seqOf,
  seqsPushedTo,
  setFaults,
  waitForPushes,
  waitForPushOf,
} from "./push-service";

const MESSAGE = { title: "Order shipped", body: "On its way", data: { order: 42 } };

afterEach(async () => {
  vi.useRealTimers();
  await closeAllLive();
});

describe("a published message reaches each channel's push service", () => {
  it("Web Push: the live frame, decrypted with the subscription's keys, VAPID-signed, TTL the seconds left", async () => {
    const user = unique("webpush");
    const at = freezeTime(aheadOfNow());
    const endpoint = await registerPush(user, "webpush", PHONE);
    const answer = await publish(user, MESSAGE);
    expect(answer.pushed).toBe(1);
    const [push] = await waitForPushes(endpoint, 1);
    expect(push!.payload).toEqual({ type: "personal", message: { seq: 1, ...MESSAGE, createdAt: answer.createdAt } });
    expect(push!.vapid!.claims).toMatchObject({ aud: pushServices().origin, sub: (env as Env).VAPID_SUBJECT });
    expect(push!.vapid!.claims.exp).toBeLessThanOrEqual(at / 1000 + 24 * 3600);
    expect(push!.headers).toMatchObject({ ttl: String(PENDING_TTL_SECONDS), urgency: "normal" });
    expect(push!.headers.topic).toBeUndefined();
    await waitForPushOf(user, 1, { phone: { channel: "webpush", attempts: 1, lastStatus: 201, at } });
  });

  it("FCM: the frame as data, the texts as the notification, android's ttl and priority", async () => {
    const user = unique("fcm");
    const at = freezeTime(aheadOfNow());
    const token = await registerPush(user, "fcm", PHONE);
    const answer = await publish(user, MESSAGE);
    const [push] = await waitForPushes(token, 1);
    expect(push!.message).toStrictEqual({
      token,
      data: { postbox: JSON.stringify({ type: "personal", message: { seq: 1, ...MESSAGE, createdAt: answer.createdAt } }) },
      notification: { title: MESSAGE.title, body: MESSAGE.body },
      android: { ttl: `${PENDING_TTL_SECONDS}s`, priority: "NORMAL" },
    });
    await waitForPushOf(user, 1, { phone: { channel: "fcm", attempts: 1, lastStatus: 200, at } });
  });

  it("APNs: the provider token, topic, push type, expiration and priority, the alert and the frame", async () => {
    const user = unique("apns");
    const at = freezeTime(aheadOfNow());
    const token = await registerPush(user, "apns", PHONE);
    const answer = await publish(user, MESSAGE);
    const [push] = await waitForPushes(token, 1);
    const { apns } = pushServices();
    expect(push!.provider).toMatchObject({ header: { kid: apns.keyId }, claims: { iss: apns.teamId } });
    expect(push!.headers).toMatchObject({
      "apns-topic": apns.topic,
      "apns-push-type": "alert",
      "apns-expiration": String(at / 1000 + PENDING_TTL_SECONDS),
      "apns-priority": "5",
    });
    expect(push!.body).toStrictEqual({
      aps: { alert: { title: MESSAGE.title, body: MESSAGE.body } },
      postbox: { type: "personal", message: { seq: 1, ...MESSAGE, createdAt: answer.createdAt } },
    });
    await waitForPushOf(user, 1, { phone: { channel: "apns", attempts: 1, lastStatus: 200, at } });
  });

  it("a message whose frame does not fit 4096 bytes goes as the poll frame on every channel", async () => {
    const user = unique("big");
    const [endpoint, fcm, apns] = [await registerPush(user, "webpush", PHONE), await registerPush(user, "fcm", LAPTOP), await registerPush(user, "apns", TABLET)];
    const body = "x".repeat(5000);
    expect((await publish(user, { body })).pushed).toBe(3);
    const poll = { type: "poll", seq: 1 };
    expect((await waitForPushes(endpoint, 1))[0]!.payload).toEqual(poll);
    const [fcmPush] = await waitForPushes(fcm, 1);
    expect([fcmPush!.payload, fcmPush!.message!.notification]).toEqual([poll, { body }]);
    const [apnsPush] = await waitForPushes(apns, 1);
    expect(apnsPush!.payload).toEqual(poll);
    expect(apnsPush!.body!.aps).toMatchObject({ alert: { body: expect.stringMatching(/^x+…$/) } });
  });
});

describe("pushed: the devices a message is being pushed to", () => {
  it("every known device with a registration, except one with an open live connection", async () => {
    const user = unique("pushed");
    const phone = await registerPush(user, "webpush", PHONE);
    const laptop = await registerPush(user, "fcm", LAPTOP);
    const tablet = await registerPush(user, "apns", TABLET);
    await makeKnown(user, DESK);
    await caughtUpSocket(user, { device: "laptop" });
    expect((await publish(user)).pushed).toBe(2);
    await waitForPushes(phone, 1);
    await waitForPushes(tablet, 1);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ lastStatus: 201 }), tablet: expect.objectContaining({ lastStatus: 200 }) });
    expect((await logOf(laptop)).received).toEqual([]);
  });

  it("not a device whose channel the deployment does not configure (any more)", async () => {
    const user = unique("off");
    await registerPush(user, "fcm", PHONE);
    const laptop = await registerPush(user, "apns", LAPTOP);
    await sameVarsInObject(userStub(user), { FCM_SERVICE_ACCOUNT: "" });
    expect((await publish(user)).pushed).toBe(1);
    await waitForPushes(laptop, 1);
    await waitForPushOf(user, 1, { laptop: expect.objectContaining({ channel: "apns", lastStatus: 200 }) });
  });

  it("0 for a user whose devices registered none", async () => {
    const user = unique("none");
    await makeKnown(user, PHONE, LAPTOP);
    expect((await publish(user)).pushed).toBe(0);
  });

  it("an idempotent repeat answers the first answer, pushed included, and pushes nothing again", async () => {
    const user = unique("repeat");
    const endpoint = await registerPush(user, "webpush", PHONE);
    const keyed = () => admin(messagesPath(user), { method: "POST", json: { body: "once" }, headers: { "Idempotency-Key": "k" } });
    const first = await (await keyed()).json();
    expect(first).toMatchObject({ seq: 1, pushed: 1 });
    expect(await (await keyed()).json()).toStrictEqual(first);
    await publish(user, { body: "then" });
    const pushes = await waitForPushes(endpoint, 2);
    // Each publish starts its push as it answers, so the two may reach the push service in either order.
    expect(pushes.map(seqOf).sort((a, b) => a - b)).toEqual([1, 2]);
  });
});

describe("a push stops (and a retry goes nowhere) once the message is not pending for the device, or its registration changed", () => {
  /** A user whose phone's first push of seq 1 was answered 503, with its retry due within 5 s (the clock stopped). */
  async function retryPending(channel: "webpush" | "fcm" = "webpush") {
    const user = unique("stop");
    freezeTime(aheadOfNow());
    const target = await registerPush(user, channel, PHONE);
    await setFaults(target, { status: 503 });
    await publish(user);
    await waitForPushes(target, 1);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 1, lastStatus: 503 }) });
    return { user, target };
  }

  /** The retry's time comes: the alarm runs; what was not stopped goes out (a publish's push after it shows what did). */
  async function retryTimeComes(user: string) {
    travel(5_000);
    await runUserAlarm(user);
    await publish(user, { body: "later" });
  }

  it("the device acknowledged it", async () => {
    const { user, target } = await retryPending();
    expect((await ackUpTo(user, 1, PHONE)).status).toBe(200);
    expect(await pushJobsLeft(user)).toBe(0);
    await retryTimeComes(user);
    await waitForPushes(target, 2);
    expect(await seqsPushedTo(target)).toEqual([1, 2]);
    expect(await pushOf(user, 1)).toMatchObject({ phone: { attempts: 1, lastStatus: 503 } });
  });

  it("another device read it", async () => {
    const { user, target } = await retryPending();
    expect((await markRead(user, { seqs: [1] }, LAPTOP)).status).toBe(200);
    // Not ended at once: the retry finds the message read when it is due.
    expect(await pushJobsLeft(user)).toBe(1);
    await retryTimeComes(user);
    await waitForPushes(target, 2);
    expect(await seqsPushedTo(target)).toEqual([1, 2]);
  });

  it("the device removed its registration, or registered another channel", async () => {
    const removed = await retryPending();
    await client(removed.user, "/v1/push", { ...PHONE, method: "DELETE" });
    expect(await pushJobsLeft(removed.user)).toBe(0);
    const fresh = await registerPush(removed.user, "webpush", PHONE);
    await retryTimeComes(removed.user);
    await waitForPushes(fresh, 1);
    expect([await seqsPushedTo(removed.target), await seqsPushedTo(fresh)]).toEqual([[1], [2]]);

    const switched = await retryPending();
    const token = await registerPush(switched.user, "fcm", PHONE);
    expect(await pushJobsLeft(switched.user)).toBe(0);
    await retryTimeComes(switched.user);
    await waitForPushes(token, 1);
    expect([await seqsPushedTo(switched.target), await seqsPushedTo(token)]).toEqual([[1], [2]]);
  });

  it("the device was forgotten (DEVICE_LIMIT)", async () => {
    const { user, target } = await retryPending("fcm");
    await sameVarsInObject(userStub(user), { DEVICE_LIMIT: 2 });
    await makeKnown(user, LAPTOP, TABLET);
    expect(await pushJobsLeft(user)).toBe(0);
    await retryTimeComes(user);
    expect(await pushOf(user, 1)).toMatchObject({ phone: { attempts: 1, lastStatus: 503 } });
    expect(await seqsPushedTo(target)).toEqual([1]);
  });
});

describe("GET /admin/v1/users/{userId}/messages/{seq}", () => {
  it("shows each device's push: channel, attempts, last status and when it was answered; null for one never pushed", async () => {
    const user = unique("view");
    await makeKnown(user, PHONE, LAPTOP);
    const endpoint = await registerPush(user, "webpush", PHONE);
    await publish(user, MESSAGE);
    await waitForPushes(endpoint, 1);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 1 }) });
    const [push] = (await logOf(endpoint)).received;
    const res = await admin(`/admin/v1/users/${user}/messages/1`);
    const { devices } = (await res.json()) as { devices: Record<string, { push: { at: string } | null }> };
    expect(devices).toStrictEqual({
      phone: { outcome: "pending", at: null, push: { channel: "webpush", attempts: 1, lastStatus: push!.status, at: expect.any(String) } },
      laptop: { outcome: "pending", at: null, push: null },
    });
    expect(Date.parse(devices.phone!.push!.at)).toBeGreaterThan(0);
  });
});
