// Firebase Cloud Messaging, HTTP v1: one push to one registration token.
// https://firebase.google.com/docs/reference/fcm/rest/v1/projects.messages/send
import * as v from "valibot";
import type { PushAttempt, PushResult } from "./channel";
import { accessToken, dropAccessToken, NoAccessToken, type ServiceAccount } from "./fcm-auth";
import { isTransient, jsonBody, post, retryLater } from "./http";

export { parseServiceAccount, type ServiceAccount } from "./fcm-auth";

/** FCM keeps a message for an offline device at most 4 weeks. */
export const FCM_MAX_TTL_SECONDS = 28 * 24 * 3600;

/** The FCM request body of one attempt: the payload as data (FCM's values are strings), the alert texts as a notification. */
export function fcmMessage(token: string, attempt: PushAttempt) {
  const { payload, ttlSeconds, urgency, collapseKey, title, body } = attempt;
  const hasAlert = title !== undefined || body !== undefined;
  return {
    message: {
      token,
      data: { postbox: payload },
      ...(hasAlert && { notification: { ...(title !== undefined && { title }), ...(body !== undefined && { body }) } }),
      android: {
        ttl: `${Math.min(Math.max(0, Math.floor(ttlSeconds)), FCM_MAX_TTL_SECONDS)}s`,
        // AndroidMessagePriority, as FCM v1 spells its values.
        priority: urgency === "high" ? "HIGH" : "NORMAL",
        ...(collapseKey !== undefined && { collapse_key: collapseKey }),
      },
    },
  };
}

// FCM's error answer: { error: { code, message, status, details: [{ "@type": "…FcmError", errorCode }] } }.
const FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
const fcmError = v.object({
  error: v.object({ details: v.optional(v.array(v.looseObject({ "@type": v.unknown(), errorCode: v.unknown() }))) }),
});

/** The FcmError code of an error answer (UNREGISTERED, THIRD_PARTY_AUTH_ERROR, …), if it names one. */
async function fcmErrorCode(response: Response) {
  const parsed = v.safeParse(fcmError, await jsonBody(response));
  const detail = parsed.success ? parsed.output.error.details?.find((d) => d["@type"] === FCM_ERROR_TYPE) : undefined;
  return typeof detail?.errorCode === "string" ? detail.errorCode : undefined;
}

/**
 * Sends one attempt to the device holding `token`. Never throws for what FCM or the token endpoint
 * answers (that is the result); throws a ConfigError when the account's private key does not import.
 */
export async function sendFcm(
  token: string,
  attempt: PushAttempt,
  account: ServiceAccount,
  endpoint = "https://fcm.googleapis.com",
  fetcher?: typeof fetch,
): Promise<PushResult> {
  let bearer: string;
  try {
    bearer = await accessToken(account, fetcher);
  } catch (error) {
    if (error instanceof NoAccessToken) return error.result;
    throw error;
  }
  const url = `${endpoint}/v1/projects/${encodeURIComponent(account.project_id)}/messages:send`;
  const headers = { Authorization: `Bearer ${bearer}`, "Content-Type": "application/json" };
  const response = await post(url, { headers, body: JSON.stringify(fcmMessage(token, attempt)) }, fetcher);
  if (!(response instanceof Response)) return response;
  const { status } = response;
  if (response.ok) return { outcome: "sent", status };
  if (isTransient(status)) return retryLater(response);
  const code = await fcmErrorCode(response);
  if (status === 404 || (status === 400 && code === "UNREGISTERED")) return { outcome: "dead", status };
  // 401 is our access token (revoked, or expired early): a new one may well be accepted. Except
  // THIRD_PARTY_AUTH_ERROR, also 401: the project's APNs or Web Push credentials, which no retry mends.
  if (status === 401 && code !== "THIRD_PARTY_AUTH_ERROR") {
    dropAccessToken(account, bearer);
    return { outcome: "retry", status };
  }
  return { outcome: "failed", status };
}
