// The FCM sender (src/push/fcm.ts) against a stand-in for Google that checks what Google checks: its
// OAuth token endpoint verifies the service account's RS256 grant (jose, the account's public key) and
// its claims; its FCM accepts only the access tokens it issued, unexpired, for the URL's project, and
// only a well-formed message; it refuses with FCM's own error shapes.
import { jwtVerify } from "jose";
import * as v from "valibot";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError } from "../src/config";
import type { PushAttempt, PushResult } from "../src/push/channel";
import { parseServiceAccount, sendFcm, type ServiceAccount } from "../src/push/fcm";
import { aheadOfNow, expectLogged, freezeTime, range, travel, unique } from "./helpers";
import { ATTEMPT, expectNoTimerLeft, expectTimesOut, json, keyPair, MINUTE, standIn, unreachable } from "./push-stand-in";

const TOKEN_URI = "https://oauth2.stand-in.test/token";
const FCM = "https://fcm.stand-in.test";
const SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
const JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
const DAY_SECONDS = 86_400;

/** The service account's key pair (Google holds the public half), and a private key Google does not know. */
let publicKey: CryptoKey;
let privatePem: string;
let unknownPem: string;

beforeAll(async () => {
  ({ publicKey, privatePem } = await keyPair("RS256"));
  unknownPem = (await keyPair("RS256")).privatePem;
});

afterEach(() => {
  vi.useRealTimers();
});

/** A service account of its own per test, so that no test shares another's cached access token. */
function newAccount(private_key = privatePem): ServiceAccount {
  const id = unique("postbox");
  return parseServiceAccount(
    JSON.stringify({
      type: "service_account",
      project_id: `project-${id}`,
      private_key_id: "key-1",
      private_key,
      client_email: `${id}@project.iam.gserviceaccount.com`,
      client_id: "1234567890",
      token_uri: TOKEN_URI,
    }),
  );
}

const googleError = (code: number, status: string, message: string, errorCode?: string, headers = {}) =>
  json(code, { error: { code, message, status, ...(errorCode && { details: [{ "@type": FCM_ERROR, errorCode }] }) } }, headers);

/** The HTTP v1 request body, as strictly as FCM reads it (an unknown field is INVALID_ARGUMENT there too). */
const fcmRequest = v.strictObject({
  message: v.strictObject({
    token: v.pipe(v.string(), v.nonEmpty()),
    data: v.record(v.string(), v.string()),
    notification: v.optional(v.strictObject({ title: v.optional(v.string()), body: v.optional(v.string()) })),
    android: v.strictObject({
      ttl: v.pipe(
        v.string(),
        v.regex(/^\d+(\.\d{1,9})?s$/, "ttl is a Duration: seconds followed by s"),
        v.check((ttl) => parseFloat(ttl) <= 28 * DAY_SECONDS, "TTL must not exceed 4 weeks"),
      ),
      // AndroidMessagePriority: FCM v1 documents its values as NORMAL and HIGH.
      priority: v.picklist(["NORMAL", "HIGH"]),
      collapse_key: v.optional(v.string()),
    }),
  }),
});

type FcmMessage = v.InferOutput<typeof fcmRequest>["message"];

class Google {
  /** Access tokens issued: each a grant the token endpoint verified. */
  grants = 0;
  delivered: FcmMessage[] = [];
  unregistered = new Set<string>();
  /** Answers the next grant or send (once it has passed the checks) instead. */
  nextGrant?: Response;
  nextSend?: Response;
  private readonly accessTokens = new Map<string, number>();

  constructor(private readonly account: ServiceAccount) {}

  answer = (request: Request) => (request.url === TOKEN_URI ? this.grant(request) : this.send(request));
  fetch = standIn(this.answer);

  /** Every access token stops working, as when it is revoked. */
  revoke() {
    this.accessTokens.clear();
  }

  private async grant(request: Request) {
    if (request.method !== "POST") return json(405, { error: "invalid_request" });
    if (request.headers.get("Content-Type") !== "application/x-www-form-urlencoded") {
      return json(400, { error: "invalid_request", error_description: "Bad Request" });
    }
    const form = await request.formData();
    if (form.get("grant_type") !== JWT_BEARER) {
      return json(400, { error: "unsupported_grant_type", error_description: `Invalid grant_type: ${form.get("grant_type")}` });
    }
    let claims;
    try {
      ({ payload: claims } = await jwtVerify(String(form.get("assertion") ?? ""), publicKey, {
        algorithms: ["RS256"],
        issuer: this.account.client_email,
        audience: TOKEN_URI,
        requiredClaims: ["iat", "exp"],
      }));
    } catch (error) {
      return json(400, { error: "invalid_grant", error_description: `Invalid JWT: ${(error as Error).message}` });
    }
    if (claims.scope !== SCOPE) return json(400, { error: "invalid_scope", error_description: `Invalid scope: ${claims.scope}` });
    const now = Date.now() / 1000;
    if (claims.exp! - claims.iat! > 3600 || claims.iat! > now + 60) {
      return json(400, {
        error: "invalid_grant",
        error_description: "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.",
      });
    }
    if (this.nextGrant) return this.take("nextGrant");
    this.grants++;
    const token = `ya29.${crypto.randomUUID()}`;
    this.accessTokens.set(token, Date.now() + 3599_000);
    return json(200, { access_token: token, expires_in: 3599, token_type: "Bearer" });
  }

  private async send(request: Request) {
    const project = new URL(request.url).pathname.match(/^\/v1\/projects\/([^/]+)\/messages:send$/)?.[1];
    if (request.method !== "POST" || !project) return new Response("<html>Not Found</html>", { status: 404 });
    const bearer = request.headers.get("Authorization")?.match(/^Bearer (\S+)$/)?.[1];
    if (!bearer || !((this.accessTokens.get(bearer) ?? 0) > Date.now())) {
      return googleError(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token.");
    }
    if (decodeURIComponent(project) !== this.account.project_id) {
      return googleError(403, "PERMISSION_DENIED", `Permission 'cloudmessaging.messages.create' denied on resource '${project}'.`);
    }
    const body = request.headers.get("Content-Type") === "application/json" ? await request.json().catch(() => null) : null;
    const parsed = v.safeParse(fcmRequest, body);
    if (!parsed.success) {
      return googleError(400, "INVALID_ARGUMENT", `Invalid JSON payload received. ${v.summarize(parsed.issues)}`, "INVALID_ARGUMENT");
    }
    if (this.nextSend) return this.take("nextSend");
    const { message } = parsed.output;
    if (this.unregistered.has(message.token)) {
      return googleError(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED");
    }
    this.delivered.push(message);
    return json(200, { name: `projects/${project}/messages/${crypto.randomUUID()}` });
  }

  private take(which: "nextGrant" | "nextSend") {
    const answer = this[which]!;
    this[which] = undefined;
    return answer;
  }
}

/** A fresh account, Google for it, and a send through them. */
function setup(account = newAccount()) {
  const google = new Google(account);
  const send = (attempt: PushAttempt = ATTEMPT, token = "fcm-token-1") => sendFcm(token, attempt, account, FCM, google.fetch);
  return { account, google, send };
}

const SENT: PushResult = { outcome: "sent", status: 200 };

describe("the message", () => {
  it("carries the payload as data.postbox, the texts as a notification, and the lifetime, priority and collapse key", async () => {
    const { google, send } = setup();
    expect(await send({ ...ATTEMPT, collapseKey: "order-42" })).toEqual(SENT);
    expect(google.delivered).toEqual([
      {
        token: "fcm-token-1",
        data: { postbox: ATTEMPT.payload },
        notification: { title: "Order shipped", body: "On its way" },
        android: { ttl: "86400s", priority: "HIGH", collapse_key: "order-42" },
      },
    ]);
  });

  it("has no notification when the message has no text, and only the text it has", async () => {
    const { google, send } = setup();
    expect(await send({ payload: '{"type":"retract","seq":3}', ttlSeconds: 60, urgency: "normal" })).toEqual(SENT);
    expect(await send({ ...ATTEMPT, title: undefined })).toEqual(SENT);
    expect(google.delivered.map(({ notification, android }) => ({ notification, android }))).toEqual([
      { notification: undefined, android: { ttl: "60s", priority: "NORMAL" } },
      { notification: { body: "On its way" }, android: { ttl: "86400s", priority: "HIGH" } },
    ]);
  });

  it("caps the lifetime at FCM's 28 days", async () => {
    const { google, send } = setup();
    for (const days of [40, 28]) expect(await send({ ...ATTEMPT, ttlSeconds: days * DAY_SECONDS })).toEqual(SENT);
    expect(await send({ ...ATTEMPT, ttlSeconds: 28 * DAY_SECONDS - 1 })).toEqual(SENT);
    expect(google.delivered.map((message) => message.android.ttl)).toEqual(["2419200s", "2419200s", "2419199s"]);
  });
});

describe("the access token", () => {
  it("is granted for the service account's signed JWT once, and shown for many messages", async () => {
    const { google, send } = setup();
    for (const _ of range(1, 5)) expect(await send()).toEqual(SENT);
    expect(await Promise.all(range(1, 20).map(() => send()))).toEqual(range(1, 20).map(() => SENT));
    expect(google.grants).toBe(1);
    expect(google.delivered).toHaveLength(25);
  });

  it("is fetched once by concurrent first sends", async () => {
    const { google, send } = setup();
    expect(await Promise.all(range(1, 10).map(() => send()))).toEqual(range(1, 10).map(() => SENT));
    expect(google.grants).toBe(1);
  });

  it("is fetched again only shortly before it expires, once for the sends of that moment", async () => {
    freezeTime(aheadOfNow());
    const { google, send } = setup();
    expect(await send()).toEqual(SENT);
    travel(50 * MINUTE);
    expect(await send()).toEqual(SENT);
    travel(4 * MINUTE); // 54 min: the hour's token has 6 minutes left
    expect(await send()).toEqual(SENT);
    expect(google.grants).toBe(1);
    travel(2 * MINUTE); // 56 min: under 4 minutes left
    expect(await Promise.all(range(1, 10).map(() => send()))).toEqual(range(1, 10).map(() => SENT));
    expect(google.grants).toBe(2);
    travel(50 * MINUTE);
    expect(await send()).toEqual(SENT);
    expect(google.grants).toBe(2);
  });

  it("is dropped when FCM refuses it (401): that push is retried, and the next asks for a new one", async () => {
    const { google, send } = setup();
    expect(await send()).toEqual(SENT);
    google.revoke();
    expect(await send()).toEqual({ outcome: "retry", status: 401 });
    expect(await send()).toEqual(SENT);
    expect(google.grants).toBe(2);
  });

  it("when the token endpoint is failing (429, 5xx, network), is a retry, and the next send asks again", async () => {
    const { account, google, send } = setup();
    google.nextGrant = json(503, { error: "unavailable" }, { "Retry-After": "7" });
    expect(await send()).toEqual({ outcome: "retry", status: 503, retryAfterMs: 7000 });
    google.nextGrant = json(429, { error: "rate_limit_exceeded" });
    expect(await send()).toEqual({ outcome: "retry", status: 429 });
    expect(await sendFcm("fcm-token-1", ATTEMPT, account, FCM, unreachable)).toEqual({ outcome: "retry", status: null });
    expect(google.delivered).toEqual([]);
    expect(await send()).toEqual(SENT);
    expect(google.grants).toBe(1);
  });

  it("when the grant is refused (a key Google does not know), fails the push and logs the endpoint's reason", async () => {
    const { send, google } = setup(newAccount(unknownPem));
    const result = await expectLogged(/^FCM: .* refused the service account's grant \(400\): .*invalid_grant/, () => send());
    expect(result).toEqual({ outcome: "failed", status: 400 });
    expect(google.delivered).toEqual([]);
  });
});

describe("FCM's answers", () => {
  const cases: [string, () => Response, PushResult][] = [
    ["404 UNREGISTERED", () => googleError(404, "NOT_FOUND", "Requested entity was not found.", "UNREGISTERED"), { outcome: "dead", status: 404 }],
    ["404 with no details", () => googleError(404, "NOT_FOUND", "Requested entity was not found."), { outcome: "dead", status: 404 }],
    ["400 UNREGISTERED", () => googleError(400, "INVALID_ARGUMENT", "The registration token is not valid.", "UNREGISTERED"), { outcome: "dead", status: 400 }],
    ["400 INVALID_ARGUMENT", () => googleError(400, "INVALID_ARGUMENT", "The registration token is not a valid FCM registration token", "INVALID_ARGUMENT"), { outcome: "failed", status: 400 }],
    ["403 SENDER_ID_MISMATCH", () => googleError(403, "PERMISSION_DENIED", "SenderId mismatch", "SENDER_ID_MISMATCH"), { outcome: "failed", status: 403 }],
    ["401 THIRD_PARTY_AUTH_ERROR", () => googleError(401, "UNAUTHENTICATED", "Auth error from APNS or Web Push Service", "THIRD_PARTY_AUTH_ERROR"), { outcome: "failed", status: 401 }],
    ["429 QUOTA_EXCEEDED, Retry-After in seconds", () => googleError(429, "RESOURCE_EXHAUSTED", "Quota exceeded.", "QUOTA_EXCEEDED", { "Retry-After": "30" }), { outcome: "retry", status: 429, retryAfterMs: 30_000 }],
    ["503 UNAVAILABLE, Retry-After as an HTTP-date", () => googleError(503, "UNAVAILABLE", "The service is currently unavailable.", "UNAVAILABLE", { "Retry-After": new Date(Date.now() + 120_000).toUTCString() }), { outcome: "retry", status: 503, retryAfterMs: 120_000 }],
    ["500 INTERNAL", () => googleError(500, "INTERNAL", "Internal error encountered.", "INTERNAL"), { outcome: "retry", status: 500 }],
    ["502 with an HTML body", () => new Response("<html>Bad Gateway</html>", { status: 502 }), { outcome: "retry", status: 502 }],
  ];

  it.each(cases)("%s", async (_name, answer, outcome) => {
    freezeTime(aheadOfNow());
    const { google, send } = setup();
    google.nextSend = answer();
    expect(await send()).toEqual(outcome);
    expect(await send(), "the next send goes through").toEqual(SENT);
    expect(google.grants).toBe(1);
  });

  it("a token FCM no longer knows is dead", async () => {
    const { google, send } = setup();
    google.unregistered.add("gone");
    expect(await send(ATTEMPT, "gone")).toEqual({ outcome: "dead", status: 404 });
  });

  it("a network error is a retry with no status", async () => {
    const { google, account, send } = setup();
    expect(await send()).toEqual(SENT);
    const fcmDown: typeof fetch = (input, init) => (new Request(input).url.startsWith(FCM) ? unreachable(input, init) : google.fetch(input, init));
    expect(await sendFcm("fcm-token-1", ATTEMPT, account, FCM, fcmDown)).toEqual({ outcome: "retry", status: null });
  });
});

describe("timeouts", () => {
  it("FCM not answering is a retry after 10 s, its timer gone", async () => {
    const account = newAccount();
    await expectTimesOut(new Google(account).answer, /^https:\/\/fcm\./, (fetcher) => sendFcm("fcm-token-1", ATTEMPT, account, FCM, fetcher));
  });

  it("FCM's answer whose body never ends is a retry after 10 s, its timer gone", async () => {
    const account = newAccount();
    await expectTimesOut(new Google(account).answer, /^https:\/\/fcm\./, (fetcher) => sendFcm("fcm-token-1", ATTEMPT, account, FCM, fetcher), "body");
  });

  it("the token endpoint not answering is a retry after 10 s, its timer gone", async () => {
    const account = newAccount();
    await expectTimesOut(new Google(account).answer, /^https:\/\/oauth2\./, (fetcher) => sendFcm("fcm-token-1", ATTEMPT, account, FCM, fetcher));
  });

  it("a send that is answered leaves no timer running", async () => {
    const { send } = setup();
    await expectNoTimerLeft(() => send());
    await expectNoTimerLeft(() => send());
  });
});

describe("FCM_SERVICE_ACCOUNT", () => {
  it("that is not a service account's JSON key is a ConfigError naming what is wrong", () => {
    expect(() => parseServiceAccount("{")).toThrow(new ConfigError("FCM_SERVICE_ACCOUNT is not JSON: it must be the service account's JSON key"));
    const { project_id: _, ...noProject } = newAccount();
    expect(() => parseServiceAccount(JSON.stringify(noProject))).toThrow(/^FCM_SERVICE_ACCOUNT's project_id is missing or invalid/);
    expect(() => parseServiceAccount(JSON.stringify({ ...noProject, project_id: "p", token_uri: "nowhere" }))).toThrow(/token_uri/);
  });

  it("whose private key does not import makes the send throw a ConfigError", async () => {
    const { send } = setup(newAccount("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"));
    await expect(send()).rejects.toThrow(ConfigError);
    await expect(send()).rejects.toThrow(/^FCM_SERVICE_ACCOUNT does not hold a PKCS#8 PEM private key for RS256/);
  });
});
