// A user's two sets of personal messages: pending (not yet received) and
// unread (not yet read), each seq → the message's JSON text. Every statement
// goes by the primary key, so it reads about the rows it returns or removes,
// whatever the set's size. The sets' sizes are kept by the caller (InboxState).
import type { ReadReceipt } from "../shared/schema";
import type { MeteredSql } from "../shared/sql";

export type MessageSet = "pending" | "unread";
export type StoredMessage = { seq: number; message: string };

/** The most parameters one statement may bind. */
const MAX_BINDINGS = 100;

export class MessageSets {
  constructor(private readonly sql: MeteredSql) {}

  /** A new message is both pending and unread. */
  add(seq: number, message: string) {
    this.sql.run("INSERT INTO pending (seq, message) VALUES (?, ?)", seq, message);
    this.sql.run("INSERT INTO unread (seq, message) VALUES (?, ?)", seq, message);
  }

  oldest(set: MessageSet, limit: number) {
    return this.sql.all<StoredMessage>(`SELECT seq, message FROM ${set} ORDER BY seq LIMIT ?`, limit);
  }

  pendingAfter(seq: number) {
    return this.sql.all<StoredMessage>("SELECT seq, message FROM pending WHERE seq > ? ORDER BY seq", seq);
  }

  pendingBounds() {
    return this.sql.first<{ oldest: number | null; newest: number | null }>(
      "SELECT min(seq) AS oldest, max(seq) AS newest FROM pending",
    )!;
  }

  /** Removes the oldest `count` messages of a set (none when count ≤ 0); answers how many went. */
  removeOldest(set: MessageSet, count: number) {
    if (count <= 0) return 0;
    return this.sql.run(
      `DELETE FROM ${set} WHERE seq IN (SELECT seq FROM ${set} ORDER BY seq LIMIT ?) RETURNING seq`,
      count,
    );
  }

  removeUpTo(set: MessageSet, seq: number) {
    return this.sql.run(`DELETE FROM ${set} WHERE seq <= ? RETURNING seq`, seq);
  }

  /** Removes a receipt's seqs; listed seqs are deleted by key lookups, a group per statement. */
  removeReceipt(set: MessageSet, receipt: ReadReceipt) {
    if ("upTo" in receipt) return this.removeUpTo(set, receipt.upTo);
    let removed = 0;
    for (let at = 0; at < receipt.seqs.length; at += MAX_BINDINGS) {
      const group = receipt.seqs.slice(at, at + MAX_BINDINGS);
      const keys = group.map(() => "?").join(",");
      removed += this.sql.run(`DELETE FROM ${set} WHERE seq IN (${keys}) RETURNING seq`, ...group);
    }
    return removed;
  }

  clear(set: MessageSet) {
    this.sql.run(`DELETE FROM ${set}`);
  }
}
