// The Web Push channel against a stand-in push service that checks each push with independent
// implementations (test/webpush-service.ts): http_ece decrypts it with the subscription's private key
// and auth secret, jose verifies its VAPID token against VAPID_PUBLIC_KEY.
import { base64url } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PushAttempt } from "../src/push/channel";
import { importSubscriptionKeys } from "../src/push/subscription-keys";
import { sendWebPush, WEBPUSH_MAX_PAYLOAD_BYTES } from "../src/push/webpush";
import type { WebPushSubscription } from "../src/shared/push-registration";
import { decryptAsUserAgent } from "./http-ece-reference.mjs";
import { DAY, freezeTime, travel } from "./helpers";
import { newVapid, PUSH_ORIGIN, StandInPushService } from "./webpush-service";

const attempt = (overrides: Partial<PushAttempt> = {}): PushAttempt => ({
  payload: JSON.stringify({ type: "personal", message: { seq: 1, body: "Grüße, 你好 👋" } }),
  ttlSeconds: 600,
  urgency: "normal",
  ...overrides,
});

/** A push service, a VAPID configuration and one subscription made with its key. */
async function setup() {
  const service = new StandInPushService();
  const vapid = await newVapid();
  const subscription = await service.subscribe(vapid.publicKey);
  const send = (overrides: Partial<PushAttempt> = {}, to: WebPushSubscription = subscription) =>
    sendWebPush(to, attempt(overrides), vapid, service.fetch);
  /** The push that was taken last. */
  const last = () => service.deliveries.at(-1)!;
  return { service, vapid, subscription, send, last };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("encryption: aes128gcm (RFC 8291), decrypted by http_ece", () => {
  it("the payload arrives exactly as sent, and the push service's 201 is sent", async () => {
    const { service, send, last } = await setup();
    expect(await send()).toEqual({ outcome: "sent", status: 201 });
    expect(service.refusals).toEqual([]);
    expect(last().payload).toBe(attempt().payload);
  });

  it("only the subscription's own private key and auth secret decrypt it", async () => {
    const { service, subscription, send, last } = await setup();
    const other = service.userAgents.get((await service.subscribe("unused")).endpoint)!;
    const own = service.userAgents.get(subscription.endpoint)!;
    await send();
    expect(() => decryptAsUserAgent(last().body, { ...own, privateKey: other.privateKey })).toThrow();
    expect(() => decryptAsUserAgent(last().body, { ...own, authSecret: other.authSecret })).toThrow();
    expect(new TextDecoder().decode(decryptAsUserAgent(last().body, own))).toBe(attempt().payload);
  });

  it("every message has a fresh salt and key pair, one record of size 4096, no padding", async () => {
    const { service, send } = await setup();
    await send();
    await send();
    const [first, second] = service.deliveries.map(({ body }) => body) as [Uint8Array, Uint8Array];
    const salt = (body: Uint8Array) => base64url.encode(body.subarray(0, 16));
    const keyId = (body: Uint8Array) => base64url.encode(body.subarray(21, 86));
    expect(salt(first)).not.toBe(salt(second));
    expect(keyId(first)).not.toBe(keyId(second));
    for (const body of [first, second]) {
      expect(new DataView(body.buffer, body.byteOffset).getUint32(16)).toBe(4096);
      expect(body[20]).toBe(65);
      expect(body.length).toBe(86 + new TextEncoder().encode(attempt().payload).length + 1 + 16);
    }
  });

  it("the largest payload fills the 4096 bytes a push service must take; one byte more is refused before sending", async () => {
    const { service, send, last } = await setup();
    const payload = (bytes: number) => JSON.stringify({ type: "poll", pad: "x".repeat(bytes - 24) });
    expect(new TextEncoder().encode(payload(WEBPUSH_MAX_PAYLOAD_BYTES)).length).toBe(3993);
    expect(await send({ payload: payload(WEBPUSH_MAX_PAYLOAD_BYTES) })).toEqual({ outcome: "sent", status: 201 });
    expect(last().body.length).toBe(4096);
    await expect(send({ payload: payload(WEBPUSH_MAX_PAYLOAD_BYTES + 1) })).rejects.toThrow(RangeError);
    expect(service.deliveries).toHaveLength(1);
    expect(service.refusals).toEqual([]);
  });
});

describe("VAPID (RFC 8292), verified by jose", () => {
  it("the token is ES256 by VAPID_PUBLIC_KEY, for the endpoint's origin, at most 24 h ahead, from VAPID_SUBJECT", async () => {
    const { service, vapid } = await setup();
    const subscription = await service.subscribe(vapid.publicKey, "https://push.stand-in.test:8443");
    const now = freezeTime();
    await sendWebPush(subscription, attempt(), vapid, service.fetch);
    expect(service.refusals).toEqual([]);
    const { claims, k, headers } = service.deliveries[0]!;
    expect(k).toBe(vapid.publicKey);
    expect(claims.aud).toBe("https://push.stand-in.test:8443");
    expect(claims.sub).toBe("mailto:ops@postbox.test");
    expect(claims.exp! * 1000).toBeGreaterThan(now);
    expect(claims.exp! * 1000).toBeLessThanOrEqual(now + DAY);
    const [header] = headers.get("Authorization")!.slice("vapid t=".length).split(".");
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(header!)))).toEqual({ typ: "JWT", alg: "ES256" });
  });

  it("a subscription made with another application server key is refused by the push service: failed", async () => {
    const { service, send } = await setup();
    const rotated = await service.subscribe((await newVapid()).publicKey);
    expect(await send({}, rotated)).toEqual({ outcome: "failed", status: 403 });
  });

  it("one token per push service, reused until an hour before it expires", async () => {
    const { service, vapid, send } = await setup();
    const elsewhere = await service.subscribe(vapid.publicKey, "https://other-push.stand-in.test");
    freezeTime();
    await send();
    await send({}, elsewhere);
    travel(11 * 3600_000 - 1000);
    await send();
    travel(2000);
    await send();
    const [first, other, reused, renewed] = service.deliveries.map((delivery) => delivery);
    expect(other!.claims.aud).toBe("https://other-push.stand-in.test");
    expect(reused!.headers.get("Authorization")).toBe(first!.headers.get("Authorization"));
    expect(renewed!.headers.get("Authorization")).not.toBe(first!.headers.get("Authorization"));
    expect(renewed!.claims.exp).toBeGreaterThan(first!.claims.exp!);
    expect(service.refusals).toEqual([]);
  });
});

describe("headers (RFC 8030)", () => {
  it("TTL is the seconds left, uncapped; Urgency; Content-Encoding and Content-Type; no Topic without a collapseKey", async () => {
    const { send, last } = await setup();
    await send({ ttlSeconds: 30 * 86_400, urgency: "high" });
    expect(Object.fromEntries(last().headers)).toMatchObject({
      ttl: "2592000",
      urgency: "high",
      "content-encoding": "aes128gcm",
      "content-type": "application/octet-stream",
    });
    expect(last().headers.has("Topic")).toBe(false);
    await send({ ttlSeconds: 59.7 });
    expect([last().headers.get("TTL"), last().headers.get("Urgency")]).toEqual(["59", "normal"]);
  });

  it("a collapseKey that is already a Topic is sent as it is; any other, as 32 characters of its SHA-256", async () => {
    const { service, send, last } = await setup();
    const topicFor = async (collapseKey: string) => (await send({ collapseKey }), last().headers.get("Topic"));
    const sha256 = async (key: string) =>
      base64url.encode(new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)))).slice(0, 32);

    expect(await topicFor("order-42_shipped")).toBe("order-42_shipped");
    expect(await topicFor("a".repeat(32))).toBe("a".repeat(32));
    for (const key of ["order:42.shipped", "a".repeat(33), "k".repeat(64)]) {
      expect(await topicFor(key)).toBe(await sha256(key));
    }
    expect(await topicFor("order:42.shipped")).toBe(await topicFor("order:42.shipped"));
    expect(service.refusals).toEqual([]);
  });
});

describe("the push service's answer", () => {
  it("an unsubscribed endpoint (410) or an unknown one (404) is dead", async () => {
    const { service, subscription, send } = await setup();
    service.unsubscribe(subscription.endpoint);
    expect(await send()).toEqual({ outcome: "dead", status: 410 });
    expect(await send({}, { ...subscription, endpoint: `${PUSH_ORIGIN}/wpush/v2/never` })).toEqual({ outcome: "dead", status: 404 });
  });

  it("2xx is sent, 429 and 5xx are retried with Retry-After in ms, any other is failed", async () => {
    const { service, send } = await setup();
    const now = freezeTime(Date.parse("2026-12-01T10:00:00Z"));
    const answers: [Response, unknown][] = [
      [new Response(null, { status: 202 }), { outcome: "sent", status: 202 }],
      [new Response(null, { status: 429, headers: { "Retry-After": "120" } }), { outcome: "retry", status: 429, retryAfterMs: 120_000 }],
      [new Response(null, { status: 503, headers: { "Retry-After": new Date(now + 30_000).toUTCString() } }), { outcome: "retry", status: 503, retryAfterMs: 30_000 }],
      [new Response(null, { status: 500 }), { outcome: "retry", status: 500 }],
      [new Response(null, { status: 400 }), { outcome: "failed", status: 400 }],
      [new Response(null, { status: 413 }), { outcome: "failed", status: 413 }],
    ];
    for (const [answer, result] of answers) {
      service.scripted.push(answer);
      expect(await send()).toStrictEqual(result);
    }
  });

  it("a redirect is not followed: the request says redirect: manual, and the 3xx is failed", async () => {
    const { service, send, last } = await setup();
    service.scripted.push(new Response(null, { status: 307, headers: { Location: "https://elsewhere.test/" } }));
    expect(await send()).toEqual({ outcome: "failed", status: 307 });
    expect(last().redirect).toBe("manual");
  });

  it("the answer's body is cancelled, not left holding the connection", async () => {
    const { service, send } = await setup();
    let cancelled = false;
    const body = new ReadableStream({ cancel: () => void (cancelled = true) });
    service.scripted.push(new Response(body, { status: 400 }));
    await send();
    expect(cancelled).toBe(true);
  });

  it("a network error is retried, with no status", async () => {
    const { vapid, subscription } = await setup();
    const unreachable = () => Promise.reject(new TypeError("Network connection lost."));
    expect(await sendWebPush(subscription, attempt(), vapid, unreachable)).toEqual({ outcome: "retry", status: null });
  });

  it("a push service that does not answer within 10 s is retried, with no status", async () => {
    const { vapid, subscription } = await setup();
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let called: () => void;
    const fetcherCalled = new Promise<void>((resolve) => (called = resolve));
    const silent = (_: RequestInfo | URL, init?: RequestInit) =>
      new Promise<Response>((_, reject) => {
        called();
        init!.signal!.addEventListener("abort", () => reject(init!.signal!.reason));
      });
    const result = sendWebPush(subscription, attempt(), vapid, silent);
    await fetcherCalled;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(await result).toEqual({ outcome: "retry", status: null });
  });
});

describe("a subscription's keys, as registration checks them", () => {
  const point = (bytes: Uint8Array) => base64url.encode(bytes);
  const pathsOf = async (keys: { p256dh: string; auth: string }) => {
    const result = await importSubscriptionKeys(keys);
    return "errors" in result ? result.errors.map((error) => error.path) : [];
  };

  it("a browser's keys are taken, padded or not", async () => {
    const { subscription } = await setup();
    expect(await pathsOf(subscription.keys)).toEqual([]);
    expect(await pathsOf({ p256dh: `${subscription.keys.p256dh}=`, auth: `${subscription.keys.auth}==` })).toEqual([]);
  });

  it("p256dh must be 65 bytes of an uncompressed point on P-256, auth 16 bytes, both base64url", async () => {
    const { subscription } = await setup();
    const { p256dh, auth } = subscription.keys;
    const raw = base64url.decode(p256dh);
    const compressed = Uint8Array.of(0x02 + (raw[64]! & 1), ...raw.subarray(1, 33));
    const offCurve = Uint8Array.from(raw);
    offCurve[64] = raw[64]! ^ 1;
    // The same point in the "hybrid" form (X9.62), not the uncompressed one.
    const hybrid = Uint8Array.from(raw);
    hybrid[0] = 0x06 + (raw[64]! & 1);
    for (const bad of [point(compressed), point(offCurve), point(hybrid), point(raw.subarray(0, 64)), "", "not base64url!"]) {
      expect(await pathsOf({ p256dh: bad, auth })).toEqual(["keys.p256dh"]);
    }
    const standardBase64 = btoa(String.fromCharCode(...new Uint8Array(16).fill(0xff))); // "/////…w=="
    for (const bad of [point(new Uint8Array(15)), point(new Uint8Array(17)), standardBase64]) {
      expect(await pathsOf({ p256dh, auth: bad })).toEqual(["keys.auth"]);
    }
    expect(await pathsOf({ p256dh: "", auth: "" })).toEqual(["keys.p256dh", "keys.auth"]);
  });
});
