// StatsShard's storage, as versioned migration steps (src/shared/migrations.ts).
// A change to the tables is a new step appended here; deployed steps never change.
import type { Schema } from "../shared/migrations";

export const statsSchema: Schema = {
  name: "StatsShard",
  steps: [
    // 1. Counts per (span, bucket, key) (spans.ts, keys.ts), and the last batch
    //    applied from each source, so that a batch sent twice counts once.
    `
      CREATE TABLE counts (
        span INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        key TEXT NOT NULL,
        n INTEGER NOT NULL,
        PRIMARY KEY (span, bucket, key)
      ) WITHOUT ROWID;
      CREATE TABLE sources (
        source TEXT PRIMARY KEY,
        epoch TEXT NOT NULL,
        batch INTEGER NOT NULL,
        seen_at INTEGER NOT NULL
      ) WITHOUT ROWID;
    `,
  ],
  // Versioned from its first release.
  unversionedTables: [],
};
