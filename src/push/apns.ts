// Apple Push Notification service: one push to one device token, with token-based (.p8 key) auth.
// https://developer.apple.com/documentation/usernotifications/sending-notification-requests-to-apns
//
// APNs speaks HTTP/2 only. A Worker's fetch negotiates HTTP/2 over TLS with it (ALPN) by itself; the
// local runtimes the tests run in cannot, so the tests answer through an HTTP/1.1 stand-in passed as
// `fetcher` instead, which checks what APNs checks.
import type { PushAttempt, PushResult } from "./channel";
import { isTransient, jsonBody, post, retryLater } from "./http";
import { signJwt } from "./jwt";
import { TokenCache } from "./token-cache";

export interface ApnsConfig {
  /** The provider key, the .p8 file's PEM (PKCS#8, P-256): APNS_KEY. */
  key: string;
  keyId: string;
  teamId: string;
  /** The app's bundle id. */
  topic: string;
  /** https://api.push.apple.com, or https://api.sandbox.push.apple.com for development builds. */
  endpoint?: string;
}

/**
 * Apple refuses a provider token older than an hour, and one renewed more often than every 20 minutes
 * (TooManyProviderTokenUpdates): renewed at 40, well inside both.
 */
const PROVIDER_TOKEN_RENEW_MS = 40 * 60_000;

const providerTokens = new TokenCache();
const cacheKey = (config: ApnsConfig) => [config.teamId, config.keyId, config.key].join("\n");

function providerToken(config: ApnsConfig) {
  return providerTokens.get(cacheKey(config), async () => {
    const issuedAt = Date.now();
    const claims = { iss: config.teamId, iat: Math.floor(issuedAt / 1000) };
    const token = await signJwt("ES256", config.key, "APNS_KEY", claims, { kid: config.keyId });
    return { token, renewAt: issuedAt + PROVIDER_TOKEN_RENEW_MS };
  });
}

/** The alert shows what the message has (a retract push has neither text). */
export function apnsBody({ payload, title, body }: PushAttempt) {
  const alert = { ...(title !== undefined && { title }), ...(body !== undefined && { body }) };
  const aps = Object.keys(alert).length > 0 ? { alert } : {};
  // The payload is spliced in as the caller's text, not re-serialized: its numbers stay exactly as they are.
  return `{"aps":${JSON.stringify(aps)},"postbox":${payload}}`;
}

/** APNs' reasons that mean our provider token, not the push, was refused: a new token may be accepted. */
const providerTokenRefusals = new Set(["ExpiredProviderToken", "InvalidProviderToken"]);

/**
 * Sends one attempt to the device with `deviceToken` (hex). Never throws for what APNs answers (that is
 * the result); throws a ConfigError when the key does not import.
 */
export async function sendApns(
  deviceToken: string,
  attempt: PushAttempt,
  config: ApnsConfig,
  fetcher?: typeof fetch,
): Promise<PushResult> {
  const { endpoint = "https://api.push.apple.com", topic } = config;
  const bearer = await providerToken(config);
  const headers: Record<string, string> = {
    Authorization: `bearer ${bearer}`,
    "Content-Type": "application/json",
    "apns-topic": topic,
    "apns-push-type": "alert",
    "apns-expiration": String(Math.floor(Date.now() / 1000) + Math.max(0, Math.floor(attempt.ttlSeconds))),
    "apns-priority": attempt.urgency === "high" ? "10" : "5",
    // The contract's collapseKey (at most 64 ASCII characters) is within APNs' 64 bytes.
    ...(attempt.collapseKey !== undefined && { "apns-collapse-id": attempt.collapseKey }),
  };
  const url = `${endpoint}/3/device/${encodeURIComponent(deviceToken)}`;
  const response = await post(url, { headers, body: apnsBody(attempt) }, fetcher);
  if (!(response instanceof Response)) return response;
  const { status } = response;
  if (response.ok) return { outcome: "sent", status };
  if (isTransient(status)) return retryLater(response);
  const answer = await jsonBody(response);
  const reason = typeof answer === "object" && answer !== null && "reason" in answer ? answer.reason : undefined;
  if (status === 410 || (status === 400 && reason === "BadDeviceToken")) return { outcome: "dead", status };
  if (status === 403 && typeof reason === "string" && providerTokenRefusals.has(reason)) {
    providerTokens.drop(cacheKey(config), bearer);
    return { outcome: "retry", status };
  }
  return { outcome: "failed", status };
}
