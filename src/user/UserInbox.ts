// One object per user: the pending set (not yet received), the unread set (not
// yet read), the announcement cursor per region, and publishers' idempotency keys.
//
// The object is single-threaded and every change below is synchronous SQL, so
// each method sees and leaves one consistent state. The only await that lets
// other requests in is the call to the region in poll(); everything that
// depends on the pending set happens after it.
import { DurableObject } from "cloudflare:workers";
import { config, type Env } from "../config";
import type { ReadFrom } from "../region/window";
import { jsonWithLists, type MessageContent, type PersonalMessage, type ReadReceipt } from "../shared/schema";
import { IDEMPOTENCY_TTL_MS, InboxState } from "./state";

export interface PollRequest {
  /** The region named by the token or the request; undefined falls back to the stored one. */
  region?: string;
  since?: number;
  /** Qualifies `since` only; ignored without it. */
  epoch?: string;
  ack?: number;
  consume: boolean;
  limit: number;
}

export type PublishResult = { seq: number; createdAt: string; evicted: number };
export type IdempotencyKey = { key: string; bodyHash: string };

export class UserInbox extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly state: InboxState;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS pending (seq INTEGER PRIMARY KEY, message TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS unread (seq INTEGER PRIMARY KEY, message TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS cursors (region TEXT PRIMARY KEY, epoch TEXT NOT NULL, cursor INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS idempotency (
        key TEXT PRIMARY KEY, body_hash TEXT NOT NULL, result TEXT NOT NULL, stored_at INTEGER NOT NULL
      );
    `);
    this.state = new InboxState(ctx);
  }

  async publish(content: MessageContent, idempotency?: IdempotencyKey): Promise<PublishResult | "conflict"> {
    this.expireDue();
    const now = Date.now();
    if (idempotency) {
      const earlier = this.sql
        .exec<{ body_hash: string; result: string }>(
          "SELECT body_hash, result FROM idempotency WHERE key = ? AND stored_at > ?",
          idempotency.key,
          now - IDEMPOTENCY_TTL_MS,
        )
        .toArray()[0];
      if (earlier) return earlier.body_hash === idempotency.bodyHash ? JSON.parse(earlier.result) : "conflict";
    }
    const { PENDING_LIMIT, UNREAD_LIMIT, PENDING_TTL_SECONDS, UNREAD_TTL_SECONDS } = config(this.env);
    const seq = this.state.values.lastSeq + 1;
    const createdAt = new Date(now).toISOString();
    const message = JSON.stringify({ seq, ...content, createdAt } satisfies PersonalMessage);
    this.sql.exec("INSERT INTO pending (seq, message) VALUES (?, ?)", seq, message);
    this.sql.exec("INSERT INTO unread (seq, message) VALUES (?, ?)", seq, message);
    const evicted = this.evictOldest("pending", this.state.values.pendingCount + 1 - PENDING_LIMIT);
    const evictedUnread = this.evictOldest("unread", this.state.values.unreadCount + 1 - UNREAD_LIMIT);
    const result: PublishResult = { seq, createdAt, evicted };
    if (idempotency) {
      this.sql.exec(
        "INSERT OR REPLACE INTO idempotency (key, body_hash, result, stored_at) VALUES (?, ?, ?, ?)",
        idempotency.key,
        idempotency.bodyHash,
        JSON.stringify(result),
        now,
      );
    }
    const { values } = this.state;
    await this.state.save({
      lastSeq: seq,
      pendingCount: values.pendingCount + 1 - evicted,
      unreadCount: values.unreadCount + 1 - evictedUnread,
      dropped: values.dropped + evicted,
      pendingExpiresAt: now + PENDING_TTL_SECONDS * 1000,
      unreadExpiresAt: now + UNREAD_TTL_SECONDS * 1000,
      idempotencyExpiresAt: values.idempotencyExpiresAt ?? (idempotency ? now + IDEMPOTENCY_TTL_MS : null),
    });
    return result;
  }

  /** The message request, answered as JSON text: pending personal messages plus announcements after the cursor. */
  async poll(request: PollRequest) {
    const region = request.region ?? this.state.values.region;
    const window = region === null ? null : await this.readRegion(region, request);

    // From here on nothing awaits until the state is saved: one consistent step.
    this.expireDue();
    if (request.ack !== undefined) this.removePending("seq <= ?", request.ack);
    const rows = this.sql
      .exec<{ seq: number; message: string }>("SELECT seq, message FROM pending ORDER BY seq LIMIT ?", request.limit + 1)
      .toArray();
    const personal = rows.slice(0, request.limit);
    const lastSeq = personal.at(-1)?.seq ?? null;
    if (request.consume && lastSeq !== null) this.removePending("seq <= ?", lastSeq);
    if (region !== null && window) this.storeCursor(region, window.epoch, window.cursor);
    const dropped = this.state.values.dropped;
    await this.state.save({ dropped: 0 });
    const lists = { personal: personal.map((row) => row.message), announcements: window?.announcements ?? [] };
    return jsonWithLists(lists, {
      region,
      cursor: window?.cursor ?? null,
      epoch: window?.epoch ?? null,
      ack: lastSeq,
      dropped,
      gap: window?.gap ?? false,
      reset: window?.reset ?? false,
      more: rows.length > request.limit || (window?.more ?? false),
    });
  }

  /** Reads the region from the client's cursor, else the stored one; a user with neither starts at the head. */
  private readRegion(region: string, request: PollRequest) {
    const stored = this.cursorIn(region);
    const from: ReadFrom =
      request.since !== undefined ? { since: request.since, epoch: request.epoch } : (stored ?? null);
    return this.env.REGIONS.getByName(region).read(from, request.limit);
  }

  private cursorIn(region: string) {
    return this.sql
      .exec<{ since: number; epoch: string }>("SELECT cursor AS since, epoch FROM cursors WHERE region = ?", region)
      .toArray()[0];
  }

  private storeCursor(region: string, epoch: string, cursor: number) {
    this.sql.exec("INSERT OR REPLACE INTO cursors (region, epoch, cursor) VALUES (?, ?, ?)", region, epoch, cursor);
  }

  async ack(upTo: number) {
    this.expireDue();
    this.removePending("seq <= ?", upTo);
    await this.state.save({});
    return { pending: this.state.values.pendingCount };
  }

  /** A read receipt: the messages are read, so they are neither unread nor pending any more. */
  async markRead(receipt: ReadReceipt) {
    this.expireDue();
    // One JSON parameter rather than one per seq: bound parameters per statement are limited.
    const [where, arg] =
      "upTo" in receipt
        ? ["seq <= ?", receipt.upTo]
        : ["seq IN (SELECT value FROM json_each(?))", JSON.stringify(receipt.seqs)];
    this.removePending(where, arg);
    const removed = this.sql.exec(`DELETE FROM unread WHERE ${where} RETURNING seq`, arg).toArray().length;
    await this.state.save({ unreadCount: this.state.values.unreadCount - removed });
    return { unread: this.state.values.unreadCount };
  }

  async unread(limit: number) {
    this.expireDue();
    await this.state.save({});
    const messages = this.sql
      .exec<{ message: string }>("SELECT message FROM unread ORDER BY seq LIMIT ?", limit)
      .toArray()
      .map((row) => row.message);
    return jsonWithLists({ messages }, { count: this.state.values.unreadCount });
  }

  async setRegion(region: string | null) {
    await this.state.save({ region });
    return region;
  }

  /** The publisher's view of this user. */
  async describe() {
    this.expireDue();
    await this.state.save({});
    const { values } = this.state;
    const bounds = this.sql
      .exec<{ oldest: number | null; newest: number | null }>("SELECT min(seq) AS oldest, max(seq) AS newest FROM pending")
      .one();
    const cursors = Object.fromEntries(
      this.sql
        .exec<{ region: string; cursor: number }>("SELECT region, cursor FROM cursors ORDER BY region")
        .toArray()
        .map((row) => [row.region, row.cursor]),
    );
    return {
      region: values.region,
      pending: {
        count: values.pendingCount,
        oldestSeq: bounds.oldest,
        newestSeq: bounds.newest,
        expiresAt: values.pendingCount > 0 ? isoOrNull(values.pendingExpiresAt) : null,
      },
      unread: {
        count: values.unreadCount,
        expiresAt: values.unreadCount > 0 ? isoOrNull(values.unreadExpiresAt) : null,
      },
      cursors,
    };
  }

  async alarm() {
    this.state.alarmFired();
    this.expireDue();
    await this.state.save({});
  }

  /** Removes the oldest `excess` rows of a set (none when excess ≤ 0) and says how many went. */
  private evictOldest(set: "pending" | "unread", excess: number): number {
    if (excess <= 0) return 0;
    return this.sql
      .exec(`DELETE FROM ${set} WHERE seq IN (SELECT seq FROM ${set} ORDER BY seq LIMIT ?) RETURNING seq`, excess)
      .toArray().length;
  }

  private removePending(where: string, arg: number | string) {
    const removed = this.sql.exec(`DELETE FROM pending WHERE ${where} RETURNING seq`, arg).toArray().length;
    this.state.values.pendingCount -= removed;
  }

  /**
   * Clears each set whose deadline has passed. Called at the start of every
   * method as well as by the alarm, so a late alarm never shows an expired
   * message; running it twice changes nothing the second time.
   */
  private expireDue() {
    const now = Date.now();
    const { values } = this.state;
    if (values.pendingExpiresAt !== null && values.pendingExpiresAt <= now) {
      this.sql.exec("DELETE FROM pending");
      Object.assign(values, { pendingCount: 0, pendingExpiresAt: null });
    }
    if (values.unreadExpiresAt !== null && values.unreadExpiresAt <= now) {
      this.sql.exec("DELETE FROM unread");
      Object.assign(values, { unreadCount: 0, unreadExpiresAt: null });
    }
    if (values.idempotencyExpiresAt !== null && values.idempotencyExpiresAt <= now) {
      this.sql.exec("DELETE FROM idempotency WHERE stored_at <= ?", now - IDEMPOTENCY_TTL_MS);
      const next = this.sql
        .exec<{ stored_at: number }>("SELECT stored_at FROM idempotency ORDER BY stored_at LIMIT 1")
        .toArray()[0];
      values.idempotencyExpiresAt = next ? next.stored_at + IDEMPOTENCY_TTL_MS : null;
    }
  }
}

function isoOrNull(ms: number | null) {
  return ms === null ? null : new Date(ms).toISOString();
}
