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
    // 2. Fewer rows written (StatsShard.ts): a bucket's counts as JSON, one row per part of them
    //    (keys.ts partOf; the latency bin's part is its route and its number of digits), and each
    //    source's batches not yet folded into them in its row, with the fold generation they
    //    belong to. Rows from before hold none (generation 0, below the first fold's 1). The
    //    CASE is partOf in SQL.
    `
      CREATE TABLE parts (
        span INTEGER NOT NULL,
        bucket INTEGER NOT NULL,
        part TEXT NOT NULL,
        counts TEXT NOT NULL,
        PRIMARY KEY (span, bucket, part)
      ) WITHOUT ROWID;
      INSERT INTO parts (span, bucket, part, counts)
        SELECT span, bucket, part, json_group_object(key, n) FROM (
          SELECT span, bucket, key, n, CASE
            WHEN key LIKE 'latency.%' THEN substr(key, 1, 8 + instr(substr(key, 9), '.')) || (length(key) - 8 - instr(substr(key, 9), '.'))
            ELSE 'counters' END AS part
          FROM counts WHERE n != 0)
        GROUP BY span, bucket, part;
      DROP TABLE counts;
      ALTER TABLE sources ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE sources ADD COLUMN unfolded TEXT NOT NULL DEFAULT '{}';
      CREATE TABLE folds (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), generation INTEGER NOT NULL);
      INSERT INTO folds (singleton, generation) VALUES (1, 1);
    `,
  ],
  // Versioned from its first release.
  unversionedTables: [],
};
