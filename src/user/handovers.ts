// When and how postbox last handed each message to each device (contract v1.1, "Arrival"): an
// acknowledgement proves that a message arrived by the route of its last hand-over before it,
// at that hand-over's time. A hand-over alone proves nothing, so it is only noted here.
//
// One row per hand-over of a range of seqs, not per message: a poll hands over the device's
// pending messages from one seq to another, a live frame one seq. A newer hand-over that covers
// an older one's whole range replaces it (the last one counts), and an acknowledgement drops the
// rows it passed, so a device keeps about one row per live frame it has not acknowledged.
import type { ArrivalRoute } from "../stats/recorder";
import type { MeteredSql } from "../shared/sql";

export type HandOver = { route: Exclude<ArrivalRoute, "push">; at: number };
type Row = { from_seq: number; to_seq: number; route: HandOver["route"]; at: number };

export class HandOvers {
  constructor(private readonly sql: MeteredSql) {}

  /** Seqs `from` (exclusive) to `to` (inclusive) were handed to the device at `at`; some may not be pending for it. */
  note(device: string, from: number, to: number, { route, at }: HandOver) {
    this.sql.run("DELETE FROM hand_overs WHERE device = ? AND from_seq >= ? AND to_seq <= ?", device, from, to);
    this.sql.run(
      "INSERT INTO hand_overs (device, from_seq, to_seq, route, at) VALUES (?, ?, ?, ?, ?)",
      device,
      from,
      to,
      route,
      at,
    );
  }

  /** For each seq, the device's last hand-over of it; reads the device's rows that reach above `after`. */
  lastOf(device: string, after: number): (seq: number) => HandOver | undefined {
    const rows = this.sql.all<Row>(
      "SELECT from_seq, to_seq, route, at FROM hand_overs WHERE device = ? AND to_seq > ? ORDER BY at DESC, rowid DESC",
      device,
      after,
    );
    return (seq) => {
      const row = rows.find((row) => row.from_seq < seq && seq <= row.to_seq);
      return row && { route: row.route, at: row.at };
    };
  }

  /** The device acknowledged up to `seq`: hand-overs below it prove nothing more. */
  dropUpTo(device: string, seq: number) {
    this.sql.run("DELETE FROM hand_overs WHERE device = ? AND to_seq <= ?", device, seq);
  }
}
