// What every push channel shares: the attempt it is handed, the outcome it reports, and the two HTTP
// details each needs (a timeout on every outbound fetch, and reading Retry-After).

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

/** Retry-After as milliseconds from `now`: delta-seconds or an HTTP-date (one in the past is 0); undefined when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  const value = header?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
