import type { PushChannel } from "../push/channel";
export type ArrivalRoute = "push" | "live" | "poll";
export type Outcome = ArrivalRoute | "read" | "retracted" | "expired" | "evicted" | "forgotten" | "pending";
export type PushCount = "sent" | "failed" | "retried" | "removed";
/** An outcome and when it happened (ms; null while pending). */
export type OutcomeAt = { outcome: Outcome; at: number | null };
export interface StatsRecorder {
  /** A personal message published (delivered, for a scheduled one) at `publishedAt` (ms since epoch). */
  message(publishedAt: number): void;
  /** A (message, device) pair's outcome changed: `from` null is a new pair. Arrivals carry their latency (at − publishedAt). */
  pair(publishedAt: number, from: OutcomeAt | null, to: OutcomeAt): void;
  /** A push counter of a message published at `publishedAt`. */
  push(publishedAt: number, channel: PushChannel, count: PushCount): void;
  /** `n` announcement ids assigned at `publishedAt`. */
  announcements(publishedAt: number, n: number): void;
}
