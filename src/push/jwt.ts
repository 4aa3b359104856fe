// The JWTs postbox signs for push services with their private keys: the RS256 grant of an FCM service
// account and the ES256 provider token of APNs. Each is signed once per token lifetime (tens of minutes),
// so the key is imported at each signing rather than kept.
import { ConfigError } from "../config";
import { toBase64url } from "./base64url";

const algorithms = {
  RS256: { key: { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, sign: { name: "RSASSA-PKCS1-v1_5" } },
  // WebCrypto's ECDSA signature is r ‖ s, 64 bytes: exactly JWS's encoding of ES256 (RFC 7518, 3.4).
  ES256: { key: { name: "ECDSA", namedCurve: "P-256" }, sign: { name: "ECDSA", hash: "SHA-256" } },
} as const;

export type JwtAlgorithm = keyof typeof algorithms;

const encoder = new TextEncoder();

const encodePart = (part: object) => toBase64url(encoder.encode(JSON.stringify(part)));

/**
 * A PKCS#8 PEM private key ("-----BEGIN PRIVATE KEY-----"), for `alg`. A key that does not import is
 * a deployment mistake, named by `secret`: it throws a ConfigError rather than failing each push quietly.
 */
async function importKey(pem: string, alg: JwtAlgorithm, secret: string) {
  const match = pem.match(/-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\s]+)-----END PRIVATE KEY-----/);
  try {
    if (!match) throw new Error("no PKCS#8 PEM block");
    const der = Uint8Array.from(atob(match[1]!.replace(/\s+/g, "")), (c) => c.charCodeAt(0));
    return await crypto.subtle.importKey("pkcs8", der, algorithms[alg].key, false, ["sign"]);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${secret} does not hold a PKCS#8 PEM private key for ${alg}: ${reason}`);
  }
}

/** A compact JWS of `claims`, with `alg`, `typ: "JWT"` and any `header` fields (such as `kid`). */
export async function signJwt(
  alg: JwtAlgorithm,
  pem: string,
  secret: string,
  claims: object,
  header: Record<string, string> = {},
): Promise<string> {
  const key = await importKey(pem, alg, secret);
  const signingInput = `${encodePart({ alg, typ: "JWT", ...header })}.${encodePart(claims)}`;
  const signature = await crypto.subtle.sign(algorithms[alg].sign, key, encoder.encode(signingInput));
  return `${signingInput}.${toBase64url(signature)}`;
}
