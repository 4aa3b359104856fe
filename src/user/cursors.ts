// The user's announcement cursor per region: the newest announcement id it has
// been given there (by a poll's answer or a live socket) and that id's epoch.
// A poll or connect that brings no cursor of its own goes on from it.
import type { ReadFrom } from "../region/window";
import type { MeteredSql } from "../shared/sql";

export class Cursors {
  constructor(private readonly sql: MeteredSql) {}

  /** The client's own cursor, else the stored one; a user with neither starts at the head (null). */
  startFor(region: string, client: { since?: number; epoch?: string }): ReadFrom {
    if (client.since !== undefined) return { since: client.since, epoch: client.epoch };
    return this.stored(region) ?? null;
  }

  /** Writes only when the cursor changed: a poll with nothing new writes no row. */
  store(region: string, epoch: string, cursor: number) {
    this.sql.run(
      `INSERT INTO cursors (region, epoch, cursor) VALUES (?, ?, ?)
       ON CONFLICT (region) DO UPDATE SET epoch = excluded.epoch, cursor = excluded.cursor
       WHERE epoch != excluded.epoch OR cursor != excluded.cursor`,
      region,
      epoch,
      cursor,
    );
  }

  /** Every region's cursor, for the publisher's view. */
  byRegion(): Record<string, number> {
    return Object.fromEntries(
      this.sql
        .all<{ region: string; cursor: number }>("SELECT region, cursor FROM cursors ORDER BY region")
        .map((row) => [row.region, row.cursor]),
    );
  }

  private stored(region: string) {
    return this.sql
      .first<{ since: number; epoch: string }>("SELECT cursor AS since, epoch FROM cursors WHERE region = ?", region);
  }
}
