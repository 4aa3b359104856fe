// One object per region: it numbers announcements 1, 2, 3 … and answers
// "newer than X" straight from the primary key. It also pushes each new
// announcement to the users that hold a live connection for the region (its
// followers), and only to them: a publish costs nothing per offline user.
//
// Retained ids are always one contiguous run oldest..head, because retention
// only ever removes the oldest rows (by count or by age). That makes the count
// `head - oldest + 1` and lets every read start at `id > X` without a scan.
// A retracted announcement stays in that run as a tombstone (its row, its text
// emptied), which every read passes over: so it is never a gap, its id is
// never reused, and it counts for retention as before.
//
// It counts the ids it assigns (announcements.published in GET /admin/v1/stats)
// in a StatsBuffer kept in its `region` row, flushed to their shard by the
// alarm, which serves whichever deadline comes first: the oldest
// announcement's expiry, the stats' flush or the oldest Idempotency-Key's
// expiry (idempotency.ts: the keys of publishes in this region) or the
// soonest scheduled announcement (src/shared/schedule.ts: this region's copy of
// each, delivered here at its deliverAt with that instant as its createdAt, so
// every region's copy has the same one).
import { DurableObject } from "cloudflare:workers";
import { config, type Env } from "../config";
import { inboxStub } from "../shared/objects";
import { migrate } from "../shared/migrations";
import type { ScheduledAnswer, ScheduledEntry } from "../shared/responses";
import { Schedule } from "../shared/schedule";
import { MeteredSql } from "../shared/sql";
import { StatsBuffer } from "../stats/buffer";
import { flushStats } from "../stats/flush";
import { IDEMPOTENCY_TTL_MS, type IdempotencyKey } from "../user/idempotency";
import type { UserInbox } from "../user/UserInbox";
import { jsonWithLists, type Announcement, type MessageContent } from "../shared/schema";
import { AnnouncementKeys, type RegionAnswer } from "./idempotency";
import { regionSchema } from "./schema";
import { forgetTail, recordPublish, recordRetract, TAIL_SIZE, windowFromTail, type RegionTail } from "./tail-cache";
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
  private readonly keys: AnnouncementKeys;
  /** When the oldest Idempotency-Key held expires (null: none held), one of the alarm's deadlines. */
  private keysExpireAt: number | null;
  private readonly held: Schedule;

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
    this.keys = new AnnouncementKeys(this.sql);
    this.keysExpireAt = this.keys.nextExpiry();
    this.held = new Schedule(this.sql);
    this.loadOldest();
    // A copy of this region held in this isolate may predate this object's start (storage may be new).
    forgetTail(ctx.id.name!);
    for (const { user } of this.sql.all<{ user: string }>("SELECT user FROM followers")) this.addFollower(user);
  }

  async publish(regionName: string, content: MessageContent, createdAt: string): Promise<number> {
    this.dueFirst();
    const armedAt = this.earliestDeadline();
    const stored = this.append(regionName, content, createdAt);
    await this.announced(regionName, stored, armedAt);
    return stored.id;
  }

  /**
   * A publish under an Idempotency-Key: the answer this region gave under the
   * key before (nothing is published), "conflict" when that was for another
   * body, else a new announcement, stored in one step with the key.
   */
  async publishOnce(
    regionName: string,
    content: MessageContent,
    createdAt: string,
    idempotency: IdempotencyKey,
  ): Promise<RegionAnswer | "conflict"> {
    const now = Date.now();
    const earlier = this.keys.earlierAnswer(idempotency, now);
    if (earlier) return earlier;
    this.dueFirst();
    const armedAt = this.earliestDeadline();
    // Both or neither: a retry publishes exactly in the regions where this did not.
    const stored = this.ctx.storage.transactionSync(() => {
      this.keys.remember(idempotency, { id: this.region.head + 1, createdAt }, now);
      return this.append(regionName, content, createdAt);
    });
    this.keysExpireAt ??= now + IDEMPOTENCY_TTL_MS;
    await this.announced(regionName, stored, armedAt);
    return { id: stored.id, createdAt };
  }

  /** What this region answered under the key, "conflict" for another body, undefined when it holds no such key. */
  recall(idempotency: IdempotencyKey): RegionAnswer | "conflict" | undefined {
    return this.keys.earlierAnswer(idempotency, Date.now());
  }

  /**
   * Holds this region's copy of a scheduled announcement until `deliverAt`
   * (ms), under the id all its regions share; `regions` are all of them, which
   * the region the id names answers a cancel with. Under a key: the earlier
   * answer, or the key stored with the copy in one step. A copy already due (a
   * retry after deliverAt, in a region the first try missed) is published now.
   */
  async schedule(
    id: string,
    deliverAt: number,
    content: MessageContent,
    regions: readonly string[],
    idempotency?: IdempotencyKey,
  ): Promise<RegionAnswer | "conflict"> {
    const now = Date.now();
    const earlier = idempotency && this.keys.earlierAnswer(idempotency, now);
    if (earlier) return earlier;
    this.dueFirst();
    const armedAt = this.earliestDeadline();
    const answer: ScheduledAnswer = { scheduled: id, deliverAt: new Date(deliverAt).toISOString() };
    this.ctx.storage.transactionSync(() => {
      if (idempotency) this.keys.remember(idempotency, answer, now);
      this.held.hold(id, deliverAt, content);
      this.sql.run("UPDATE scheduled SET regions = ? WHERE id = ?", JSON.stringify(regions), id);
    });
    if (idempotency) this.keysExpireAt ??= now + IDEMPOTENCY_TTL_MS;
    this.deliverDue();
    await this.armIfEarlier(armedAt);
    return answer;
  }

  /** GET /admin/v1/regions/{regionId}/scheduled: this region's copies held, soonest first. */
  scheduledAnnouncements(): { scheduled: ScheduledEntry[] } {
    this.dueFirst();
    return { scheduled: this.held.list() };
  }

  /** The regions of scheduled announcement `id` while this region holds its copy; null once delivered or cancelled (or never held). */
  scheduledRegions(id: string): string[] | null {
    this.dueFirst();
    const row = this.sql.first<{ regions: string }>("SELECT regions FROM scheduled WHERE id = ?", id);
    return row ? JSON.parse(row.regions) : null;
  }

  /** Cancels this region's copy of scheduled announcement `id`: whether it was held and now is not. */
  cancelScheduled(id: string): boolean {
    this.dueFirst();
    // The alarm stays where it is: it fires early, delivers nothing, re-aims.
    return this.held.cancel(id);
  }

  /**
   * The message request's view: announcements after the reader's cursor, with
   * gap and reset. A `follower` (a user opening a live connection) is pushed
   * every announcement after this read.
   */
  read(from: ReadFrom, limit: number, follower?: string) {
    this.reads++;
    if (follower !== undefined) this.follow(follower);
    this.dueFirst();
    return this.windowFor(from, limit);
  }

  /** read() plus the region's newest announcements, for the copy that user objects share (tail-cache.ts). */
  readWithTail(from: ReadFrom, limit: number) {
    this.reads++;
    this.dueFirst();
    const rows = this.sql.all<StoredAnnouncement>(
      "SELECT id, message FROM announcements WHERE id > ? AND retracted = 0 ORDER BY id",
      this.region.head - TAIL_SIZE,
    );
    const tail: RegionTail = { ...this.region, rows };
    return { window: windowFromTail(tail, from, limit) ?? this.windowFor(from, limit), tail };
  }

  /**
   * Retracts a retained announcement: its row becomes a tombstone, this
   * isolate's copy drops it, and the followers are told. Answers whether this
   * call retracted it (false: not retained, or retracted already).
   */
  retract(regionName: string, id: number): boolean {
    this.dueFirst();
    const changed = this.sql.run(
      "UPDATE announcements SET retracted = 1, message = '' WHERE id = ? AND retracted = 0 RETURNING id",
      id,
    );
    if (changed === 0) return false;
    recordRetract(regionName, id);
    if (this.followers.size > 0) this.enqueuePush((inbox) => inbox.retractAnnouncement(regionName, id));
    return true;
  }

  /** What this object has cost since it started: rows read and written, and reads served to polls and connects. */
  storageCost() {
    return { ...this.sql.cost, reads: this.reads };
  }

  /** The publisher's view as a JSON text: what is retained after `since`, plus the region's bounds. */
  list(regionName: string, since: number, limit: number): string {
    this.dueFirst();
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
    this.dueFirst();
    this.keysExpireAt = this.keys.removeExpired(Date.now());
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
   * Queues a push (an announcement, a retract) to the followers of this moment
   * (later ones read the region in their catch-up). The queue is sent in order
   * once this call has answered, so the publisher never waits for the fan-out;
   * one timer serves the whole queue, however fast publishes come.
   */
  private enqueuePush(deliver: (inbox: DurableObjectStub<UserInbox>) => Promise<boolean>) {
    const followers = [...this.followers];
    this.outbox.push(() => this.push(followers, deliver));
    if (this.outbox.length > 1) return;
    setTimeout(() => {
      for (const send of this.outbox.splice(0)) send();
    }, 0);
  }

  /**
   * Pushes to each follower without awaiting them: a slow or failing user
   * delays no one.
   */
  private push(
    followers: [string, DurableObjectStub<UserInbox>][],
    deliver: (inbox: DurableObjectStub<UserInbox>) => Promise<boolean>,
  ) {
    for (const [user, inbox] of followers) {
      deliver(inbox).then(
        (listening) => listening || this.unfollow(user),
        (error) => {
          // The user's live sockets catch up from their cursor on the next push; a fresh stub serves it.
          console.error(`postbox: pushing to ${user} failed`, error);
          if (this.followers.has(user)) this.addFollower(user);
        },
      );
    }
  }

  /** Stores the next announcement (count retention included); announced() does the rest of the publish. */
  private append(regionName: string, content: MessageContent, createdAt: string): StoredAnnouncement {
    const id = this.region.head + 1;
    const announcement: Announcement = { id, region: regionName, ...content, createdAt };
    const message = JSON.stringify(announcement);
    const storedAt = Date.now();
    this.sql.run("INSERT INTO announcements (id, stored_at, message) VALUES (?, ?, ?)", id, storedAt, message);
    this.stats.announcements(Date.parse(createdAt), 1);
    this.sql.run("UPDATE region SET head = ?, stats = ?", id, JSON.stringify(this.stats));
    this.region.head = id;
    this.region.oldest ??= id;
    this.oldestStoredAt ??= storedAt;
    const { ANNOUNCEMENT_LIMIT } = config(this.env);
    if (id - this.region.oldest + 1 > ANNOUNCEMENT_LIMIT) {
      this.sql.run("DELETE FROM announcements WHERE id <= ?", id - ANNOUNCEMENT_LIMIT);
      // The alarm stays aimed at the removed row's expiry: it fires early, removes nothing, re-aims.
      this.loadOldest();
    }
    return { id, message };
  }

  /** After a publish stored `stored`: the alarm brought forward if a deadline came before `armedAt`, the copy, the push. */
  private async announced(regionName: string, stored: StoredAnnouncement, armedAt: number | null) {
    await this.armIfEarlier(armedAt);
    this.spread(regionName, stored);
  }

  /** A new announcement goes to this isolate's copy of the region and to the followers. */
  private spread(regionName: string, stored: StoredAnnouncement) {
    recordPublish(regionName, this.region, stored);
    if (this.followers.size > 0) this.enqueuePush((inbox) => inbox.deliverAnnouncement(regionName, stored));
  }

  /** Brings the alarm forward when a deadline now comes before `armedAt`, where it was aimed. */
  private async armIfEarlier(armedAt: number | null) {
    const due = this.earliestDeadline();
    if (due !== null && (armedAt === null || due < armedAt)) await this.armAlarm();
  }

  /**
   * Every call starts here: what expired goes and what is due is published,
   * so a late alarm never shows an expired announcement nor hides a due one.
   */
  private dueFirst() {
    this.dropExpired();
    this.deliverDue();
  }

  /**
   * Publishes the scheduled copies now due, soonest first, each with its
   * deliverAt as createdAt. Taking their rows and storing them is one
   * transaction, so a retried alarm or a restart never publishes one twice.
   */
  private deliverDue() {
    const now = Date.now();
    const next = this.held.nextAt;
    if (next === null || next > now) return;
    const regionName = this.ctx.id.name!;
    const stored = this.ctx.storage.transactionSync(() =>
      this.held.takeDue(now).map((due) => this.append(regionName, due.content, new Date(due.deliverAt).toISOString())),
    );
    for (const announcement of stored) this.spread(regionName, announcement);
    // Their stats' flush is a new deadline.
    void this.armAlarm();
  }

  private windowFor(from: ReadFrom, limit: number) {
    const start = startAfter(this.region, from);
    return windowAfter(this.region, start, this.rowsAfter(start.after, limit + 1), limit);
  }

  private rowsAfter(after: number, limit: number): StoredAnnouncement[] {
    return this.sql
      .all<StoredAnnouncement>(
        "SELECT id, message FROM announcements WHERE id > ? AND retracted = 0 ORDER BY id LIMIT ?",
        after,
        limit,
      );
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

  /** The earliest deadline: the oldest retained announcement's expiry, the stats' flush, the oldest key's expiry, the soonest scheduled copy. */
  private earliestDeadline(): number | null {
    const expiresAt =
      this.oldestStoredAt === null ? null : this.oldestStoredAt + config(this.env).ANNOUNCEMENT_TTL_SECONDS * 1000;
    const deadlines = [expiresAt, this.stats.flushDueAt, this.keysExpireAt, this.held.nextAt].filter((at) => at !== null);
    return deadlines.length === 0 ? null : Math.min(...deadlines);
  }

  /** Aims the alarm at the earliest deadline; an alarm that fires early does nothing but aim again. */
  private async armAlarm() {
    this.loadOldest();
    const at = this.earliestDeadline();
    if (at === null) return this.ctx.storage.deleteAlarm();
    await this.ctx.storage.setAlarm(at);
  }
}
