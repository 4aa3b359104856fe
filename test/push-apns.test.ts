// The APNs sender (src/push/apns.ts) against a stand-in for Apple that checks what APNs checks: the
// ES256 provider token (jose, the key's public half; its kid, iss, and an iat under an hour old; no
// new token within 20 minutes of the last), the headers (topic, push type, expiration, priority,
// collapse id), the device token in the path and the body; it refuses with APNs' own reasons.
// APNs is HTTP/2 only; the stand-in is reached as the fetcher, not over the network (see apns.ts).
import { jwtVerify } from "jose";
import * as v from "valibot";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../src/config";
import { sendApns, type ApnsConfig } from "../src/push/apns";
import type { PushAttempt, PushResult } from "../src/push/channel";
import { aheadOfNow, freezeTime, range, travel, unique } from "./helpers";
import { ATTEMPT, expectNoTimerLeft, expectTimesOut, json, keyPair, MINUTE, standIn, unreachable } from "./push-stand-in";

const APNS = "https://apns.stand-in.test";
const TOPIC = "com.example.postbox";
const TEAM = "TEAM123456";
const DEVICE = "0f".repeat(32);
const encoder = new TextEncoder();

/** The provider key (Apple holds the public half). */
let publicKey: CryptoKey;
let privatePem: string;

beforeAll(async () => {
  ({ publicKey, privatePem } = await keyPair("ES256"));
});

afterEach(() => {
  vi.useRealTimers();
});

/** A key id of its own per test, so that no test shares another's cached provider token. */
const newConfig = (key = privatePem): ApnsConfig => ({ key, keyId: unique("KEY"), teamId: TEAM, topic: TOPIC, endpoint: APNS });

/** An APNs refusal: `{ "reason" }` (and when a token stopped being valid, for 410). */
const apnsError = (status: number, reason: string, headers: Record<string, string> = {}) =>
  json(status, { reason, ...(status === 410 && { timestamp: Date.now() }) }, { "apns-id": crypto.randomUUID(), ...headers });

const apnsBody = v.object({ aps: v.record(v.string(), v.unknown()) });

type Delivered = { token: string; headers: Record<string, string>; text: string };

class Apple {
  delivered: Delivered[] = [];
  unregistered = new Set<string>();
  /** Each provider token Apple was shown, when it was first, and its claims. */
  providerTokens: { jwt: string; iat: number; firstSeen: number }[] = [];
  /** Answers the next push (once it has passed the checks) instead. */
  next?: Response;
  private readonly refused = new Map<string, string>();

  constructor(private readonly config: ApnsConfig) {}

  answer = (request: Request) => this.push(request);
  fetch = standIn(this.answer);

  /** Every provider token shown so far is refused from now on, with `reason`. */
  refuseTokens(reason: "ExpiredProviderToken" | "InvalidProviderToken") {
    for (const { jwt } of this.providerTokens) this.refused.set(jwt, reason);
  }

  private async push(request: Request) {
    const token = new URL(request.url).pathname.match(/^\/3\/device\/([^/]*)$/)?.[1];
    if (token === undefined) return apnsError(404, "BadPath");
    if (request.method !== "POST") return apnsError(405, "MethodNotAllowed");
    const refusal = await this.checkProviderToken(request.headers.get("Authorization"));
    if (refusal) return refusal;
    const headers = Object.fromEntries(request.headers);
    const topic = headers["apns-topic"];
    if (topic === undefined) return apnsError(400, "MissingTopic");
    if (topic !== this.config.topic) return apnsError(400, "TopicDisallowed");
    if (headers["apns-push-type"] !== "alert") return apnsError(400, "InvalidPushType");
    if (!/^\d+$/.test(headers["apns-expiration"] ?? "")) return apnsError(400, "BadExpirationDate");
    if (!["10", "5"].includes(headers["apns-priority"] ?? "")) return apnsError(400, "BadPriority");
    const collapseId = headers["apns-collapse-id"];
    if (collapseId !== undefined && encoder.encode(collapseId).length > 64) return apnsError(400, "BadCollapseId");
    if (!/^[0-9a-f]{64,200}$/i.test(token)) return apnsError(400, "BadDeviceToken");
    const text = await request.text();
    if (encoder.encode(text).length > 4096) return apnsError(413, "PayloadTooLarge");
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return apnsError(400, "BadPayload");
    }
    if (!v.is(apnsBody, body)) return apnsError(400, "PayloadEmpty");
    if (this.next) {
      const answer = this.next;
      this.next = undefined;
      return answer;
    }
    if (this.unregistered.has(token)) return apnsError(410, "Unregistered");
    this.delivered.push({ token, headers, text });
    return new Response(null, { status: 200, headers: { "apns-id": crypto.randomUUID() } });
  }

  private async checkProviderToken(authorization: string | null) {
    const jwt = authorization?.match(/^bearer (\S+)$/i)?.[1];
    if (!jwt) return apnsError(403, "MissingProviderToken");
    let verified;
    try {
      verified = await jwtVerify(jwt, publicKey, { algorithms: ["ES256"], issuer: TEAM, requiredClaims: ["iat"] });
    } catch {
      return apnsError(403, "InvalidProviderToken");
    }
    const { payload, protectedHeader } = verified;
    const age = Date.now() / 1000 - payload.iat!;
    if (protectedHeader.kid !== this.config.keyId || age < -60) return apnsError(403, "InvalidProviderToken");
    if (age > 3600) return apnsError(403, "ExpiredProviderToken");
    const refused = this.refused.get(jwt);
    if (refused) return apnsError(403, refused);
    if (!this.providerTokens.some((seen) => seen.jwt === jwt)) {
      const last = this.providerTokens.at(-1);
      if (last && !this.refused.has(last.jwt) && Date.now() - last.firstSeen < 20 * MINUTE) {
        return apnsError(429, "TooManyProviderTokenUpdates");
      }
      this.providerTokens.push({ jwt, iat: payload.iat!, firstSeen: Date.now() });
    }
    return undefined;
  }
}

/** A fresh key id, Apple for it, and a send through them. */
function setup(config = newConfig()) {
  const apple = new Apple(config);
  const send = (attempt: PushAttempt = ATTEMPT, token = DEVICE) => sendApns(token, attempt, config, apple.fetch);
  return { config, apple, send };
}

const SENT: PushResult = { outcome: "sent", status: 200 };
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe("the push", () => {
  it("goes to the device's path with the topic, alert type, expiration, priority and collapse id, the alert and the payload", async () => {
    freezeTime();
    const { apple, send } = setup();
    const collapseKey = "k".repeat(64);
    expect(await send({ ...ATTEMPT, collapseKey })).toEqual(SENT);
    const [pushed] = apple.delivered;
    expect(pushed!.token).toBe(DEVICE);
    expect(pushed!.headers).toMatchObject({
      "apns-topic": TOPIC,
      "apns-push-type": "alert",
      "apns-expiration": String(nowSeconds() + ATTEMPT.ttlSeconds),
      "apns-priority": "10",
      "apns-collapse-id": collapseKey,
    });
    expect(JSON.parse(pushed!.text)).toEqual({
      aps: { alert: { title: "Order shipped", body: "On its way" } },
      postbox: JSON.parse(ATTEMPT.payload),
    });
    expect(pushed!.text, "the payload's own text").toContain(`"postbox":${ATTEMPT.payload}}`);
  });

  it("is priority 5 when normal, has no collapse id without a key, and an alert of only the texts there are", async () => {
    const { apple, send } = setup();
    expect(await send({ payload: '{"type":"retract","seq":3}', ttlSeconds: 60, urgency: "normal" })).toEqual(SENT);
    expect(await send({ ...ATTEMPT, title: undefined })).toEqual(SENT);
    const [retract, untitled] = apple.delivered;
    expect(retract!.headers["apns-priority"]).toBe("5");
    expect(retract!.headers).not.toHaveProperty("apns-collapse-id");
    expect(JSON.parse(retract!.text)).toEqual({ aps: {}, postbox: { type: "retract", seq: 3 } });
    expect(JSON.parse(untitled!.text).aps).toEqual({ alert: { body: "On its way" } });
  });

  it("expires when the time left does, however far (APNs has no cap)", async () => {
    freezeTime();
    const { apple, send } = setup();
    expect(await send({ ...ATTEMPT, ttlSeconds: 40 * 86_400 })).toEqual(SENT);
    expect(apple.delivered[0]!.headers["apns-expiration"]).toBe(String(nowSeconds() + 40 * 86_400));
  });
});

describe("the provider token", () => {
  it("is made once for many pushes, also concurrent first ones", async () => {
    const { apple, send } = setup();
    expect(await Promise.all(range(1, 10).map(() => send()))).toEqual(range(1, 10).map(() => SENT));
    for (const _ of range(1, 5)) expect(await send()).toEqual(SENT);
    expect(apple.providerTokens).toHaveLength(1);
  });

  it("is reused for over 20 minutes and renewed before 50", async () => {
    const t0 = freezeTime(aheadOfNow());
    const { apple, send } = setup();
    expect(await send()).toEqual(SENT);
    travel(25 * MINUTE);
    expect(await send()).toEqual(SENT);
    expect(apple.providerTokens).toHaveLength(1);
    travel(24 * MINUTE); // 49 minutes
    expect(await Promise.all(range(1, 5).map(() => send()))).toEqual(range(1, 5).map(() => SENT));
    expect(apple.providerTokens).toHaveLength(2);
    expect(apple.providerTokens[1]!.iat * 1000).toBeGreaterThanOrEqual(t0 + 20 * MINUTE);
    travel(25 * MINUTE); // 74 minutes: the first token would be refused as expired
    expect(await send()).toEqual(SENT);
  });

  it.each(["ExpiredProviderToken", "InvalidProviderToken"] as const)(
    "refused as %s is dropped: that push is retried, the next one has a new token",
    async (reason) => {
      const { apple, send } = setup();
      expect(await send()).toEqual(SENT);
      apple.refuseTokens(reason);
      expect(await send()).toEqual({ outcome: "retry", status: 403 });
      expect(await send()).toEqual(SENT);
      expect(apple.providerTokens).toHaveLength(2);
    },
  );

  it("is kept when APNs refuses the push for another reason", async () => {
    const { apple, send } = setup();
    apple.next = apnsError(403, "Forbidden");
    expect(await send()).toEqual({ outcome: "failed", status: 403 });
    expect(await send()).toEqual(SENT);
    expect(apple.providerTokens).toHaveLength(1);
  });
});

describe("APNs' answers", () => {
  const cases: [string, () => Response, PushResult][] = [
    ["410 Unregistered", () => apnsError(410, "Unregistered"), { outcome: "dead", status: 410 }],
    ["400 BadDeviceToken", () => apnsError(400, "BadDeviceToken"), { outcome: "dead", status: 400 }],
    ["400 DeviceTokenNotForTopic", () => apnsError(400, "DeviceTokenNotForTopic"), { outcome: "failed", status: 400 }],
    ["413 PayloadTooLarge", () => apnsError(413, "PayloadTooLarge"), { outcome: "failed", status: 413 }],
    ["429 TooManyRequests", () => apnsError(429, "TooManyRequests"), { outcome: "retry", status: 429 }],
    ["500 InternalServerError", () => apnsError(500, "InternalServerError"), { outcome: "retry", status: 500 }],
    ["503 ServiceUnavailable, Retry-After in seconds", () => apnsError(503, "ServiceUnavailable", { "Retry-After": "60" }), { outcome: "retry", status: 503, retryAfterMs: 60_000 }],
    ["503 Shutdown, Retry-After as an HTTP-date", () => apnsError(503, "Shutdown", { "Retry-After": new Date(Date.now() + 5000).toUTCString() }), { outcome: "retry", status: 503, retryAfterMs: 5000 }],
  ];

  it.each(cases)("%s", async (_name, answer, outcome) => {
    freezeTime(aheadOfNow());
    const { apple, send } = setup();
    apple.next = answer();
    expect(await send()).toEqual(outcome);
    expect(await send(), "the next push goes through").toEqual(SENT);
  });

  it("a device APNs no longer knows, or a token that is not one, is dead", async () => {
    const { apple, send } = setup();
    apple.unregistered.add(DEVICE);
    expect(await send()).toEqual({ outcome: "dead", status: 410 });
    expect(await send(ATTEMPT, "not-a-device-token")).toEqual({ outcome: "dead", status: 400 });
  });

  it("a network error is a retry with no status", async () => {
    expect(await sendApns(DEVICE, ATTEMPT, newConfig(), unreachable)).toEqual({ outcome: "retry", status: null });
  });
});

describe("timeouts", () => {
  it("APNs not answering is a retry after 10 s, its timer gone", async () => {
    const config = newConfig();
    await expectTimesOut(new Apple(config).answer, /^https:\/\/apns\./, (fetcher) => sendApns(DEVICE, ATTEMPT, config, fetcher));
  });

  it("a push that is answered leaves no timer running", async () => {
    const { send } = setup();
    await expectNoTimerLeft(() => send());
  });
});

describe("APNS_KEY", () => {
  it("that is not a P-256 PKCS#8 key makes the send throw a ConfigError", async () => {
    const rsaPem = (await keyPair("RS256")).privatePem;
    for (const key of [rsaPem, "not a key"]) {
      await expect(setup(newConfig(key)).send()).rejects.toThrow(/^APNS_KEY does not hold a PKCS#8 PEM private key for ES256/);
    }
    await expect(setup(newConfig("not a key")).send()).rejects.toThrow(ConfigError);
  });
});
