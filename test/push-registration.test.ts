// Push channel registration (contract v1.1, "Push channels", client routes):
// PUT/GET/DELETE /v1/push per device; the body validated as the contract says
// (keys, lengths, the endpoint's origin in WEBPUSH_ORIGINS) before a channel
// that is not configured answers 503; a refused request changes nothing.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import {
  client,
  clientWithEnv,
  expectInvalid,
  expectProblem,
  LAPTOP,
  PHONE,
  unique,
  userView,
  type ClientClaims,
} from "./helpers";

const base64Url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");

/** A subscription as a browser's PushSubscription.toJSON() gives it: a real P-256 key and a 16-byte secret. */
async function browserSubscription(endpoint = "https://fcm.googleapis.com/fcm/send/abc123") {
  const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
  const p256dh = base64Url(new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer));
  return { endpoint, expirationTime: null, keys: { p256dh, auth: base64Url(crypto.getRandomValues(new Uint8Array(16))) } };
}

const APNS_TOKEN = "a1".repeat(32);
const register = (user: string, body: unknown, claims: ClientClaims = {}) =>
  client(user, "/v1/push", { ...claims, method: "PUT", json: body });
/** The tests run with every channel on (vitest.config.ts): a deployment without FCM's and APNs' settings. */
const FCM_AND_APNS_OFF = { FCM_SERVICE_ACCOUNT: "", APNS_KEY: "", APNS_KEY_ID: "", APNS_TEAM_ID: "", APNS_TOPIC: "" };
const registerWithoutFcmAndApns = (user: string, body: unknown, claims: ClientClaims = {}) =>
  clientWithEnv(FCM_AND_APNS_OFF, user, "/v1/push", { ...claims, method: "PUT", json: body });
const channelOf = async (user: string, claims: ClientClaims = {}) =>
  (await (await client(user, "/v1/push", claims)).json()) as { device: string; channel: string | null; vapidPublicKey: string | null };

describe("registering a device's push channel", () => {
  it("takes a browser's subscription: 200, and GET and the publisher's view show it", async () => {
    const user = unique("push");
    const res = await register(user, { webpush: await browserSubscription() });
    expect([res.status, await res.json()]).toStrictEqual([200, { device: "default", channel: "webpush" }]);
    expect(await channelOf(user)).toStrictEqual({ device: "default", channel: "webpush", vapidPublicKey: env.VAPID_PUBLIC_KEY });
    expect((await userView(user)).devices.default?.push).toBe("webpush");
  });

  it("is per device, and a new registration replaces the device's old one", async () => {
    const user = unique("push-devices");
    expect((await register(user, { webpush: await browserSubscription() }, PHONE)).status).toBe(200);
    expect((await channelOf(user, LAPTOP)).channel).toBeNull();
    expect((await registerWithoutFcmAndApns(user, { apns: { token: APNS_TOKEN } }, LAPTOP)).status).toBe(503);
    const res = await register(user, { apns: { token: APNS_TOKEN } }, PHONE);
    expect(await res.json()).toStrictEqual({ device: "phone", channel: "apns" });
    const { devices } = await userView(user);
    expect([devices.phone?.push, devices.laptop?.push]).toStrictEqual(["apns", null]);
  });

  it("DELETE removes it", async () => {
    const user = unique("push-delete");
    await register(user, { webpush: await browserSubscription() }, PHONE);
    const res = await client(user, "/v1/push", { ...PHONE, method: "DELETE" });
    expect([res.status, await res.json()]).toStrictEqual([200, { device: "phone", channel: null }]);
    expect((await channelOf(user, PHONE)).channel).toBeNull();
    expect((await userView(user)).devices.phone?.push).toBeNull();
  });

  it("accepts a subscription's expirationTime as a number and ignores it", async () => {
    const user = unique("push-expiry");
    const subscription = { ...(await browserSubscription()), expirationTime: Date.now() + 60_000 };
    expect((await register(user, { webpush: subscription })).status).toBe(200);
  });

  it("accepts an endpoint under a listed *. origin by one or more labels", async () => {
    const user = unique("push-wildcard");
    const subscription = await browserSubscription("https://db5p.wns.notify.windows.com/w/?token=abc");
    expect((await register(user, { webpush: subscription })).status).toBe(200);
  });

  it("accepts any scheme whose origin WEBPUSH_ORIGINS lists (a local push service over http)", async () => {
    const user = unique("push-local");
    const subscription = await browserSubscription("http://127.0.0.1:9900/push/1");
    const res = await clientWithEnv({ WEBPUSH_ORIGINS: "http://127.0.0.1:9900" }, user, "/v1/push", { method: "PUT", json: { webpush: subscription } });
    expect(res.status).toBe(200);
  });
});

describe("refusals, which change nothing", () => {
  const invalid: [string, () => Promise<unknown>, string][] = [
    ["no channel", async () => ({}), ""],
    ["two channels", async () => ({ webpush: await browserSubscription(), fcm: { token: "t" } }), ""],
    ["an unknown channel", async () => ({ sms: { number: "1" } }), "sms"],
    ["a p256dh of 64 bytes", async () => {
      const subscription = await browserSubscription();
      return { webpush: { ...subscription, keys: { ...subscription.keys, p256dh: base64Url(new Uint8Array(64).fill(4)) } } };
    }, "webpush.keys.p256dh"],
    ["a compressed p256dh (0x02 prefix)", async () => {
      const subscription = await browserSubscription();
      const point = new Uint8Array(65).fill(7);
      point[0] = 2;
      return { webpush: { ...subscription, keys: { ...subscription.keys, p256dh: base64Url(point) } } };
    }, "webpush.keys.p256dh"],
    ["a p256dh that is not on the curve", async () => {
      const subscription = await browserSubscription();
      const point = new Uint8Array(65).fill(7);
      point[0] = 4;
      return { webpush: { ...subscription, keys: { ...subscription.keys, p256dh: base64Url(point) } } };
    }, "webpush.keys.p256dh"],
    ["an auth of 15 bytes", async () => {
      const subscription = await browserSubscription();
      return { webpush: { ...subscription, keys: { ...subscription.keys, auth: base64Url(new Uint8Array(15)) } } };
    }, "webpush.keys.auth"],
    ["an endpoint postbox may not post to", async () => ({ webpush: await browserSubscription("https://evil.example/push") }), "webpush.endpoint"],
    ["an endpoint on a listed host's other port", async () => ({ webpush: await browserSubscription("https://fcm.googleapis.com:8443/x") }), "webpush.endpoint"],
    ["a bare wildcard domain", async () => ({ webpush: await browserSubscription("https://notify.windows.com/x") }), "webpush.endpoint"],
    ["an endpoint that is not a URL", async () => ({ webpush: await browserSubscription("not a url") }), "webpush.endpoint"],
    ["an empty FCM token", async () => ({ fcm: { token: "" } }), "fcm.token"],
    ["an FCM token of 4097 characters", async () => ({ fcm: { token: "t".repeat(4097) } }), "fcm.token"],
    ["an APNs token of 63 hex digits", async () => ({ apns: { token: "a".repeat(63) } }), "apns.token"],
    ["an APNs token that is not hex", async () => ({ apns: { token: "z".repeat(64) } }), "apns.token"],
  ];

  it.each(invalid)("400 for %s, naming the field", async (_what, body, path) => {
    const user = unique("push-invalid");
    await expectInvalid(await register(user, await body()), path);
    expect((await userView(user)).devices).toStrictEqual({});
  });

  it("503 naming what an unconfigured channel lacks, after the body was found valid", async () => {
    const user = unique("push-off");
    const fcm = await expectProblem(await registerWithoutFcmAndApns(user, { fcm: { token: "fcm-token" } }), 503);
    expect(fcm.detail).toContain("FCM_SERVICE_ACCOUNT");
    const apns = await expectProblem(await registerWithoutFcmAndApns(user, { apns: { token: APNS_TOKEN } }), 503);
    expect(apns.detail).toMatch(/APNS_KEY.*APNS_KEY_ID.*APNS_TEAM_ID.*APNS_TOPIC/);
    const webpush = await clientWithEnv({ VAPID_SUBJECT: undefined }, user, "/v1/push", {
      method: "PUT",
      json: { webpush: await browserSubscription() },
    });
    expect((await expectProblem(webpush, 503)).detail).toContain("VAPID_SUBJECT");
    await expectInvalid(await registerWithoutFcmAndApns(user, { fcm: { token: "" } }), "fcm.token");
    expect((await userView(user)).devices).toStrictEqual({});
  });

  it("GET says vapidPublicKey null while Web Push is not configured", async () => {
    const res = await clientWithEnv({ VAPID_PRIVATE_KEY: "" }, unique("push-novapid"), "/v1/push");
    expect(await res.json()).toMatchObject({ channel: null, vapidPublicKey: null });
  });

  it("403 for a device parameter other than the token's", async () => {
    const user = unique("push-403");
    const res = await client(user, "/v1/push?device=laptop", { ...PHONE, method: "PUT", json: { webpush: await browserSubscription() } });
    await expectProblem(res, 403);
    expect((await userView(user)).devices).toStrictEqual({});
  });
});
