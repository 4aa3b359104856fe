// How the FCM and APNs senders talk HTTP: each request bounded in time, and the answers that mean
// "try again later" read the same way.
import { fetchWithTimeout, retryAfterMs, type PushResult } from "./channel";

/** A push service answers in well under a second; one that has not in 10 s is treated as a network error. */
export const PUSH_TIMEOUT_MS = 10_000;

/**
 * The service's answer, its body read whole within the timeout (a body left unread would also hold its
 * connection open, and a Worker has only six), or, when none came (a network error or the timeout), the
 * retry that stands for it.
 */
export async function post(url: string, init: RequestInit, fetcher = fetch): Promise<Response | PushResult> {
  const readWhole = async (input: RequestInfo | URL, init?: RequestInit) => {
    const response = await fetcher(input, init);
    return new Response(response.body === null ? null : await response.arrayBuffer(), response);
  };
  try {
    return await fetchWithTimeout(url, { ...init, method: "POST" }, PUSH_TIMEOUT_MS, readWhole);
  } catch {
    return { outcome: "retry", status: null };
  }
}

/** 429 and 5xx: the service is overloaded or failing, not refusing this push. */
export const isTransient = (status: number) => status === 429 || status >= 500;

/** A retry, after the Retry-After the service asked for when it sent one. */
export function retryLater(response: Response): PushResult {
  const after = retryAfterMs(response.headers.get("Retry-After"));
  return { outcome: "retry", status: response.status, ...(after !== undefined && { retryAfterMs: after }) };
}

/** The answer's JSON, or undefined when it has none (an error answer's reason is optional reading). */
export async function jsonBody(response: Response): Promise<unknown> {
  try {
    return await response.json();
  } catch {
    return undefined;
  }
}
