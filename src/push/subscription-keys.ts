// A Web Push subscription's keys (RFC 8291 §3.2), checked once for both of their uses: the
// registration route answers 400 with these errors, and the sender encrypts to the imported key.
import type { FieldError } from "../shared/responses";
import { fromBase64url } from "./base64url";

/** The `keys` of a browser's PushSubscription.toJSON(). */
export interface WebPushKeys {
  p256dh: string;
  auth: string;
}

/** The keys as the encryption uses them: the user agent's ECDH public key, its raw point, and the auth secret. */
export interface SubscriptionKeys {
  publicKey: CryptoKey;
  publicKeyBytes: Uint8Array;
  authSecret: Uint8Array;
}

const POINT_BYTES = 65;
const AUTH_BYTES = 16;

/**
 * p256dh must be base64url of a 65-byte uncompressed P-256 point (importKey checks the 0x04 prefix and
 * that it is on the curve, but would also take a 33-byte compressed point, which RFC 8291 does not
 * allow), auth of 16 bytes. The errors' paths are relative to the subscription object.
 */
export async function importSubscriptionKeys(keys: WebPushKeys): Promise<{ keys: SubscriptionKeys } | { errors: FieldError[] }> {
  const point = await importPoint(keys.p256dh);
  const authSecret = fromBase64url(keys.auth);
  if (point && authSecret?.length === AUTH_BYTES) return { keys: { ...point, authSecret } };
  const errors: FieldError[] = [];
  if (!point) {
    errors.push({ path: "keys.p256dh", message: `must be base64url of a ${POINT_BYTES}-byte uncompressed P-256 point (0x04 prefix) on the curve` });
  }
  if (authSecret?.length !== AUTH_BYTES) errors.push({ path: "keys.auth", message: `must be base64url of ${AUTH_BYTES} bytes` });
  return { errors };
}

async function importPoint(text: string) {
  const publicKeyBytes = fromBase64url(text);
  if (publicKeyBytes?.length !== POINT_BYTES) return null;
  try {
    const publicKey = await crypto.subtle.importKey("raw", publicKeyBytes, { name: "ECDH", namedCurve: "P-256" }, false, []);
    return { publicKey, publicKeyBytes };
  } catch {
    return null; // not a point, or not on the curve
  }
}
