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
    // 2. Devices (contract v1.1): each device's acknowledgement position and
    //    last seen (devices.ts), announcement cursors per device and region,
    //    and the log of evicted seqs that per-device `dropped` is counted from.
    //    The cursors and `dropped` of the one device v1 knew become the
    //    `default` device's.
    (sql) => {
      sql.run(`
        CREATE TABLE devices (
          device TEXT PRIMARY KEY, known INTEGER NOT NULL, acked INTEGER NOT NULL, seen_at INTEGER NOT NULL,
          dropped INTEGER NOT NULL, evicted_seen INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE device_cursors (
          device TEXT NOT NULL, region TEXT NOT NULL, epoch TEXT NOT NULL, cursor INTEGER NOT NULL,
          PRIMARY KEY (device, region)
        ) WITHOUT ROWID;
        CREATE TABLE evictions (seq INTEGER PRIMARY KEY);
        INSERT INTO device_cursors (device, region, epoch, cursor) SELECT 'default', region, epoch, cursor FROM cursors;
        DROP TABLE cursors;
      `);
      // A user object that exists was used by a v1 client, which is the default device.
      sql.run(
        `INSERT INTO devices (device, known, acked, seen_at, dropped, evicted_seen)
         SELECT 'default', 1, 0, ?, coalesce(json_extract(state, '$.dropped'), 0), 0 FROM inbox`,
        Date.now(),
      );
      sql.run("UPDATE inbox SET state = json_remove(state, '$.dropped')");
    },
    // 3. Push channels (contract v1.1): each device's registration (push-registrations.ts).
    `
      CREATE TABLE push_registrations (
        device TEXT PRIMARY KEY, channel TEXT NOT NULL, registration TEXT NOT NULL
      ) WITHOUT ROWID;
    `,
    // 4. Pending push attempts, one per (message, device) (push-jobs.ts): the key leads with the
    //    device, so an acknowledgement cancels a range; the index finds what is due, oldest first.
    `
      CREATE TABLE push_jobs (
        device TEXT NOT NULL, seq INTEGER NOT NULL, channel TEXT NOT NULL, attempts INTEGER NOT NULL,
        in_flight INTEGER NOT NULL, first_due_at INTEGER NOT NULL, due_at INTEGER NOT NULL, last_status INTEGER,
        PRIMARY KEY (device, seq)
      ) WITHOUT ROWID;
      CREATE INDEX push_jobs_by_due ON push_jobs (due_at, seq);
    `,
    // 5. Arrival (contract v1.1): each message's outcome per device (deliveries.ts), and the
    //    hand-overs an acknowledgement is judged by (handovers.ts). Messages from before this step
    //    have no record: their outcomes are not known.
    `
      CREATE TABLE deliveries (seq INTEGER PRIMARY KEY, created_at INTEGER NOT NULL, outcomes TEXT NOT NULL);
      CREATE TABLE hand_overs (
        device TEXT NOT NULL, from_seq INTEGER NOT NULL, to_seq INTEGER NOT NULL, route TEXT NOT NULL, at INTEGER NOT NULL,
        PRIMARY KEY (device, to_seq, from_seq)
      );
    `,
    // 6. Dispatched pushes (dispatch.ts): when a job's last answer came, and each ended job's
    //    outcome, kept for the message's view until the message's record goes (keyed by seq first,
    //    so that goes by range).
    `
      ALTER TABLE push_jobs ADD COLUMN answered_at INTEGER;
      CREATE TABLE push_outcomes (
        seq INTEGER NOT NULL, device TEXT NOT NULL, channel TEXT NOT NULL, attempts INTEGER NOT NULL,
        last_status INTEGER, answered_at INTEGER NOT NULL,
        PRIMARY KEY (seq, device)
      ) WITHOUT ROWID;
    `,
    // 7. Publisher additions (contract v1.1): a message's collapseKey and ttlSeconds deadline on its
    //    rows in both sets (message-sets.ts), each with a partial index, so a publish finds the
    //    message its key replaces, and expiry the messages due, by index, while messages without
    //    them cost no index entry; and retract pushes in push_jobs (push-jobs.ts), marked by the end
    //    of their lifetime (NULL: a push of the message itself).
    `
      ALTER TABLE pending ADD COLUMN collapse_key TEXT;
      ALTER TABLE pending ADD COLUMN expires_at INTEGER;
      ALTER TABLE unread ADD COLUMN collapse_key TEXT;
      ALTER TABLE unread ADD COLUMN expires_at INTEGER;
      CREATE INDEX pending_by_collapse_key ON pending (collapse_key) WHERE collapse_key IS NOT NULL;
      CREATE INDEX unread_by_collapse_key ON unread (collapse_key) WHERE collapse_key IS NOT NULL;
      CREATE INDEX pending_by_expiry ON pending (expires_at) WHERE expires_at IS NOT NULL;
      CREATE INDEX unread_by_expiry ON unread (expires_at) WHERE expires_at IS NOT NULL;
      ALTER TABLE push_jobs ADD COLUMN retract_until INTEGER;
    `,
    // 8. Scheduled personal messages (scheduled.ts, src/shared/schedule.ts): each held message's
    //    content until its deliverAt, soonest first by the index.
    `
      CREATE TABLE scheduled (id TEXT PRIMARY KEY, deliver_at INTEGER NOT NULL, content TEXT NOT NULL);
      CREATE INDEX scheduled_by_time ON scheduled (deliver_at);
    `,
  ],
  unversionedTables: ["pending", "unread", "cursors", "idempotency", "inbox"],
};
