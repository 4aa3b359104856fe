// The Idempotency-Keys of announcements published in this region: each key's
// body hash and the id and createdAt this region answered with, kept for
// IDEMPOTENCY_TTL_MS after its first use. The key of one POST is remembered by
// every region it names, each for its own id, so a retry after some regions
// failed publishes only where the key is not remembered.
import type { ScheduledAnswer } from "../shared/responses";
import type { MeteredSql } from "../shared/sql";
import { IDEMPOTENCY_TTL_MS, type IdempotencyKey } from "../user/idempotency";

/** What a region answered a publish with. */
export type Announced = { id: number; createdAt: string };
/** What a region answered a publish with, or a scheduled publish (held in every region under one id). */
export type RegionAnswer = Announced | ScheduledAnswer;

export class AnnouncementKeys {
  constructor(private readonly sql: MeteredSql) {}

  /** The answer given under this key, "conflict" for another body, or undefined for a key not (or no longer) held. */
  earlierAnswer({ key, bodyHash }: IdempotencyKey, now: number): RegionAnswer | "conflict" | undefined {
    const earlier = this.sql.first<{ body_hash: string; id: number; created_at: string; scheduled: string | null }>(
      "SELECT body_hash, id, created_at, scheduled FROM idempotency WHERE key = ? AND stored_at > ?",
      key,
      now - IDEMPOTENCY_TTL_MS,
    );
    if (!earlier) return undefined;
    if (earlier.body_hash !== bodyHash) return "conflict";
    return earlier.scheduled === null
      ? { id: earlier.id, createdAt: earlier.created_at }
      : { scheduled: earlier.scheduled, deliverAt: earlier.created_at };
  }

  /** A scheduled publish's answer keeps its id in `scheduled` and its deliverAt in `created_at` (schema step 5). */
  remember({ key, bodyHash }: IdempotencyKey, answer: RegionAnswer, now: number) {
    const [id, createdAt, scheduled] = "scheduled" in answer ? [0, answer.deliverAt, answer.scheduled] : [answer.id, answer.createdAt, null];
    this.sql.run(
      "INSERT OR REPLACE INTO idempotency (key, body_hash, id, created_at, scheduled, stored_at) VALUES (?, ?, ?, ?, ?, ?)",
      key,
      bodyHash,
      id,
      createdAt,
      scheduled,
      now,
    );
  }

  /** Removes the keys past their TTL; answers when the oldest key left expires (null when none is left). */
  removeExpired(now: number): number | null {
    this.sql.run("DELETE FROM idempotency WHERE stored_at <= ?", now - IDEMPOTENCY_TTL_MS);
    return this.nextExpiry();
  }

  /** When the oldest key held expires, or null when none is held. */
  nextExpiry(): number | null {
    const oldest = this.sql.first<{ stored_at: number }>("SELECT stored_at FROM idempotency ORDER BY stored_at LIMIT 1");
    return oldest ? oldest.stored_at + IDEMPOTENCY_TTL_MS : null;
  }
}
