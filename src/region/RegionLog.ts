// One object per region: it numbers announcements 1, 2, 3 … and answers
// "newer than X" straight from the primary key. It also pushes each new
// announcement to the users that hold a live connection for the region (its
// followers), and only to them: a publish costs nothing per offline user.
//
// Retained ids are always one contiguous run oldest..head, because retention
// only ever removes the oldest rows (by count or by age). That makes the count
// `head - oldest + 1` and lets every read start at `id > X` without a scan.
//
// It counts the ids it assigns (announcements.published in GET /admin/v1/stats)
// in a StatsBuffer kept in its `region` row, flushed to their shard by the
// alarm, which serves whichever deadline comes first: the oldest
// announcement's expiry or the stats' flush.
import { DurableObject } from "cloudflare:workers";
import { config, type Env } from "../config";
import { inboxStub } from "../shared/objects";
import { migrate } from "../shared/migrations";
import { MeteredSql } from "../shared/sql";
import { StatsBuffer } from "../stats/buffer";
import { flushStats } from "../stats/flush";
import type { UserInbox } from "../user/UserInbox";
import { jsonWithLists, type Announcement, type MessageContent } from "../shared/schema";
import { regionSchema } from "./schema";
import { forgetTail, recordPublish, TAIL_SIZE, windowFromTail, type RegionTail } from "./tail-cache";
import { startAfter, windowAfter, type ReadFrom, type RegionHead, type StoredAnnouncement } from "./window";

export class RegionLog extends DurableObject<Env> {
  private readonly sql: MeteredSql;
  private region: RegionHead;
  /** Local arrival time of the oldest retained row: the next age-based deadline. */
  private oldestStoredAt: number | null = null;
  /** Pushes waiting to be sent, in publish order. */
  private readonly outbox: (() => void)[] = [];
  /** Reads served (polls and connects): how much load the region's users put on this object. */
  private reads = 0;
  /** Users with a live connection following this region, with their stubs (one stub keeps calls in order). */
  private readonly followers = new Map<string, DurableObjectStub<UserInbox>>();
  /** The ids assigned and not yet counted by the stats shard. */
  private readonly stats: StatsBuffer;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = new MeteredSql(ctx.storage.sql);
    migrate(ctx.storage, this.sql, regionSchema);
    const saved = this.sql.first<{ epoch: string; head: number; stats: string | null }>(
      "SELECT epoch, head, stats FROM region",
    );
    // The epoch is fixed the first time the region is used, read or written.
    const epoch = saved?.epoch ?? crypto.randomUUID().replaceAll("-", "").slice(0, 16);
    if (!saved) this.sql.run("INSERT INTO region (singleton, epoch, head) VALUES (1, ?, 0)", epoch);
    this.region = { epoch, head: saved?.head ?? 0, oldest: null };
    this.stats = StatsBuffer.from(saved?.stats ? JSON.parse(saved.stats) : null);
    this.loadOldest();
    // A copy of this region held in this isolate may predate this object's start (storage may be new).
    forgetTail(ctx.id.name!);
    for (const { user } of this.sql.all<{ user: string }>("SELECT user FROM followers")) this.addFollower(user);
  }

  async publish(regionName: string, content: MessageContent, createdAt: string): Promise<number> {
    this.dropExpired();
    const wasEmpty = this.region.oldest === null;
    const id = this.region.head + 1;
    const announcement: Announcement = { id, region: regionName, ...content, createdAt };
    const message = JSON.stringify(announcement);
    this.sql.run("INSERT INTO announcements (id, stored_at, message) VALUES (?, ?, ?)", id, Date.now(), message);
    const statsDueAt = this.stats.flushDueAt;
    this.stats.announcements(Date.parse(createdAt), 1);
    this.sql.run("UPDATE region SET head = ?, stats = ?", id, JSON.stringify(this.stats));
    this.region.head = id;
    const { ANNOUNCEMENT_LIMIT } = config(this.env);
    if (id - (this.region.oldest ?? id) + 1 > ANNOUNCEMENT_LIMIT) {
      this.sql.run("DELETE FROM announcements WHERE id <= ?", id - ANNOUNCEMENT_LIMIT);
      // The alarm stays aimed at the removed row's expiry: it fires early, removes nothing, re-aims.
      this.loadOldest();
    }
    if (wasEmpty || this.stats.flushDueAt !== statsDueAt) await this.armAlarm();
    recordPublish(regionName, this.region, { id, message });
    if (this.followers.size > 0) this.enqueuePush(regionName, { id, message });
    return id;
  }

  /**
   * The message request's view: announcements after the reader's cursor, with
   * gap and reset. A `follower` (a user opening a live connection) is pushed
   * every announcement after this read.
   */
  read(from: ReadFrom, limit: number, follower?: string) {
    this.reads++;
    if (follower !== undefined) this.follow(follower);
    this.dropExpired();
    return this.windowFor(from, limit);
  }

  /** read() plus the region's newest announcements, for the copy that user objects share (tail-cache.ts). */
  readWithTail(from: ReadFrom, limit: number) {
    this.reads++;
    this.dropExpired();
    const rows = this.sql.all<StoredAnnouncement>(
      "SELECT id, message FROM announcements WHERE id > ? ORDER BY id",
      this.region.head - TAIL_SIZE,
    );
    const tail: RegionTail = { ...this.region, rows };
    return { window: windowFromTail(tail, from, limit) ?? this.windowFor(from, limit), tail };
  }

  /** What this object has cost since it started: rows read and written, and reads served to polls and connects. */
  storageCost() {
    return { ...this.sql.cost, reads: this.reads };
  }

  /** The publisher's view as a JSON text: what is retained after `since`, plus the region's bounds. */
  list(regionName: string, since: number, limit: number): string {
    this.dropExpired();
    const rows = this.rowsAfter(since, limit).map((row) => row.message);
    return jsonWithLists({ announcements: rows }, { region: regionName, ...this.region });
  }

  follow(user: string) {
    if (this.followers.has(user)) return;
    this.sql.run("INSERT OR IGNORE INTO followers (user) VALUES (?)", user);
    this.addFollower(user);
  }

  unfollow(user: string) {
    this.sql.run("DELETE FROM followers WHERE user = ?", user);
    this.followers.delete(user);
  }

  async alarm() {
    this.dropExpired();
    if (this.stats.isDue()) {
      await flushStats(this.env, `region:${this.ctx.id.name}`, this.stats);
      this.sql.run("UPDATE region SET stats = ?", JSON.stringify(this.stats));
    }
    await this.armAlarm();
  }

  private addFollower(user: string) {
    this.followers.set(user, inboxStub(this.env, user));
  }

  /**
   * Queues a push to the followers of this moment (later ones read the
   * announcement in their catch-up). The queue is sent once this call has
   * answered, so the publisher never waits for the fan-out; one timer serves
   * the whole queue, however fast publishes come.
   */
  private enqueuePush(regionName: string, announcement: StoredAnnouncement) {
    const followers = [...this.followers];
    this.outbox.push(() => this.push(followers, regionName, announcement));
    if (this.outbox.length > 1) return;
    setTimeout(() => {
      for (const send of this.outbox.splice(0)) send();
    }, 0);
  }

  /**
   * Pushes a new announcement to each follower without awaiting them: a slow
   * or failing user delays no one.
   */
  private push(
    followers: [string, DurableObjectStub<UserInbox>][],
    regionName: string,
    announcement: StoredAnnouncement,
  ) {
    for (const [user, inbox] of followers) {
      inbox.deliverAnnouncement(regionName, announcement).then(
        (listening) => listening || this.unfollow(user),
        (error) => {
          // The user's live sockets catch up from their cursor on the next push; a fresh stub serves it.
          console.error(`postbox: pushing to ${user} failed`, error);
          if (this.followers.has(user)) this.addFollower(user);
        },
      );
    }
  }

  private windowFor(from: ReadFrom, limit: number) {
    const start = startAfter(this.region, from);
    return windowAfter(this.region, start, this.rowsAfter(start.after, limit + 1), limit);
  }

  private rowsAfter(after: number, limit: number): StoredAnnouncement[] {
    return this.sql
      .all<StoredAnnouncement>("SELECT id, message FROM announcements WHERE id > ? ORDER BY id LIMIT ?", after, limit);
  }

  /**
   * Removes announcements older than the TTL. Rows arrive in id order, so the
   * expired ones are a prefix; checked on every call so that a late alarm
   * never lets a reader see an expired announcement.
   */
  private dropExpired() {
    const cutoff = Date.now() - config(this.env).ANNOUNCEMENT_TTL_SECONDS * 1000;
    if (this.oldestStoredAt === null || this.oldestStoredAt > cutoff) return;
    const firstLive = this.sql
      .first<{ id: number }>("SELECT id FROM announcements WHERE stored_at > ? ORDER BY id LIMIT 1", cutoff);
    this.sql.run("DELETE FROM announcements WHERE id < ?", firstLive?.id ?? this.region.head + 1);
    this.loadOldest();
    forgetTail(this.ctx.id.name!);
  }

  private loadOldest() {
    const oldest = this.sql
      .first<{ id: number; stored_at: number }>("SELECT id, stored_at FROM announcements ORDER BY id LIMIT 1");
    this.region.oldest = oldest?.id ?? null;
    this.oldestStoredAt = oldest?.stored_at ?? null;
  }

  /** Aims the alarm at the earliest deadline: the oldest retained announcement's expiry, or the stats' flush. */
  private async armAlarm() {
    this.loadOldest();
    const expiresAt =
      this.oldestStoredAt === null ? null : this.oldestStoredAt + config(this.env).ANNOUNCEMENT_TTL_SECONDS * 1000;
    const deadlines = [expiresAt, this.stats.flushDueAt].filter((at) => at !== null);
    if (deadlines.length === 0) return this.ctx.storage.deleteAlarm();
    await this.ctx.storage.setAlarm(Math.min(...deadlines));
  }
}
