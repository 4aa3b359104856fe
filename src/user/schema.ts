// UserInbox's storage, as versioned migration steps (src/shared/migrations.ts).
// A change to the tables is a new step appended here; deployed steps never change.
import type { Schema } from "../shared/migrations";

export const userSchema: Schema = {
  name: "UserInbox",
  steps: [
    // 1. The sets (seq → message JSON text), the cursor per region, publishers'
    //    idempotency keys, and the one row of scalar state (state.ts).
    `
      CREATE TABLE pending (seq INTEGER PRIMARY KEY, message TEXT NOT NULL);
      CREATE TABLE unread (seq INTEGER PRIMARY KEY, message TEXT NOT NULL);
      CREATE TABLE cursors (
        region TEXT PRIMARY KEY, epoch TEXT NOT NULL, cursor INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE idempotency (
        key TEXT PRIMARY KEY, body_hash TEXT NOT NULL, result TEXT NOT NULL, stored_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE TABLE inbox (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), state TEXT NOT NULL);
    `,
  ],
  unversionedTables: ["pending", "unread", "cursors", "idempotency", "inbox"],
};
