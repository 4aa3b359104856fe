// A Web Push service (RFC 8030), as the browsers' push services behave: it hands out subscriptions as a
// browser's PushManager makes them (a P-256 key pair and an auth secret, kept here as the browser keeps
// them), checks a push's VAPID token (RFC 8292, with jose) and headers, and decrypts its aes128gcm body
// (RFC 8291, with Mozilla's http_ece) as the browser would. Errors in autopush's JSON shape.
import { createECDH, randomBytes, randomUUID } from "node:crypto";
import ece from "http_ece";
import { importJWK, jwtVerify } from "jose";
import { CLOCK_SKEW_SECONDS, jsonAnswer, nowSeconds, Refusal } from "./targets.mjs";

const MAX_BODY_BYTES = 4096;
const DAY_SECONDS = 86_400;
/** Push services keep a message at most this long (autopush: 60 days), and say so in the answer's TTL. */
const MAX_TTL_SECONDS = 60 * DAY_SECONDS;

const STATUS_TEXT = { 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 410: "Gone", 413: "Payload Too Large", 415: "Unsupported Media Type", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable" };

/** autopush's error body: { code, errno, error, message }. */
export function webPushError(status, message, { errno = 999, retryAfter } = {}) {
  const headers = retryAfter === undefined ? {} : { "retry-after": retryAfter };
  return jsonAnswer(status, { code: status, errno, error: STATUS_TEXT[status] ?? "Error", message }, headers);
}

export class WebPushService {
  name = "webpush";
  /** @type {Map<string, { userAgent: import("node:crypto").ECDH, authSecret: Buffer, applicationServerKey: string }>} by endpoint */
  #subscriptions = new Map();

  /** @param {string} origin */
  constructor(origin) {
    this.origin = origin;
  }

  /** PushManager.subscribe({ applicationServerKey }) and then PushSubscription.toJSON(). */
  subscribe(applicationServerKey) {
    const userAgent = createECDH("prime256v1");
    userAgent.generateKeys();
    const authSecret = randomBytes(16);
    const endpoint = `${this.origin}/wpush/${randomUUID()}`;
    this.#subscriptions.set(endpoint, { userAgent, authSecret, applicationServerKey });
    const keys = { p256dh: userAgent.getPublicKey().toString("base64url"), auth: authSecret.toString("base64url") };
    return { endpoint, expirationTime: null, keys };
  }

  matches = (path) => path.startsWith("/wpush/");

  /** Checks a push: its target, what the test may read of it, and the answer that accepts it; or throws a Refusal. */
  async check({ method, path, headers, body }) {
    const endpoint = `${this.origin}${path}`;
    const refuse = (status, message, errno) => new Refusal(endpoint, webPushError(status, message, { errno }), message);
    if (method !== "POST") throw refuse(405, `${method}, not POST`);
    const subscription = this.#subscriptions.get(endpoint);
    if (!subscription) throw refuse(404, "no such subscription", 102);

    const vapid = await checkVapid(headers.authorization, subscription.applicationServerKey, this.origin, refuse);
    if (!/^\d+$/.test(headers.ttl ?? "")) throw refuse(400, "TTL is missing or not delta-seconds", 112);
    const urgency = headers.urgency;
    if (urgency !== undefined && !["very-low", "low", "normal", "high"].includes(urgency)) throw refuse(400, `Urgency ${urgency}`);
    const topic = headers.topic;
    if (topic !== undefined && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) throw refuse(400, `Topic ${topic}`, 113);
    if (headers["content-encoding"] !== "aes128gcm") throw refuse(415, "Content-Encoding is not aes128gcm", 110);
    if (body.length > MAX_BODY_BYTES) throw refuse(413, `a body of ${body.length} bytes`, 104);
    let text;
    try {
      const { userAgent: privateKey, authSecret } = subscription;
      text = new TextDecoder("utf-8", { fatal: true }).decode(ece.decrypt(body, { version: "aes128gcm", privateKey, authSecret }));
    } catch (error) {
      // A real push service cannot tell; the browser would drop the message. Refused here so that tests see it.
      throw refuse(400, `the body does not decrypt: ${error}`);
    }
    const ttl = String(Math.min(Number(headers.ttl), MAX_TTL_SECONDS));
    const accepted = { status: 201, headers: { location: `${endpoint}/m/${randomUUID()}`, ttl } };
    return { target: endpoint, record: { payload: JSON.parse(text), bodyBytes: body.length, vapid }, accepted };
  }

  error(status, { retryAfter }) {
    return webPushError(status, `stand-in fault: ${status}`, { retryAfter });
  }
}

/** The VAPID Authorization header: `vapid t=<ES256 JWT>, k=<the key the subscription was made with>`. */
async function checkVapid(authorization, applicationServerKey, audience, refuse) {
  const match = authorization?.match(/^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/);
  if (!match) throw refuse(401, "no VAPID Authorization", 109);
  const [, token, k] = match;
  if (k !== applicationServerKey) throw refuse(403, "k is not the key the subscription was made with", 109);
  const point = Buffer.from(k, "base64url");
  const key = await importJWK(
    { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") },
    "ES256",
  );
  let claims;
  try {
    ({ payload: claims } = await jwtVerify(token, key, {
      algorithms: ["ES256"],
      audience,
      requiredClaims: ["exp", "sub"],
      clockTolerance: CLOCK_SKEW_SECONDS,
    }));
  } catch (error) {
    throw refuse(401, `the VAPID token: ${error}`, 109);
  }
  if (claims.exp > nowSeconds() + DAY_SECONDS + CLOCK_SKEW_SECONDS) throw refuse(401, "the VAPID token expires more than 24 h ahead", 109);
  if (!/^(mailto:|https:)/.test(String(claims.sub))) throw refuse(401, `the VAPID sub ${claims.sub}`, 109);
  return { claims, k };
}
