// The user's small scalar state (seq counter, set sizes, deadlines, region) in
// one row, mirrored in memory. Keeping the set sizes here, rather than counting
// rows, keeps every operation's storage reads proportional to what it returns.
//
// The three deadlines share the object's single alarm, which always points at
// the earliest of them.

import type { MeteredSql } from "../shared/sql";

export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export interface InboxValues {
  /** Highest seq ever assigned: never reused, also after the sets are cleared. */
  lastSeq: number;
  pendingCount: number;
  unreadCount: number;
  /** Pending messages evicted by the limit since the last answer to the user. */
  dropped: number;
  region: string | null;
  pendingExpiresAt: number | null;
  unreadExpiresAt: number | null;
  idempotencyExpiresAt: number | null;
}

const empty: InboxValues = {
  lastSeq: 0,
  pendingCount: 0,
  unreadCount: 0,
  dropped: 0,
  region: null,
  pendingExpiresAt: null,
  unreadExpiresAt: null,
  idempotencyExpiresAt: null,
};

export class InboxState {
  readonly values: InboxValues;
  /** The row as last written, so that a save that changes nothing writes nothing. */
  private written: string;
  private alarmAt: number | null = null;

  private readonly storage: DurableObjectStorage;

  constructor(
    ctx: DurableObjectState,
    private readonly sql: MeteredSql,
  ) {
    this.storage = ctx.storage;
    this.sql.run("CREATE TABLE IF NOT EXISTS inbox (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), state TEXT NOT NULL)");
    const row = this.sql.first<{ state: string }>("SELECT state FROM inbox");
    this.written = row?.state ?? JSON.stringify(empty);
    this.values = { ...empty, ...JSON.parse(this.written) };
    void ctx.blockConcurrencyWhile(async () => {
      this.alarmAt = await this.storage.getAlarm();
    });
  }

  /**
   * Applies `changes` on top of any direct edits to `values`, writes the row, and
   * re-aims the alarm. Synchronous, so callers can go on in the same step; the
   * alarm write is confirmed by the object's output gate like any other write.
   */
  save(changes: Partial<InboxValues>) {
    Object.assign(this.values, changes);
    const state = JSON.stringify(this.values);
    if (state !== this.written) {
      this.sql.run("INSERT OR REPLACE INTO inbox (singleton, state) VALUES (1, ?)", state);
      this.written = state;
    }
    const { pendingExpiresAt, unreadExpiresAt, idempotencyExpiresAt } = this.values;
    const deadlines = [pendingExpiresAt, unreadExpiresAt, idempotencyExpiresAt].filter((at) => at !== null);
    const next = deadlines.length > 0 ? Math.min(...deadlines) : null;
    if (next === this.alarmAt) return;
    this.alarmAt = next;
    void (next === null ? this.storage.deleteAlarm() : this.storage.setAlarm(next));
  }

  /** The runtime clears the alarm before running it; remember that so the next save sets it again. */
  alarmFired() {
    this.alarmAt = null;
  }
}
