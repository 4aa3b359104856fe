// VAPID (RFC 8292): the ES256 token that tells a push service who is sending. A token is valid for
// 12 hours (push services refuse more than 24) and is reused per audience until an hour before it
// expires, so a burst of pushes to one push service signs once.
import { BoundedMap } from "../shared/bounded-map";
import { toBase64url, fromBase64url } from "./base64url";

/** VAPID_PUBLIC_KEY (base64url of the 65-byte point), VAPID_PRIVATE_KEY (base64url of the 32-byte `d`), VAPID_SUBJECT. */
export interface VapidKeys {
  publicKey: string;
  privateKey: string;
  subject: string;
}

const TOKEN_LIFETIME_SECONDS = 12 * 3600;
const RENEW_SECONDS_BEFORE_EXPIRY = 3600;

/** Push services are few; a key is the audience and the configuration that signed for it. */
const tokens = new BoundedMap<string, { authorization: string; exp: number }>(100);

/** The Authorization header for a push to `audience` (the endpoint's origin). */
export async function vapidAuthorization(audience: string, vapid: VapidKeys, now = Date.now()): Promise<string> {
  const cacheKey = JSON.stringify([audience, vapid.publicKey, vapid.privateKey, vapid.subject]);
  const nowSeconds = Math.floor(now / 1000);
  const cached = tokens.get(cacheKey);
  if (cached && cached.exp - nowSeconds > RENEW_SECONDS_BEFORE_EXPIRY) return cached.authorization;

  const exp = nowSeconds + TOKEN_LIFETIME_SECONDS;
  const token = await signEs256({ aud: audience, exp, sub: vapid.subject }, vapid);
  const authorization = `vapid t=${token}, k=${vapid.publicKey}`;
  tokens.set(cacheKey, { authorization, exp });
  return authorization;
}

async function signEs256(claims: Record<string, unknown>, vapid: VapidKeys) {
  const point = fromBase64url(vapid.publicKey);
  if (point?.length !== 65 || point[0] !== 0x04) throw new TypeError("VAPID_PUBLIC_KEY is not base64url of a 65-byte uncompressed P-256 point");
  const jwk = { kty: "EC", crv: "P-256", x: toBase64url(point.subarray(1, 33)), y: toBase64url(point.subarray(33)), d: vapid.privateKey };
  const key = await crypto.subtle.importKey("jwk", jwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
  const json = (value: unknown) => toBase64url(new TextEncoder().encode(JSON.stringify(value)));
  const signingInput = `${json({ typ: "JWT", alg: "ES256" })}.${json(claims)}`;
  // WebCrypto's ECDSA signature is r‖s, 64 bytes: already the JWS form (RFC 7518 §3.4).
  const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, key, new TextEncoder().encode(signingInput));
  return `${signingInput}.${toBase64url(signature)}`;
}
