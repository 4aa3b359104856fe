// Messages held until their deliverAt (contract v1.1, "Scheduled delivery"),
// in the holding object's `scheduled` table (UserInbox: personal messages;
// RegionLog: its copy of an announcement), each with its content as it will
// be published. The holder takes what is due before it reads or writes its
// messages, and publishes it in the same synchronous step, so that a retried
// alarm or a restart never delivers one twice and a late alarm never leaves a
// due one unseen. The earliest deliverAt is kept in memory (read once per
// start), so that this check costs no row.
import type { ScheduledEntry } from "./responses";
import type { MessageContent } from "./schema";
import type { MeteredSql } from "./sql";

export type Due = { id: string; deliverAt: number; content: MessageContent };

export class Schedule {
  private next: number | null;

  constructor(private readonly sql: MeteredSql) {
    this.next = this.earliest();
  }

  /** The earliest deliverAt held (ms), or null when nothing is held: one of the holder's alarm deadlines. */
  get nextAt() {
    return this.next;
  }

  hold(id: string, deliverAt: number, content: MessageContent) {
    this.sql.run("INSERT INTO scheduled (id, deliver_at, content) VALUES (?, ?, ?)", id, deliverAt, JSON.stringify(content));
    this.next = Math.min(this.next ?? deliverAt, deliverAt);
  }

  /** Removes what is due at `now` and answers it, soonest first (held first among equals); the caller publishes it in the same step. */
  takeDue(now: number): Due[] {
    if (this.next === null || this.next > now) return [];
    const due = this.sql.all<{ id: string; deliver_at: number; content: string }>(
      "SELECT id, deliver_at, content FROM scheduled WHERE deliver_at <= ? ORDER BY deliver_at, rowid",
      now,
    );
    this.sql.run("DELETE FROM scheduled WHERE deliver_at <= ?", now);
    this.next = this.earliest();
    return due.map((row) => ({ id: row.id, deliverAt: row.deliver_at, content: JSON.parse(row.content) }));
  }

  /** Everything held, soonest first, as the publisher's listing shows it. */
  list(): ScheduledEntry[] {
    return this.sql
      .all<{ id: string; deliver_at: number; content: string }>("SELECT id, deliver_at, content FROM scheduled ORDER BY deliver_at, rowid")
      .map((row) => ({ id: row.id, deliverAt: new Date(row.deliver_at).toISOString(), message: JSON.parse(row.content) }));
  }

  /** Whether `id` was held and is no longer (false: delivered, cancelled already, or never held here). */
  cancel(id: string): boolean {
    if (this.sql.run("DELETE FROM scheduled WHERE id = ? RETURNING id", id) === 0) return false;
    this.next = this.earliest();
    return true;
  }

  private earliest(): number | null {
    return this.sql.first<{ deliver_at: number }>("SELECT deliver_at FROM scheduled ORDER BY deliver_at LIMIT 1")?.deliver_at ?? null;
  }
}
