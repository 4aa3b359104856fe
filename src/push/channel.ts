// What the three push channels (Web Push, FCM, APNs) share: one attempt's input, the push service's
// answer as the dispatch needs it, and the outbound fetch every channel makes.

export type PushChannel = "webpush" | "fcm" | "apns";

/** What one attempt sends: the payload JSON text (≤ 4096 bytes, the caller ensures it), its lifetime, urgency, collapse topic, and the alert texts. */
export interface PushAttempt {
  payload: string;
  ttlSeconds: number;
  urgency: "normal" | "high";
  collapseKey?: string;
  title?: string;
  body?: string;
}

/** How the push service answered: accepted, worth retrying (network error, 429, 5xx; with Retry-After in ms if sent), the registration is dead, or refused for good. */
export type PushResult =
  | { outcome: "sent"; status: number }
  | { outcome: "retry"; status: number | null; retryAfterMs?: number }
  | { outcome: "dead"; status: number }
  | { outcome: "failed"; status: number };

/** Every outbound fetch has a timeout whose timer is cleared (an uncleared AbortSignal.timeout keeps a Durable Object awake). */
export async function fetchWithTimeout(url: string, init: RequestInit, ms: number, fetcher = fetch): Promise<Response> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DOMException(`no answer within ${ms} ms`, "TimeoutError")), ms);
  try {
    return await fetcher(url, { ...init, signal: controller.signal });
  } finally {
    clearTimeout(timer);
  }
}

/** A Retry-After header (delay-seconds or an HTTP-date) as milliseconds from `now`; undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Each HTTP-date format starts with the day's name; Date.parse alone would also take "-5" or "1.5".
  const date = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)/.test(value) ? Date.parse(value) : NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
