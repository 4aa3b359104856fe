// What a personal message's priority, collapseKey and ttlSeconds become on each push channel
// (contract v1.1, "Push channels", Delivery), as the stand-in push services receive them: Web Push
// Urgency, Topic and TTL; FCM android.priority, android.collapse_key and android.ttl; APNs
// apns-priority, apns-collapse-id and apns-expiration.
import { afterEach, describe, expect, it, vi } from "vitest";
import { toBase64url } from "../src/push/base64url";
import {
  LAPTOP,
  PENDING_TTL_SECONDS,
  PHONE,
  SECOND,
  TABLET,
  aheadOfNow,
  alarmAfter,
  freezeTime,
  publish,
  unique,
} from "./helpers";
import { registerPush, setFaults, waitForPushes, waitForPushOf, type Received } from "./push-service";

afterEach(() => {
  vi.useRealTimers();
});

/** A new user with a device on each channel (phone: Web Push, laptop: FCM, tablet: APNs); the clock stopped. */
async function userOnEveryChannel() {
  const user = unique("mappings");
  const at = freezeTime(aheadOfNow());
  const targets = { webpush: await registerPush(user, "webpush", PHONE), fcm: await registerPush(user, "fcm", LAPTOP), apns: await registerPush(user, "apns", TABLET) };
  return { user, at, targets };
}

/** The first push of `message` on each channel, published at `at`. */
async function pushesOf(message: Record<string, unknown>) {
  const { user, targets, at } = await userOnEveryChannel();
  await publish(user, message);
  const first = async (target: string) => (await waitForPushes(target, 1))[0]!;
  return { at, webpush: await first(targets.webpush), fcm: await first(targets.fcm), apns: await first(targets.apns) };
}

/** What RFC 8030 allows a Topic to be: at most 32 characters of the URL-safe base64 alphabet. */
const TOPIC = /^[A-Za-z0-9_-]{1,32}$/;
const sha256Topic = async (key: string) =>
  toBase64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key))).slice(0, 32);

const urgencyOf = ({ webpush, fcm, apns }: Record<"webpush" | "fcm" | "apns", Received>) => [
  webpush.headers.urgency,
  fcm.message!.android.priority,
  apns.headers["apns-priority"],
];

describe("priority", () => {
  it("high: Web Push Urgency high, FCM priority HIGH, APNs priority 10", async () => {
    expect(urgencyOf(await pushesOf({ body: "now", priority: "high" }))).toEqual(["high", "HIGH", "10"]);
  });

  it("normal, or none: Urgency normal, NORMAL, 5", async () => {
    expect(urgencyOf(await pushesOf({ body: "later", priority: "normal" }))).toEqual(["normal", "NORMAL", "5"]);
    expect(urgencyOf(await pushesOf({ body: "whenever" }))).toEqual(["normal", "NORMAL", "5"]);
  });
});

describe("collapseKey", () => {
  it("is FCM's collapse_key and APNs' collapse id as it is, and the Web Push Topic when it is one already", async () => {
    const { webpush, fcm, apns } = await pushesOf({ body: "b", collapseKey: "order-42_shipped" });
    expect([webpush.headers.topic, fcm.message!.android.collapse_key, apns.headers["apns-collapse-id"]]).toEqual([
      "order-42_shipped",
      "order-42_shipped",
      "order-42_shipped",
    ]);
  });

  it("longer than 32 characters, or with . or :, is the Topic as the first 32 characters of its SHA-256 in base64url", async () => {
    for (const key of ["k".repeat(33), "order:42.shipped", `${"a".repeat(63)}:`]) {
      const { webpush, fcm, apns } = await pushesOf({ body: "b", collapseKey: key });
      expect(webpush.headers.topic, key).toMatch(TOPIC);
      expect(webpush.headers.topic, key).toBe(await sha256Topic(key));
      expect([fcm.message!.android.collapse_key, apns.headers["apns-collapse-id"]]).toEqual([key, key]);
    }
  });

  it("none: no Topic, collapse_key or collapse id", async () => {
    const { webpush, fcm, apns } = await pushesOf({ body: "b" });
    expect([webpush.headers.topic, fcm.message!.android.collapse_key, apns.headers["apns-collapse-id"]]).toEqual([undefined, undefined, undefined]);
  });
});

describe("ttlSeconds", () => {
  it("is the push's lifetime on each channel, when it ends before the pending set would", async () => {
    const { at, webpush, fcm, apns } = await pushesOf({ body: "b", ttlSeconds: 90 });
    expect([webpush.headers.ttl, fcm.message!.android.ttl, apns.headers["apns-expiration"]]).toEqual(["90", "90s", String(at / 1000 + 90)]);
  });

  it("none: the lifetime is the pending set's", async () => {
    const { at, webpush, fcm, apns } = await pushesOf({ body: "b" });
    const left = PENDING_TTL_SECONDS;
    expect([webpush.headers.ttl, fcm.message!.android.ttl, apns.headers["apns-expiration"]]).toEqual([`${left}`, `${left}s`, String(at / 1000 + left)]);
  });

  it("a retry is sent with the seconds then left of it", async () => {
    const { user, targets } = await userOnEveryChannel();
    await setFaults(targets.webpush, { status: 503 });
    await publish(user, { body: "b", ttlSeconds: 90 });
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ lastStatus: 503 }), laptop: expect.anything(), tablet: expect.anything() });
    await alarmAfter(user, 5 * SECOND);
    const [first, retry] = await waitForPushes(targets.webpush, 2);
    expect([first!.headers.ttl, retry!.headers.ttl]).toEqual(["90", "85"]);
  });
});
