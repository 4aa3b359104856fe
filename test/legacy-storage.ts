// Storage as the code before versioned migrations (up to commit 4ad1978) built
// it: the statements below are copied from that code's constructors, word for
// word, and must stay so whatever later steps change. No version table.
import type { Announcement, PersonalMessage } from "../src/shared/schema";

/** The state row's JSON as that code wrote it (src/user/state.ts at 4ad1978). */
export interface LegacyInboxState {
  lastSeq: number;
  pendingCount: number;
  unreadCount: number;
  dropped: number;
  region: string | null;
  pendingExpiresAt: number | null;
  unreadExpiresAt: number | null;
  idempotencyExpiresAt: number | null;
  alarmAt: number | null;
}

const LEGACY_USER_TABLES = `
  CREATE TABLE IF NOT EXISTS pending (seq INTEGER PRIMARY KEY, message TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS unread (seq INTEGER PRIMARY KEY, message TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS cursors (
    region TEXT PRIMARY KEY, epoch TEXT NOT NULL, cursor INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS idempotency (
    key TEXT PRIMARY KEY, body_hash TEXT NOT NULL, result TEXT NOT NULL, stored_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS inbox (singleton INTEGER PRIMARY KEY CHECK (singleton = 1), state TEXT NOT NULL);
`;

const LEGACY_REGION_TABLES = `
  CREATE TABLE IF NOT EXISTS announcements (
    id INTEGER PRIMARY KEY,
    stored_at INTEGER NOT NULL,
    message TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS followers (user TEXT PRIMARY KEY) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS region (
    singleton INTEGER PRIMARY KEY CHECK (singleton = 1),
    epoch TEXT NOT NULL,
    head INTEGER NOT NULL
  );
`;

export interface LegacyInbox {
  pending: PersonalMessage[];
  unread: PersonalMessage[];
  state: LegacyInboxState;
  cursors: { region: string; epoch: string; cursor: number }[];
  idempotency: { key: string; bodyHash: string; result: string; storedAt: number }[];
}

/** Writes a user's storage as that code did, with the same statements and JSON texts. */
export function writeLegacyInbox(storage: DurableObjectStorage, inbox: LegacyInbox) {
  const { sql } = storage;
  sql.exec(LEGACY_USER_TABLES);
  for (const set of ["pending", "unread"] as const) {
    for (const message of inbox[set]) {
      sql.exec(`INSERT INTO ${set} (seq, message) VALUES (?, ?)`, message.seq, JSON.stringify(message));
    }
  }
  for (const { region, epoch, cursor } of inbox.cursors) {
    sql.exec("INSERT INTO cursors (region, epoch, cursor) VALUES (?, ?, ?)", region, epoch, cursor);
  }
  for (const { key, bodyHash, result, storedAt } of inbox.idempotency) {
    sql.exec(
      "INSERT OR REPLACE INTO idempotency (key, body_hash, result, stored_at) VALUES (?, ?, ?, ?)",
      key,
      bodyHash,
      result,
      storedAt,
    );
  }
  sql.exec("INSERT OR REPLACE INTO inbox (singleton, state) VALUES (1, ?)", JSON.stringify(inbox.state));
}

export interface LegacyRegion {
  announcements: { stored_at: number; message: Announcement }[];
  followers: string[];
  epoch: string;
  head: number;
}

/** Writes a region's storage as that code did. */
export function writeLegacyRegion(storage: DurableObjectStorage, region: LegacyRegion) {
  const { sql } = storage;
  sql.exec(LEGACY_REGION_TABLES);
  sql.exec("INSERT INTO region (singleton, epoch, head) VALUES (1, ?, 0)", region.epoch);
  for (const { stored_at, message } of region.announcements) {
    const text = JSON.stringify(message);
    sql.exec("INSERT INTO announcements (id, stored_at, message) VALUES (?, ?, ?)", message.id, stored_at, text);
  }
  sql.exec("UPDATE region SET head = ?", region.head);
  for (const user of region.followers) sql.exec("INSERT OR IGNORE INTO followers (user) VALUES (?)", user);
}
