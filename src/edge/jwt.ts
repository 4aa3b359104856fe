// HS256 verification with WebCrypto. Written out rather than delegated so that
// the one rule that matters is plain to see: the header must say HS256, and
// nothing else (`none` included) is ever accepted.
import { BoundedMap } from "../shared/bounded-map";

const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string) {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "verify",
    ]);
    keys.set(secret, key);
  }
  return key;
}

function base64UrlDecode(part: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(part)) return null;
  const base64 = part.replaceAll("-", "+").replaceAll("_", "/");
  try {
    return Uint8Array.from(atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, "=")), (ch) => ch.charCodeAt(0));
  } catch {
    return null;
  }
}

function decodeJson(part: string): Record<string, unknown> | null {
  const bytes = base64UrlDecode(part);
  if (!bytes) return null;
  try {
    const value: unknown = JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * Tokens whose signature already verified, with their claims: a client polls
 * with the same token many times, and the HMAC is most of a request's own cost.
 * The time claims are still checked on every use.
 */
const verified = new BoundedMap<string, { secret: string; claims: Record<string, unknown> }>(10_000);

/** The token's claims if it is a well-formed, correctly signed, unexpired HS256 JWT; otherwise a reason. */
export async function verifyHs256(token: string, secret: string, nowSeconds = Date.now() / 1000) {
  const known = verifyKnownHs256(token, secret, nowSeconds);
  if (known) return known;
  const signed = await verifySignature(token, secret);
  if ("error" in signed) return signed;
  verified.set(token, { secret, claims: signed.claims });
  return checkTimes(signed.claims, nowSeconds);
}

/**
 * verifyHs256 for a token whose signature this isolate has verified before,
 * without waiting for anything; undefined for any other token. Each use of a
 * token gets the same claims object back.
 */
export function verifyKnownHs256(token: string, secret: string, nowSeconds = Date.now() / 1000) {
  const known = verified.get(token);
  return known?.secret === secret ? checkTimes(known.claims, nowSeconds) : undefined;
}

function checkTimes(claims: Record<string, unknown>, nowSeconds: number) {
  if (typeof claims.exp !== "number") return { error: "the token has no exp claim" } as const;
  if (claims.exp <= nowSeconds) return { error: "the token has expired" } as const;
  if (typeof claims.nbf === "number" && claims.nbf > nowSeconds) return { error: "the token is not valid yet" } as const;
  return { claims } as const;
}

async function verifySignature(token: string, secret: string) {
  const parts = token.split(".");
  if (parts.length !== 3) return { error: "the token is not a JWT" } as const;
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (header?.alg !== "HS256") return { error: "only HS256 tokens are accepted" } as const;
  const signature = base64UrlDecode(signaturePart);
  const signed = new TextEncoder().encode(`${headerPart}.${payloadPart}`);
  if (!signature || !(await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, signed))) {
    return { error: "the token's signature does not verify" } as const;
  }
  const claims = decodeJson(payloadPart);
  if (!claims) return { error: "the token's payload is not a JSON object" } as const;
  return { claims } as const;
}
