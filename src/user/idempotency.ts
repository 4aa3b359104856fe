// Publishers' idempotency keys: each key's body hash and first answer, kept for
// IDEMPOTENCY_TTL_MS after its first use. A publish that repeats a key gets that
// answer again, or a conflict when its body differs.
import type { PublishAnswer } from "../shared/responses";
import type { MeteredSql } from "../shared/sql";

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export type IdempotencyKey = { key: string; bodyHash: string };

/**
 * `Answer`: what the keys read through this instance hold. A publish's keys hold its answers; the
 * scheduling's (scheduled.ts) also a scheduled publish's answer, under a body hash that covers its
 * deliverAt, so that no publish without a deliverAt can ever be answered with one.
 */
export class IdempotencyKeys<Answer extends object = PublishAnswer> {
  constructor(private readonly sql: MeteredSql) {}

  /** The first answer given under this key, "conflict" for another body, or undefined for a key not (or no longer) held. */
  earlierAnswer({ key, bodyHash }: IdempotencyKey, now: number): Answer | "conflict" | undefined {
    const earlier = this.sql.first<{ body_hash: string; result: string }>(
      "SELECT body_hash, result FROM idempotency WHERE key = ? AND stored_at > ?",
      key,
      now - IDEMPOTENCY_TTL_MS,
    );
    if (earlier) return earlier.body_hash === bodyHash ? JSON.parse(earlier.result) : "conflict";
  }

  remember({ key, bodyHash }: IdempotencyKey, answer: Answer, now: number) {
    this.sql.run(
      "INSERT OR REPLACE INTO idempotency (key, body_hash, result, stored_at) VALUES (?, ?, ?, ?)",
      key,
      bodyHash,
      JSON.stringify(answer),
      now,
    );
  }

  /** Removes the keys past their TTL; answers when the oldest key left expires (null when none is left). */
  removeExpired(now: number) {
    this.sql.run("DELETE FROM idempotency WHERE stored_at <= ?", now - IDEMPOTENCY_TTL_MS);
    const next = this.sql.first<{ stored_at: number }>("SELECT stored_at FROM idempotency ORDER BY stored_at LIMIT 1");
    return next ? next.stored_at + IDEMPOTENCY_TTL_MS : null;
  }
}
