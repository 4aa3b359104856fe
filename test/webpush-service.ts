// A stand-in Web Push service (RFC 8030) for tests, built only on independent implementations:
// subscriptions are made as a browser makes them (WebCrypto), and its `fetch` checks a push as a real
// push service does — the VAPID token and key (jose), the headers, the size — and decrypts it as the
// browser would (http_ece), answering with the real statuses. What it took and what it refused, and
// why, are kept for the tests to read.
import { base64url, jwtVerify, type JWTPayload } from "jose";
import type { VapidKeys } from "../src/push/webpush";
import type { WebPushSubscription } from "../src/shared/push-registration";
import { decryptAsUserAgent } from "./http-ece-reference.mjs";

export const PUSH_ORIGIN = "https://push.stand-in.test";
const MAX_BODY_BYTES = 4096;
const DAY_SECONDS = 86_400;

/** A VAPID key pair as the secrets hold it, made with WebCrypto. */
export async function newVapid(subject = "mailto:ops@postbox.test"): Promise<VapidKeys> {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign"])) as CryptoKeyPair;
  const point = (await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer;
  const { d } = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  return { publicKey: base64url.encode(new Uint8Array(point)), privateKey: d!, subject };
}

/** What a browser keeps of its subscription: the private half of p256dh, the auth secret, the server key it subscribed with. */
export interface UserAgent {
  privateKey: Uint8Array;
  authSecret: Uint8Array;
  applicationServerKey: string;
}

/** A push the service took: its decrypted payload and everything it arrived with. */
export interface Delivery {
  endpoint: string;
  payload: string;
  body: Uint8Array;
  headers: Headers;
  claims: JWTPayload;
  k: string;
  redirect: string;
}

class Refused extends Error {
  constructor(readonly status: number, reason: string) {
    super(reason);
  }
}

export class StandInPushService {
  readonly deliveries: Delivery[] = [];
  readonly refusals: { status: number; reason: string }[] = [];
  /** Answers for the next pushes that pass every check, in place of 201 (429, 503, a redirect …). */
  readonly scripted: Response[] = [];
  readonly userAgents = new Map<string, UserAgent>();
  private readonly gone = new Set<string>();
  private nextId = 1;

  /** PushManager.subscribe({ applicationServerKey }): a new P-256 key pair and 16-byte auth secret. */
  async subscribe(applicationServerKey: string, origin = PUSH_ORIGIN): Promise<WebPushSubscription> {
    const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
    const point = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
    const { d } = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
    const authSecret = crypto.getRandomValues(new Uint8Array(16));
    const endpoint = `${origin}/wpush/v2/${this.nextId++}`;
    this.userAgents.set(endpoint, { privateKey: base64url.decode(d!), authSecret, applicationServerKey });
    return { endpoint, keys: { p256dh: base64url.encode(point), auth: base64url.encode(authSecret) } };
  }

  /** The browser dropped the subscription: its endpoint answers 410 from now on. */
  unsubscribe(endpoint: string) {
    this.userAgents.delete(endpoint);
    this.gone.add(endpoint);
  }

  readonly fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    try {
      const delivery = await this.check(request);
      this.deliveries.push(delivery);
      return this.scripted.shift() ?? new Response(null, { status: 201, headers: { Location: `${delivery.endpoint}/m/${this.deliveries.length}` } });
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      this.refusals.push({ status: error.status, reason: error.message });
      return new Response(error.message, { status: error.status });
    }
  };

  private async check(request: Request): Promise<Delivery> {
    const endpoint = request.url;
    if (request.method !== "POST") throw new Refused(405, `${request.method}, not POST`);
    if (this.gone.has(endpoint)) throw new Refused(410, "the subscription is gone");
    const userAgent = this.userAgents.get(endpoint);
    if (!userAgent) throw new Refused(404, "no such subscription");

    const vapid = request.headers.get("Authorization")?.match(/^vapid t=([^,\s]+),\s*k=([A-Za-z0-9_-]+)$/);
    if (!vapid) throw new Refused(401, "no VAPID Authorization");
    const [, token, k] = vapid as [string, string, string];
    if (k !== userAgent.applicationServerKey) throw new Refused(403, "k is not the key the subscription was made with");
    const claims = await verifyToken(token, k, new URL(endpoint).origin);

    const headers = request.headers;
    if (!/^\d+$/.test(headers.get("TTL") ?? "")) throw new Refused(400, "TTL is missing or not delta-seconds");
    const urgency = headers.get("Urgency");
    if (urgency !== null && !["very-low", "low", "normal", "high"].includes(urgency)) throw new Refused(400, `Urgency ${urgency}`);
    const topic = headers.get("Topic");
    if (topic !== null && !/^[A-Za-z0-9_-]{1,32}$/.test(topic)) throw new Refused(400, `Topic ${topic}`);
    if (headers.get("Content-Encoding") !== "aes128gcm") throw new Refused(415, "Content-Encoding is not aes128gcm");
    if (headers.get("Content-Type") !== "application/octet-stream") throw new Refused(400, "Content-Type is not application/octet-stream");

    const body = new Uint8Array(await request.arrayBuffer());
    if (body.length > MAX_BODY_BYTES) throw new Refused(413, `a body of ${body.length} bytes`);
    let payload: string;
    try {
      payload = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(decryptAsUserAgent(body, userAgent));
    } catch (error) {
      // A real push service cannot tell; the browser would drop the message. Refused here so that tests see it.
      throw new Refused(400, `the body does not decrypt: ${error}`);
    }
    return { endpoint, payload, body, headers, claims, k, redirect: request.redirect };
  }
}

async function verifyToken(token: string, k: string, audience: string) {
  const key = await crypto.subtle.importKey("raw", base64url.decode(k), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  let claims: JWTPayload;
  try {
    ({ payload: claims } = await jwtVerify(token, key, { algorithms: ["ES256"], audience, requiredClaims: ["exp", "sub"] }));
  } catch (error) {
    throw new Refused(401, `the VAPID token: ${error}`);
  }
  if (claims.exp! > Date.now() / 1000 + DAY_SECONDS) throw new Refused(401, "the VAPID token expires more than 24 h ahead");
  if (!/^(mailto:|https:)/.test(String(claims.sub))) throw new Refused(401, `the VAPID sub ${claims.sub}`);
  return claims;
}
