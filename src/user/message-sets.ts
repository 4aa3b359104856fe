// A user's two sets of personal messages: pending (not yet received) and
// unread (not yet read), each seq → the message's JSON text, with its
// collapseKey and the deadline of its ttlSeconds when it has them. Every
// statement goes by the primary key or one of the partial indexes on those two
// (schema step 7), so it reads about the rows it returns or removes, whatever
// the set's size. The sets' sizes are kept by the caller (InboxState).
import type { ReadReceipt } from "../shared/schema";
import type { MeteredSql } from "../shared/sql";

export type MessageSet = "pending" | "unread";
const SETS: readonly MessageSet[] = ["pending", "unread"];
export type StoredMessage = { seq: number; message: string };

export class MessageSets {
  constructor(private readonly sql: MeteredSql) {}

  /** A new message is both pending and unread; `expiresAt` (ms) is when its ttlSeconds takes it out of both. */
  add(seq: number, message: string, collapseKey: string | null, expiresAt: number | null) {
    for (const set of SETS) {
      this.sql.run(`INSERT INTO ${set} (seq, message, collapse_key, expires_at) VALUES (?, ?, ?, ?)`, seq, message, collapseKey, expiresAt);
    }
  }

  /** The message with this collapseKey in either set (a publish keeps at most one per key), if any. */
  withCollapseKey(collapseKey: string): number | undefined {
    return this.sql.first<{ seq: number }>(
      "SELECT seq FROM pending WHERE collapse_key = ? UNION SELECT seq FROM unread WHERE collapse_key = ?",
      collapseKey,
      collapseKey,
    )?.seq;
  }

  /** Takes `seq` out of both sets; answers its JSON text from each set that held it. */
  remove(seq: number) {
    const [pending, unread] = SETS.map(
      (set) => this.sql.first<{ message: string }>(`DELETE FROM ${set} WHERE seq = ? RETURNING message`, seq)?.message,
    );
    return { pending, unread };
  }

  /** Removes the messages whose ttlSeconds deadline is at or before `now`: those of the pending set with their deadlines, and how many unread ones. */
  removeExpired(now: number) {
    const pending = this.sql.all<{ seq: number; expires_at: number }>(
      "DELETE FROM pending WHERE expires_at <= ? RETURNING seq, expires_at",
      now,
    );
    const unread = this.sql.run("DELETE FROM unread WHERE expires_at <= ? RETURNING seq", now);
    return { pending: pending.map((row) => ({ seq: row.seq, expiresAt: row.expires_at })), unread };
  }

  /** The earliest ttlSeconds deadline of a message in either set, or null. */
  nextExpiry(): number | null {
    return this.sql.first<{ at: number | null }>(
      `SELECT min(at) AS at FROM (
         SELECT min(expires_at) AS at FROM pending WHERE expires_at IS NOT NULL
         UNION ALL SELECT min(expires_at) FROM unread WHERE expires_at IS NOT NULL
       )`,
    )!.at;
  }

  oldest(set: MessageSet, limit: number) {
    return this.sql.all<StoredMessage>(`SELECT seq, message FROM ${set} ORDER BY seq LIMIT ?`, limit);
  }

  /** Pending messages above `seq` (a device's acknowledgement), oldest first; all of them without a limit. */
  pendingAfter(seq: number, limit = -1) {
    return this.sql.all<StoredMessage>("SELECT seq, message FROM pending WHERE seq > ? ORDER BY seq LIMIT ?", seq, limit);
  }

  /** The pending message `seq`'s JSON text, if it is pending. */
  pendingMessage(seq: number) {
    return this.sql.first<{ message: string }>("SELECT message FROM pending WHERE seq = ?", seq)?.message;
  }

  /** How many pending messages are above `seq`: it reads each of them, so callers ask only when the size cannot tell. */
  countPendingAfter(seq: number) {
    return this.sql.first<{ n: number }>("SELECT count(*) AS n FROM pending WHERE seq > ?", seq)!.n;
  }

  /** The seqs of the pending set above `after`, up to `upTo`. */
  pendingSeqsIn(after: number, upTo: number) {
    const rows = this.sql.all<{ seq: number }>("SELECT seq FROM pending WHERE seq > ? AND seq <= ?", after, upTo);
    return new Set(rows.map((row) => row.seq));
  }

  /** Which of `seqs` are in the pending set, by key lookups. */
  pendingSeqsOf(seqs: number[]) {
    return new Set(this.sql.allIn<{ seq: number }>("SELECT seq FROM pending WHERE seq IN (?)", seqs).map((row) => row.seq));
  }

  /** The oldest and newest pending seqs. Two subqueries, since SQLite reads one end of the key for min() or max() alone, and the whole table for both at once. */
  pendingBounds() {
    return this.sql.first<{ oldest: number | null; newest: number | null }>(
      "SELECT (SELECT min(seq) FROM pending) AS oldest, (SELECT max(seq) FROM pending) AS newest",
    )!;
  }

  /** Removes the oldest `count` messages of a set (none when count ≤ 0); answers their seqs, oldest first. */
  removeOldest(set: MessageSet, count: number) {
    if (count <= 0) return [];
    return this.sql
      .all<{ seq: number }>(
        `DELETE FROM ${set} WHERE seq IN (SELECT seq FROM ${set} ORDER BY seq LIMIT ?) RETURNING seq`,
        count,
      )
      .map((row) => row.seq)
      .sort((a, b) => a - b);
  }

  removeUpTo(set: MessageSet, seq: number) {
    return this.sql.run(`DELETE FROM ${set} WHERE seq <= ? RETURNING seq`, seq);
  }

  /** Removes a receipt's seqs, answering those that were in the set; listed seqs go by key lookups, a group per statement. */
  removeReceipt(set: MessageSet, receipt: ReadReceipt): number[] {
    const removed =
      "upTo" in receipt
        ? this.sql.all<{ seq: number }>(`DELETE FROM ${set} WHERE seq <= ? RETURNING seq`, receipt.upTo)
        : this.sql.allIn<{ seq: number }>(`DELETE FROM ${set} WHERE seq IN (?) RETURNING seq`, receipt.seqs);
    return removed.map((row) => row.seq).sort((a, b) => a - b);
  }

  /** Empties a set; answers the seqs it held. */
  clear(set: MessageSet) {
    return this.sql.all<{ seq: number }>(`DELETE FROM ${set} RETURNING seq`).map((row) => row.seq);
  }
}
