// Dispatch when push services fail (contract v1.1, "Push channels", Delivery): retries with backoff and
// Retry-After, at most PUSH_MAX_ATTEMPTS; dead registrations removed; a channel turned off; the push
// counters; alarms that run twice; and a push service that does not answer, which holds up no one.
// The clock is stopped ahead of real time (aheadOfNow), so the object's alarm fires only when a test
// runs it, after moving the clock.
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PushChannel } from "../src/push/channel";
import { PUSH_LEASE_MS } from "../src/user/push-jobs";
import {
  aheadOfNow,
  alarmAfter,
  expectLogged,
  freezeTime,
  LAPTOP,
  markRead,
  PHONE,
  publish,
  runUserAlarm,
  sameVarsInObject,
  travel,
  unique,
  userStub,
  TABLET,
  PENDING_TTL_SECONDS,
} from "./helpers";
import { channelOf, countersOf, logOf, pushJobsLeft, pushOf, registerPush, seqsPushedTo, setFaults, waitForPushes, waitForPushOf, type Fault } from "./push-service";


afterEach(() => {
  vi.useRealTimers();
});

/** A user whose phone is registered on `channel` with these faults programmed; the clock stopped. */
async function phoneWithFaults(channel: PushChannel, ...faults: Fault[]) {
  const user = unique(`faults-${channel}`);
  const t0 = freezeTime(aheadOfNow());
  const target = await registerPush(user, channel, PHONE);
  await setFaults(target, ...faults);
  return { user, target, t0 };
}

/** The phone's push of seq 1, as the user's object keeps it. */
const phonePushOf1 = async (user: string) => (await pushOf(user, 1)).phone;

/** When the user's object's alarm is set for (null: none). */
const alarmOf = (user: string) => runInDurableObject(userStub(user), (_instance, { storage }) => storage.getAlarm());

describe("retries", () => {
  it("a push answered 503 is retried with backoff until accepted, each attempt's TTL the seconds then left", async () => {
    const { user, target, t0 } = await phoneWithFaults("webpush", { status: 503, times: 2 });
    await publish(user);
    await waitForPushes(target, 1);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 1, lastStatus: 503 }) });
    // The object's alarm wakes it for the retry.
    expect(await alarmOf(user)).toSatisfy((at: number) => at >= t0 + 500 && at <= t0 + 1_000);
    // The first retry within a second of the answer (backoff 1 s, jittered in its upper half), the next within two.
    await alarmAfter(user, 1_000);
    await waitForPushes(target, 2);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 2, lastStatus: 503 }) });
    await alarmAfter(user, 2_000);
    const pushes = await waitForPushes(target, 3);
    expect(pushes.map((push) => push.headers.ttl)).toEqual([0, 1, 3].map((seconds) => String(PENDING_TTL_SECONDS - seconds)));
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 3, lastStatus: 201 }) });
  });

  it("with the clock running, the object's own alarm sends the retry at its time", async () => {
    const user = unique("faults-alarm");
    const target = await registerPush(user, "fcm", PHONE);
    await setFaults(target, { status: 503 });
    await publish(user);
    const [failed, retried] = await waitForPushes(target, 2);
    expect([failed!.status, retried!.status]).toEqual([503, 200]);
  });

  it("honours Retry-After: no attempt before it, even past the backoff", async () => {
    const { user, target } = await phoneWithFaults("fcm", { status: 429, retryAfter: "20" });
    await publish(user);
    await waitForPushes(target, 1);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 1, lastStatus: 429 }) });
    await alarmAfter(user, 19_999);
    expect(await phonePushOf1(user)).toMatchObject({ attempts: 1, lastStatus: 429 });
    await alarmAfter(user, 1);
    await waitForPushes(target, 2);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 2, lastStatus: 200 }) });
  });

  it("stops after PUSH_MAX_ATTEMPTS attempts: the push failed", async () => {
    const { user, target, t0 } = await phoneWithFaults("apns", { status: 503, times: 10 });
    await sameVarsInObject(userStub(user), { PUSH_MAX_ATTEMPTS: 3 });
    const counted = await countersOf(user);
    await publish(user);
    for (const attempts of [1, 2, 3]) {
      await waitForPushes(target, attempts);
      await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts, lastStatus: 503 }) });
      await alarmAfter(user, 5_000);
    }
    await publish(user, { body: "later" });
    await waitForPushes(target, 4);
    expect(await seqsPushedTo(target)).toEqual([1, 1, 1, 2]);
    expect(counted.filter(([publishedAt]) => publishedAt === t0)).toEqual([
      [t0, "apns", "retried"],
      [t0, "apns", "retried"],
      [t0, "apns", "failed"],
    ]);
  });

  it("an attempt whose answer was lost (the object restarted mid-send) goes again when its lease ends", async () => {
    const { user, target, t0 } = await phoneWithFaults("apns", { hang: true });
    await publish(user);
    await waitForPushes(target, 1);
    // The runtime logs the abort (an "uncaught exception … restarted" line).
    await expect(runInDurableObject(userStub(user), (_instance, state) => state.abort("restarted"))).rejects.toThrow("restarted");
    // Armed no later than the lease's end (the stats' flush may come first).
    expect(await alarmOf(user)).toBeLessThanOrEqual(t0 + PUSH_LEASE_MS);
    await alarmAfter(user, PUSH_LEASE_MS - 1);
    expect([await pushJobsLeft(user), (await logOf(target)).received.length]).toEqual([1, 1]);
    await alarmAfter(user, 1);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 2, lastStatus: 200 }) });
  });

  it("an alarm that runs twice sends a retry once", async () => {
    const { user, target } = await phoneWithFaults("webpush", { status: 503 });
    await publish(user);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 1, lastStatus: 503 }) });
    travel(5_000);
    await Promise.all([runUserAlarm(user), runUserAlarm(user)]);
    await runUserAlarm(user);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 2, lastStatus: 201 }) });
    await publish(user, { body: "later" });
    await waitForPushes(target, 3);
    expect(await seqsPushedTo(target)).toEqual([1, 1, 2]);
  });
});

describe("an answer that the registration is dead removes it", () => {
  const dead: [PushChannel, number][] = [
    ["webpush", 410],
    ["webpush", 404],
    ["fcm", 404],
    ["apns", 410],
    ["apns", 400],
  ];

  it.each(dead)("%s %i: GET /v1/push shows no channel, and nothing more is pushed to the device", async (channel, status) => {
    const { user } = await phoneWithFaults(channel, { status });
    const counted = await countersOf(user);
    expect((await publish(user)).pushed).toBe(1);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 1, lastStatus: status }) });
    expect(await channelOf(user, PHONE)).toBeNull();
    expect((await publish(user)).pushed).toBe(0);
    expect(counted.map(([, , count]) => count)).toEqual(["failed", "removed"]);
  });

  it("and ends the device's other pushes", async () => {
    const { user, target } = await phoneWithFaults("webpush", { status: 503 }, { status: 410 });
    await publish(user);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ lastStatus: 503 }) });
    await publish(user);
    await waitForPushOf(user, 2, { phone: expect.objectContaining({ lastStatus: 410 }) });
    expect(await pushJobsLeft(user)).toBe(0);
    await alarmAfter(user, 5_000);
    expect(await phonePushOf1(user)).toMatchObject({ attempts: 1, lastStatus: 503 });
    expect(await seqsPushedTo(target)).toEqual([1, 2]);
  });
});

describe("a channel the deployment no longer configures", () => {
  it("ends its pushes as failed, with no status, and keeps the registration", async () => {
    const { user, target } = await phoneWithFaults("fcm", { status: 503 });
    await publish(user);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 1, lastStatus: 503 }) });
    await sameVarsInObject(userStub(user), { FCM_SERVICE_ACCOUNT: "" });
    const counted = await countersOf(user);
    await alarmAfter(user, 5_000);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 2, lastStatus: null }) });
    expect([await seqsPushedTo(target), await channelOf(user, PHONE)]).toEqual([[1], "fcm"]);
    expect(counted.map(([, , count]) => count)).toEqual(["retried", "failed"]);
  });

  it("or a secret it cannot use: logged, failed", async () => {
    const { user } = await phoneWithFaults("fcm", { status: 503 });
    await publish(user);
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 1, lastStatus: 503 }) });
    await sameVarsInObject(userStub(user), { FCM_SERVICE_ACCOUNT: "not json" });
    await expectLogged(/^postbox push \(fcm\): FCM_SERVICE_ACCOUNT is not JSON/, async () => {
      await alarmAfter(user, 5_000);
      await waitForPushOf(user, 1, { phone: expect.objectContaining({ attempts: 2, lastStatus: null }) });
    });
  });
});

describe("the push counters, by the message's publish time", () => {
  it("sent, retried, failed and removed; a push stopped because the message is no longer pending counts in none", async () => {
    const user = unique("counters");
    const t0 = freezeTime(aheadOfNow());
    const tablet = await registerPush(user, "apns", TABLET);
    await setFaults(tablet, { status: 503 });
    const counted = await countersOf(user);
    await publish(user);
    await waitForPushOf(user, 1, { tablet: expect.objectContaining({ lastStatus: 503 }) });
    const [phone, laptop] = [await registerPush(user, "webpush", PHONE), await registerPush(user, "fcm", LAPTOP)];
    await Promise.all([setFaults(phone, { status: 503 }), setFaults(laptop, { status: 404 })]);
    await publish(user);
    const answered = { attempts: 1, channel: expect.any(String), at: t0 };
    await waitForPushOf(user, 2, { phone: { ...answered, lastStatus: 503 }, laptop: { ...answered, lastStatus: 404 }, tablet: { ...answered, lastStatus: 200 } });
    // Seq 1 leaves the pending set: the tablet's retry of it stops when it is due.
    await markRead(user, { seqs: [1] }, PHONE);
    await alarmAfter(user, 5_000);
    await waitForPushOf(user, 2, expect.objectContaining({ phone: expect.objectContaining({ attempts: 2, lastStatus: 201 }) }));
    expect([await pushJobsLeft(user), (await logOf(tablet)).received.length]).toEqual([0, 2]);
    expect(counted.sort()).toEqual(
      [
        [t0, "apns", "sent"],
        [t0, "fcm", "failed"],
        [t0, "fcm", "removed"],
        [t0, "webpush", "retried"],
        [t0, "webpush", "sent"],
      ].sort(),
    );
  });
});

describe("a push service that does not answer", () => {
  it("holds up neither the publish nor another device's push", async () => {
    const user = unique("slow");
    // The stalled device's pushes are handed out first (devices in name order).
    const stalled = await registerPush(user, "webpush", LAPTOP);
    const phone = await registerPush(user, "fcm", PHONE);
    await setFaults(stalled, { hang: true, times: 2 });
    expect((await publish(user, { body: "first" })).pushed).toBe(2);
    await waitForPushes(phone, 1);
    expect((await publish(user, { body: "second" })).pushed).toBe(2);
    await waitForPushes(phone, 2);
    const hanging = await waitForPushes(stalled, 2);
    expect(hanging.map(({ status }) => status)).toEqual([null, null]);
  });
});
