// The Idempotency-Keys of announcements published in this region: each key's
// body hash and the id and createdAt this region answered with, kept for
// IDEMPOTENCY_TTL_MS after its first use. The key of one POST is remembered by
// every region it names, each for its own id, so a retry after some regions
// failed publishes only where the key is not remembered.
import type { MeteredSql } from "../shared/sql";
import { IDEMPOTENCY_TTL_MS, type IdempotencyKey } from "../user/idempotency";

/** What a region answered a publish with. */
export type Announced = { id: number; createdAt: string };

export class AnnouncementKeys {
  constructor(private readonly sql: MeteredSql) {}

  /** The answer given under this key, "conflict" for another body, or undefined for a key not (or no longer) held. */
  earlierAnswer({ key, bodyHash }: IdempotencyKey, now: number): Announced | "conflict" | undefined {
    const earlier = this.sql.first<{ body_hash: string; id: number; created_at: string }>(
      "SELECT body_hash, id, created_at FROM idempotency WHERE key = ? AND stored_at > ?",
      key,
      now - IDEMPOTENCY_TTL_MS,
    );
    if (!earlier) return undefined;
    return earlier.body_hash === bodyHash ? { id: earlier.id, createdAt: earlier.created_at } : "conflict";
  }

  remember({ key, bodyHash }: IdempotencyKey, { id, createdAt }: Announced, now: number) {
    this.sql.run(
      "INSERT OR REPLACE INTO idempotency (key, body_hash, id, created_at, stored_at) VALUES (?, ?, ?, ?, ?)",
      key,
      bodyHash,
      id,
      createdAt,
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
