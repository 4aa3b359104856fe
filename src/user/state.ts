// The user's small scalar state (seq counter, set sizes, deadlines, region) in
// one row, mirrored in memory. Keeping the set sizes here, rather than counting
// rows, keeps every operation's storage reads proportional to what it returns.
//
// The five deadlines, and the stats' flush (src/stats/buffer.ts, kept in the
// same row so buffering them costs no row of its own), share the object's
// single alarm, which is never later than the earliest of them, nor than the
// earliest push job (armBy).

import type { MeteredSql } from "../shared/sql";
import { StatsBuffer, type StatsBufferData } from "../stats/buffer";

export interface InboxValues {
  /** Highest seq ever assigned: never reused, also after the sets are cleared. */
  lastSeq: number;
  pendingCount: number;
  unreadCount: number;
  region: string | null;
  pendingExpiresAt: number | null;
  unreadExpiresAt: number | null;
  idempotencyExpiresAt: number | null;
  /** Not later than the earliest ttlSeconds deadline of a message in either set (message-sets.ts); may be early. */
  messagesExpireAt: number | null;
  /** Not later than the moment the first known device may be forgotten (devices.ts); may be early. */
  devicesForgetAt: number | null;
  /** Messages evicted while no device was known: the first device seen is told of them in `dropped`. */
  evictedWithoutDevice: number;
  /** When the object's one alarm is set for (kept here so no start-up has to ask the runtime). */
  alarmAt: number | null;
  /** The stats recorded and not yet flushed to their shard (src/stats/buffer.ts), changed in place. */
  stats: StatsBufferData | null;
}

const empty: InboxValues = {
  lastSeq: 0,
  pendingCount: 0,
  unreadCount: 0,
  region: null,
  pendingExpiresAt: null,
  unreadExpiresAt: null,
  idempotencyExpiresAt: null,
  messagesExpireAt: null,
  devicesForgetAt: null,
  evictedWithoutDevice: 0,
  alarmAt: null,
  stats: null,
};

export class InboxState {
  readonly values: InboxValues;
  /** The stats kept in the row: the same data as `values.stats`, which it edits in place. */
  readonly stats: StatsBuffer;
  /** The values as last written, so that a flush that changes nothing writes (or serialises) nothing. */
  private written: InboxValues;
  /** The stats as last written: they change in place, so they are compared as text. */
  private writtenStats: string;
  private readonly storage: DurableObjectStorage;

  constructor(
    ctx: DurableObjectState,
    private readonly sql: MeteredSql,
  ) {
    this.storage = ctx.storage;
    const row = this.sql.first<{ state: string }>("SELECT state FROM inbox");
    this.values = { ...empty, ...(row && JSON.parse(row.state)) };
    this.stats = StatsBuffer.from(this.values.stats);
    this.values.stats = this.stats.toJSON();
    this.written = { ...this.values };
    this.writtenStats = JSON.stringify(this.values.stats);
  }

  /**
   * Writes the row if any value changed since it was last written, after
   * arming the alarm if a deadline now comes before it. Every operation that
   * edits `values` ends with one flush (or `update`), which also writes what
   * expiry cleared in that step. Synchronous, so callers can go on in the same
   * step; the alarm write is confirmed by the object's output gate like any
   * other write.
   *
   * A deadline that moves later (every publish moves the TTLs) leaves the alarm
   * where it is: it fires early, clears nothing, and is armed again for the
   * real deadline. That keeps an alarm write off almost every publish.
   */
  flush() {
    const { pendingExpiresAt, unreadExpiresAt, idempotencyExpiresAt, messagesExpireAt, devicesForgetAt, alarmAt } = this.values;
    const deadlines = [pendingExpiresAt, unreadExpiresAt, idempotencyExpiresAt, messagesExpireAt, devicesForgetAt, this.stats.flushDueAt];
    const due = deadlines.filter((at) => at !== null);
    const next = due.length > 0 ? Math.min(...due) : null;
    if (next !== null && (alarmAt === null || next < alarmAt)) {
      this.values.alarmAt = next;
      void this.storage.setAlarm(next);
    }
    const values = this.values;
    const stats = JSON.stringify(values.stats);
    if (stats !== this.writtenStats || (Object.keys(values) as (keyof InboxValues)[]).some((name) => values[name] !== this.written[name])) {
      this.sql.run("INSERT OR REPLACE INTO inbox (singleton, state) VALUES (1, ?)", JSON.stringify(values));
      this.written = { ...values };
      this.writtenStats = stats;
    }
  }

  /**
   * Keeps the alarm no later than `at` (null: nothing to wait for), for a deadline the row does not
   * hold: the next push job's (push-jobs.ts keeps it). The next flush writes the moved alarm.
   */
  armBy(at: number | null) {
    if (at === null || (this.values.alarmAt !== null && this.values.alarmAt <= at)) return;
    this.values.alarmAt = at;
    void this.storage.setAlarm(at);
  }

  /** Applies `changes` on top of any direct edits to `values`, and flushes. */
  update(changes: Partial<InboxValues>) {
    Object.assign(this.values, changes);
    this.flush();
  }

  /** The runtime clears the alarm before running it; the next flush arms it again if anything is left. */
  alarmFired() {
    this.values.alarmAt = null;
  }
}
