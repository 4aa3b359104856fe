// RegionLog's storage, as versioned migration steps (src/shared/migrations.ts).
// A change to the tables is a new step appended here; deployed steps never change.
import type { Schema } from "../shared/migrations";

export const regionSchema: Schema = {
  name: "RegionLog",
  steps: [
    // 1. The announcements (id → message JSON text, arrival time), the users
    //    following the region live, and the one row with the epoch and head.
    `
      CREATE TABLE announcements (
        id INTEGER PRIMARY KEY,
        stored_at INTEGER NOT NULL,
        message TEXT NOT NULL
      );
      CREATE TABLE followers (user TEXT PRIMARY KEY) WITHOUT ROWID;
      CREATE TABLE region (
        singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
        epoch TEXT NOT NULL,
        head INTEGER NOT NULL
      );
    `,
    // 2. The announcement stats not yet flushed to their shard (src/stats/buffer.ts),
    //    in the row every publish writes anyway; null until the first publish.
    `ALTER TABLE region ADD COLUMN stats TEXT`,
    // 3. Publishers' Idempotency-Keys (src/region/idempotency.ts): each key's body hash and the id
    //    and createdAt it was answered with, kept 24 h; by age for the alarm's sweep.
    `
      CREATE TABLE idempotency (
        key TEXT PRIMARY KEY,
        body_hash TEXT NOT NULL,
        id INTEGER NOT NULL,
        created_at TEXT NOT NULL,
        stored_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX idempotency_by_age ON idempotency (stored_at);
    `,
    // 4. Retracted announcements stay as tombstones (their text emptied): they keep their place in
    //    head, oldest, the count and the age retention, and reads pass over them.
    `ALTER TABLE announcements ADD COLUMN retracted INTEGER NOT NULL DEFAULT 0`,
    // 5. Scheduled announcements (src/shared/schedule.ts): this region's copy of each held one, with
    //    every region it goes to (`regions`, JSON), which the region its id names answers a cancel
    //    with. A key of a scheduled publish keeps its id in `scheduled` (with `id` 0 and its
    //    deliverAt in `created_at`); null for a key of a publish.
    `
      CREATE TABLE scheduled (
        id TEXT PRIMARY KEY, deliver_at INTEGER NOT NULL, content TEXT NOT NULL, regions TEXT NOT NULL DEFAULT '[]'
      );
      CREATE INDEX scheduled_by_time ON scheduled (deliver_at);
      ALTER TABLE idempotency ADD COLUMN scheduled TEXT;
    `,
  ],
  unversionedTables: ["announcements", "followers", "region"],
};
