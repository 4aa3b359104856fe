// When a push that failed for now (a network error, 429, 5xx) is tried again. The contract: the first
// retry within 5 s of the failed attempt's answer, every attempt within a minute unless a Retry-After
// asks for longer, Retry-After honoured, exponential backoff, at most PUSH_MAX_ATTEMPTS attempts in all.

/** The delay after the first failed attempt; each further one doubles it. */
export const FIRST_RETRY_DELAY_MS = 1_000;
/** Every attempt starts within this long of the first's due time (unless a Retry-After asks for longer). */
export const PUSH_RETRY_WINDOW_MS = 60_000;

export interface FailedAttempt {
  /** Attempts made, the failed one included (the first attempt is 1). */
  attempts: number;
  /** When the first attempt was due: the minute of retries is counted from it. */
  firstDueAt: number;
  /** When the failed attempt's answer came (or its timeout). */
  answeredAt: number;
  /** The push service's Retry-After, in ms from the answer. */
  retryAfterMs?: number;
}

/**
 * The time the next attempt is due, or "give up". The backoff is jittered within its upper half
 * (retries of pushes that failed together do not come back together), which only shortens it, so
 * the bounds hold for every draw of `random` (a number in [0, 1)).
 */
export function nextAttemptAt(failed: FailedAttempt, maxAttempts: number, random: () => number = Math.random): number | "give up" {
  const { attempts, firstDueAt, answeredAt, retryAfterMs } = failed;
  if (attempts >= maxAttempts) return "give up";
  const backoff = FIRST_RETRY_DELAY_MS * 2 ** (attempts - 1);
  const jittered = answeredAt + Math.floor(backoff / 2 + (random() * backoff) / 2);
  const windowEnd = firstDueAt + PUSH_RETRY_WINDOW_MS;
  const backedOff = Math.min(jittered, windowEnd);
  // A Retry-After may take the retry past the minute, never closer than it asks.
  if (retryAfterMs !== undefined) return Math.max(backedOff, answeredAt + retryAfterMs);
  return answeredAt >= windowEnd ? "give up" : backedOff;
}
