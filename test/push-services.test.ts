// The stand-in push services (test/push-services/) on their real socket, through the senders with the
// global fetch, as postbox's dispatch reaches them: each accepts what the real service accepts and
// refuses what it refuses, in its own answer shapes, and answers as the faults a test programmed.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/config";
import { sendApns } from "../src/push/apns";
import { sendFcm, parseServiceAccount } from "../src/push/fcm";
import { sendWebPush } from "../src/push/webpush";
import { deviceToken, logOf, pushServices, setFaults, subscribe, waitForPushes } from "./push-service";
import { ATTEMPT } from "./push-stand-in";
import { newVapid } from "./webpush-service";

const settings = env as Env;
const vapid = { publicKey: settings.VAPID_PUBLIC_KEY!, privateKey: settings.VAPID_PRIVATE_KEY!, subject: settings.VAPID_SUBJECT! };
const account = () => parseServiceAccount(settings.FCM_SERVICE_ACCOUNT!);
const apns = () => ({
  key: settings.APNS_KEY!,
  keyId: settings.APNS_KEY_ID!,
  teamId: settings.APNS_TEAM_ID!,
  topic: settings.APNS_TOPIC!,
  endpoint: settings.APNS_ENDPOINT!,
});
const fcm = (token: string) => sendFcm(token, ATTEMPT, account(), settings.FCM_ENDPOINT);

describe("Web Push", () => {
  it("takes a push it can decrypt with the subscription's keys, signed by the key it was made with", async () => {
    const subscription = await subscribe();
    expect(await sendWebPush(subscription, ATTEMPT, vapid)).toEqual({ outcome: "sent", status: 201 });
    const [push] = await waitForPushes(subscription.endpoint, 1);
    expect(push!.payload).toEqual(JSON.parse(ATTEMPT.payload));
    expect(push!.vapid!.claims).toMatchObject({ aud: pushServices().origin, sub: vapid.subject });
    expect(push!.headers).toMatchObject({ ttl: "86400", urgency: "high", "content-encoding": "aes128gcm" });
    expect(push!).toMatchObject({ status: 201, delivered: true });
  });

  it("refuses a push signed with another VAPID key (403), and an endpoint it never issued (404)", async () => {
    const subscription = await subscribe();
    const other = await newVapid(vapid.subject);
    expect(await sendWebPush(subscription, ATTEMPT, other)).toEqual({ outcome: "failed", status: 403 });
    expect((await logOf(subscription.endpoint)).refused).toMatchObject([{ status: 403, reason: expect.stringMatching(/^k is not/) }]);
    const unknown = { ...subscription, endpoint: `${pushServices().origin}/wpush/never-issued` };
    expect(await sendWebPush(unknown, ATTEMPT, vapid)).toEqual({ outcome: "dead", status: 404 });
  });
});

describe("FCM", () => {
  it("grants an access token for the account's JWT and takes a message for a token it issued", async () => {
    const token = await deviceToken("fcm");
    expect(await fcm(token)).toEqual({ outcome: "sent", status: 200 });
    const [push] = await waitForPushes(token, 1);
    expect(push!.message).toMatchObject({
      token,
      data: { postbox: ATTEMPT.payload },
      notification: { title: ATTEMPT.title, body: ATTEMPT.body },
      android: { ttl: "86400s", priority: "HIGH" },
    });
  });

  it("refuses a token it never issued as FCM does (400 INVALID_ARGUMENT), which is no dead registration", async () => {
    expect(await fcm("never-issued")).toEqual({ outcome: "failed", status: 400 });
  });
});

describe("APNs", () => {
  it("takes a push with a provider token signed by its key, for the app's topic", async () => {
    const token = await deviceToken("apns");
    expect(await sendApns(token, ATTEMPT, apns())).toEqual({ outcome: "sent", status: 200 });
    const [push] = await waitForPushes(token, 1);
    expect(push!.headers).toMatchObject({ "apns-topic": apns().topic, "apns-push-type": "alert", "apns-priority": "10" });
    expect(push!.provider).toMatchObject({ header: { alg: "ES256", kid: apns().keyId }, claims: { iss: apns().teamId } });
    expect(push!.body).toEqual({ aps: { alert: { title: ATTEMPT.title, body: ATTEMPT.body } }, postbox: JSON.parse(ATTEMPT.payload) });
  });

  it("refuses a device token it never issued: 400 BadDeviceToken, a dead registration", async () => {
    expect(await sendApns("ab".repeat(32), ATTEMPT, apns())).toEqual({ outcome: "dead", status: 400 });
  });
});

describe("faults, per target", () => {
  it("answer with each service's dead and retry statuses, Retry-After included, then accept again", async () => {
    const [subscription, fcmToken, apnsToken] = await Promise.all([subscribe(), deviceToken("fcm"), deviceToken("apns")]);
    await setFaults(subscription.endpoint, { status: 410 }, { status: 429, retryAfter: "7" });
    await setFaults(fcmToken, { status: 404 }, { status: 503, retryAfter: "3" });
    await setFaults(apnsToken, { status: 410 });
    expect(await sendWebPush(subscription, ATTEMPT, vapid)).toEqual({ outcome: "dead", status: 410 });
    expect(await sendWebPush(subscription, ATTEMPT, vapid)).toEqual({ outcome: "retry", status: 429, retryAfterMs: 7000 });
    expect(await sendWebPush(subscription, ATTEMPT, vapid)).toEqual({ outcome: "sent", status: 201 });
    expect(await fcm(fcmToken)).toEqual({ outcome: "dead", status: 404 });
    expect(await fcm(fcmToken)).toEqual({ outcome: "retry", status: 503, retryAfterMs: 3000 });
    expect(await sendApns(apnsToken, ATTEMPT, apns())).toEqual({ outcome: "dead", status: 410 });
    const received = (await logOf(subscription.endpoint)).received;
    expect(received.map(({ status, delivered }) => [status, delivered])).toEqual([[410, false], [429, false], [201, true]]);
  });

  it("lose a push they accept, and answer late when told to", async () => {
    const token = await deviceToken("fcm");
    await setFaults(token, { lose: true }, { delayMs: 300 });
    expect(await fcm(token)).toEqual({ outcome: "sent", status: 200 });
    expect(await fcm(token)).toEqual({ outcome: "sent", status: 200 });
    const [lost, late] = (await logOf(token)).received;
    expect(lost).toMatchObject({ status: 200, delivered: false });
    expect(late).toMatchObject({ status: 200, delivered: true });
    expect(late!.answeredAt! - late!.at).toBeGreaterThanOrEqual(300);
  });
});
