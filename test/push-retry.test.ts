// The push retry policy: its bounds hold over many draws of the jitter (a seeded random), whatever
// the attempts' own durations, and Retry-After and PUSH_MAX_ATTEMPTS are honoured.
import { describe, expect, it } from "vitest";
import { PUSH_TIMEOUT_MS } from "../src/push/http";
import { nextAttemptAt, PUSH_RETRY_WINDOW_MS, type FailedAttempt } from "../src/push/retry";
import { SECOND, seededRandom } from "./helpers";

const T0 = Date.UTC(2025, 0, 1);
const MAX = 5;
const failed = (attempts: number, answeredAt: number, retryAfterMs?: number): FailedAttempt => ({
  attempts,
  firstDueAt: T0,
  answeredAt,
  ...(retryAfterMs !== undefined && { retryAfterMs }),
});

/** The start times of every attempt of one push that fails each time, each attempt taking a drawn time up to the timeout. */
function attemptStarts(random: () => number, maxAttempts: number, retryAfterMs?: () => number | undefined) {
  const starts = [T0];
  for (;;) {
    const answeredAt = starts.at(-1)! + Math.floor(random() * PUSH_TIMEOUT_MS);
    const next = nextAttemptAt({ ...failed(starts.length, answeredAt, retryAfterMs?.()) }, maxAttempts, random);
    if (next === "give up") return starts;
    expect(next).toBeGreaterThanOrEqual(answeredAt);
    starts.push(next);
  }
}

describe("the retry policy", () => {
  it("retries the first failure within 5 s of its answer, over many draws", () => {
    const random = seededRandom(1);
    for (let draw = 0; draw < 10_000; draw++) {
      const answeredAt = T0 + Math.floor(random() * PUSH_TIMEOUT_MS);
      const next = nextAttemptAt(failed(1, answeredAt), MAX, random) as number;
      expect(next - answeredAt).toBeGreaterThanOrEqual(0);
      expect(next - answeredAt).toBeLessThanOrEqual(5 * SECOND);
    }
  });

  it("starts every attempt within a minute of the first and makes at most PUSH_MAX_ATTEMPTS, over many draws and settings", () => {
    const random = seededRandom(2);
    for (const maxAttempts of [1, 2, 5, 10, 30]) {
      for (let draw = 0; draw < 2_000; draw++) {
        const starts = attemptStarts(random, maxAttempts);
        expect(starts.length).toBeLessThanOrEqual(maxAttempts);
        expect(starts.at(-1)! - T0).toBeLessThanOrEqual(PUSH_RETRY_WINDOW_MS);
      }
    }
  });

  it("backs off exponentially, jittered within each delay's upper half", () => {
    const delays = (random: () => number) => [1, 2, 3, 4].map((n) => (nextAttemptAt(failed(n, T0), 10, random) as number) - T0);
    expect(delays(() => 0)).toEqual([500, 1000, 2000, 4000]);
    expect(delays(() => 0.999_999)).toEqual([999, 1999, 3999, 7999]);
    const random = seededRandom(3);
    for (let draw = 0; draw < 1_000; draw++) {
      delays(random).forEach((delay, i) => {
        expect(delay).toBeGreaterThanOrEqual(500 * 2 ** i);
        expect(delay).toBeLessThan(1000 * 2 ** i);
      });
    }
  });

  it("gives up after PUSH_MAX_ATTEMPTS attempts in all, the first included", () => {
    expect(nextAttemptAt(failed(4, T0), 5)).toEqual(expect.any(Number));
    expect(nextAttemptAt(failed(5, T0), 5)).toBe("give up");
    expect(nextAttemptAt(failed(1, T0), 1)).toBe("give up");
  });

  it("gives up when the failed answer came after the minute, and never schedules past it", () => {
    expect(nextAttemptAt(failed(2, T0 + PUSH_RETRY_WINDOW_MS), MAX)).toBe("give up");
    expect(nextAttemptAt(failed(4, T0 + PUSH_RETRY_WINDOW_MS - 1), MAX, () => 0.9)).toBe(T0 + PUSH_RETRY_WINDOW_MS);
  });

  it("honours Retry-After: never sooner, past the minute when it asks for longer, over many draws", () => {
    const random = seededRandom(4);
    for (let draw = 0; draw < 10_000; draw++) {
      const attempts = 1 + Math.floor(random() * (MAX - 1));
      const answeredAt = T0 + Math.floor(random() * 2 * PUSH_RETRY_WINDOW_MS);
      const retryAfterMs = Math.floor(random() * 3 * PUSH_RETRY_WINDOW_MS);
      const next = nextAttemptAt(failed(attempts, answeredAt, retryAfterMs), MAX, random) as number;
      expect(next).toBeGreaterThanOrEqual(answeredAt + retryAfterMs);
      // Later than Retry-After asks only for the backoff, and then within the minute.
      if (next > answeredAt + retryAfterMs) expect(next).toBeLessThanOrEqual(T0 + PUSH_RETRY_WINDOW_MS);
    }
    expect(nextAttemptAt(failed(1, T0 + 5 * SECOND, 120 * SECOND), MAX)).toBe(T0 + 125 * SECOND);
    expect(nextAttemptAt(failed(MAX, T0, 1 * SECOND), MAX)).toBe("give up");
  });
});
