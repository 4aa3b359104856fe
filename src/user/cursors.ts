// Each device's announcement cursor per region: the newest announcement id it
// has been given there (by a poll's answer or a live socket) and that id's
// epoch. A poll or connect that brings no cursor of its own goes on from it.
// A device's cursors outlive its being forgotten for inactivity; they go with
// its row when it is dropped for DEVICE_LIMIT (devices.ts).
import type { ReadFrom } from "../region/window";
import type { MeteredSql } from "../shared/sql";

export class Cursors {
  constructor(private readonly sql: MeteredSql) {}

  /** The client's own cursor, else the device's stored one; a device with neither starts at the head (null). */
  startFor(device: string, region: string, client: { since?: number; epoch?: string }): ReadFrom {
    if (client.since !== undefined) return { since: client.since, epoch: client.epoch };
    return this.stored(device, region) ?? null;
  }

  /** Writes only when the cursor changed: a poll with nothing new writes no row. */
  store(device: string, region: string, epoch: string, cursor: number) {
    this.sql.run(
      `INSERT INTO device_cursors (device, region, epoch, cursor) VALUES (?, ?, ?, ?)
       ON CONFLICT (device, region) DO UPDATE SET epoch = excluded.epoch, cursor = excluded.cursor
       WHERE epoch != excluded.epoch OR cursor != excluded.cursor`,
      device,
      region,
      epoch,
      cursor,
    );
  }

  /** A device's cursor in every region, for the publisher's view. */
  byRegion(device: string): Record<string, number> {
    return Object.fromEntries(
      this.sql
        .all<{ region: string; cursor: number }>(
          "SELECT region, cursor FROM device_cursors WHERE device = ? ORDER BY region",
          device,
        )
        .map((row) => [row.region, row.cursor]),
    );
  }

  private stored(device: string, region: string) {
    return this.sql.first<{ since: number; epoch: string }>(
      "SELECT cursor AS since, epoch FROM device_cursors WHERE device = ? AND region = ?",
      device,
      region,
    );
  }
}
