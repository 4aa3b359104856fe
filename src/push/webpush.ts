// The Web Push channel: one attempt to deliver a payload to a browser's push subscription, through
// its push service (RFC 8030), encrypted to the subscription (RFC 8291), signed with VAPID (RFC 8292).
//
// Written on WebCrypto here rather than with a library, after reading the two that run on Workers:
// - @pushforge/builder (2.0.5) encrypts with the obsolete `aesgcm` draft, not `aes128gcm`; throws for a
//   TTL over 24 hours (the contract sends the time left, uncapped) and ties the token's exp to the TTL;
//   refuses `http:` endpoints.
// - @block65/webcrypto-web-push (2.0.0) is `aes128gcm`, but refuses `http:` endpoints too (the contract
//   allows any origin WEBPUSH_ORIGINS lists), turns a TTL of 0 into 60, signs a new token for every
//   message, and pads every body to 4096 bytes.
// What postbox needs is four short modules over WebCrypto (aes128gcm, vapid, subscription-keys,
// base64url) with no dependency, and nothing to work around; test/push-webpush.test.ts checks them
// against independent implementations (http_ece decrypts, jose verifies the token).
import { fetchWithTimeout, retryAfterMs, type PushAttempt, type PushResult } from "./channel";
import { encryptForSubscription } from "./aes128gcm";
import { toBase64url } from "./base64url";
import type { WebPushSubscription } from "../shared/push-registration";
import { importSubscriptionKeys } from "./subscription-keys";
import { vapidAuthorization, type VapidKeys } from "./vapid";

export { MAX_PAYLOAD_BYTES as WEBPUSH_MAX_PAYLOAD_BYTES } from "./aes128gcm";
export type { VapidKeys };

/** What a browser's PushSubscription.toJSON() holds and postbox keeps. */
/** Well inside the minute the contract gives all attempts of a push. */
const TIMEOUT_MS = 10_000;

/**
 * Throws only for what the caller ensures: keys that registration checked, a payload within
 * WEBPUSH_MAX_PAYLOAD_BYTES, VAPID keys that configuration checked.
 */
export async function sendWebPush(
  subscription: WebPushSubscription,
  attempt: PushAttempt,
  vapid: VapidKeys,
  fetcher = fetch,
): Promise<PushResult> {
  const imported = await importSubscriptionKeys(subscription.keys);
  if ("errors" in imported) throw new TypeError(`invalid Web Push subscription: ${imported.errors.map((e) => `${e.path} ${e.message}`).join("; ")}`);
  const body = await encryptForSubscription(new TextEncoder().encode(attempt.payload), imported.keys);
  const headers: Record<string, string> = {
    Authorization: await vapidAuthorization(new URL(subscription.endpoint).origin, vapid),
    "Content-Encoding": "aes128gcm",
    "Content-Type": "application/octet-stream",
    // delta-seconds: a whole number, and never longer than the time left.
    TTL: String(Math.max(0, Math.floor(attempt.ttlSeconds))),
    Urgency: attempt.urgency,
  };
  if (attempt.collapseKey !== undefined) headers.Topic = await topicOf(attempt.collapseKey);

  let response: Response;
  try {
    // A redirect is refused, not followed: postbox posts only to the origins WEBPUSH_ORIGINS allows.
    const init = { method: "POST", headers, body, redirect: "manual" } as const;
    response = await fetchWithTimeout(subscription.endpoint, init, TIMEOUT_MS, fetcher);
  } catch {
    return { outcome: "retry", status: null }; // a network error or no answer in time
  }
  // Nothing in the body is needed, and an unread one holds one of the Worker's few open connections.
  await response.body?.cancel().catch(() => {});
  return resultOf(response);
}

function resultOf({ status, headers }: Response): PushResult {
  if (status >= 200 && status < 300) return { outcome: "sent", status };
  if (status === 404 || status === 410) return { outcome: "dead", status };
  if (status === 429 || status >= 500) {
    const after = retryAfterMs(headers.get("Retry-After"));
    return after === undefined ? { outcome: "retry", status } : { outcome: "retry", status, retryAfterMs: after };
  }
  return { outcome: "failed", status };
}

/**
 * A Topic is at most 32 characters of the URL-safe base64 alphabet (RFC 8030 §5.4); a collapseKey may be
 * 64 characters and hold . and :, so such a key is sent as the first 32 characters of its SHA-256 in base64url.
 */
async function topicOf(collapseKey: string) {
  if (/^[A-Za-z0-9_-]{1,32}$/.test(collapseKey)) return collapseKey;
  return toBase64url(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(collapseKey))).slice(0, 32);
}
