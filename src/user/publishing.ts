// A personal message published to this user: it takes the next seq and joins
// both sets, whose oldest messages are evicted at their limits (told to the
// devices, for their `dropped`); the user's message with its collapseKey, if
// any, is withdrawn first (retraction.ts); its idempotency key is remembered,
// and the deadlines move. Nothing here is per device: a message is pending for
// every device above whose acknowledgement it lies (devices.ts).
import type { Config } from "../config";
import type { PublishAnswer } from "../shared/responses";
import type { PersonalContent, PersonalMessage } from "../shared/schema";
import type { Deliveries } from "./deliveries";
import type { Devices } from "./devices";
import type { Expiry } from "./expiry";
import type { IdempotencyKey, IdempotencyKeys } from "./idempotency";
import type { MessageSets } from "./message-sets";
import type { Retraction } from "./retraction";
import type { InboxState } from "./state";

/** A repeated key's earlier answer (or its conflict), or a new message's answer and JSON text. */
export type Published = { repeat: PublishAnswer | "conflict" } | { answer: PublishAnswer; message: string };

export class Publishing {
  constructor(
    private readonly settings: () => Config,
    private readonly sets: MessageSets,
    private readonly keys: IdempotencyKeys,
    private readonly expiry: Expiry,
    private readonly state: InboxState,
    private readonly devices: Devices,
    private readonly deliveries: Deliveries,
    private readonly retraction: Retraction,
  ) {}

  /** `pushed`: how many devices the message is being pushed to (dispatch.ts), for the answer. */
  publish(content: PersonalContent, idempotency: IdempotencyKey | undefined, pushed: number): Published {
    const now = Date.now();
    if (idempotency) {
      // A repeat writes nothing: what clearDue cleared is written by the next flush, or after a
      // restart cleared again, its deadline being still past.
      const earlier = this.keys.earlierAnswer(idempotency, now);
      if (earlier !== undefined) return { repeat: earlier };
    }
    const { PENDING_LIMIT, UNREAD_LIMIT, PENDING_TTL_SECONDS } = this.settings();
    const { values } = this.state;
    const seq = values.lastSeq + 1;
    const createdAt = new Date(now).toISOString();
    const message = JSON.stringify({ seq, ...content, createdAt } satisfies PersonalMessage);
    const replaced = this.replace(content.collapseKey, now);
    const { collapseKey = null, ttlSeconds } = content;
    const expiresAt = ttlSeconds === undefined ? null : now + ttlSeconds * 1000;
    this.sets.add(seq, message, collapseKey, expiresAt);
    this.deliveries.published(seq, now);
    const evicted = this.sets.removeOldest("pending", values.pendingCount + 1 - PENDING_LIMIT);
    const evictedUnread = this.sets.removeOldest("unread", values.unreadCount + 1 - UNREAD_LIMIT);
    this.deliveries.leftPending(evicted, "evicted", now);
    this.devices.evicted(evicted);
    // Two at a time keep up with one new record per publish, at two rows read.
    this.deliveries.prune(now - PENDING_TTL_SECONDS * 1000, 2);
    const answer: PublishAnswer = { seq, createdAt, evicted: evicted.length, pushed, replaced };
    if (idempotency) this.keys.remember(idempotency, answer, now);
    this.state.update({
      lastSeq: seq,
      pendingCount: values.pendingCount + 1 - evicted.length,
      unreadCount: values.unreadCount + 1 - evictedUnread.length,
      ...this.expiry.afterPublish(now, idempotency !== undefined, expiresAt),
    });
    return { answer, message };
  }

  /** Withdraws the user's message with this collapseKey that is still pending or unread; answers its seq, or null. */
  private replace(collapseKey: string | undefined, now: number): number | null {
    const seq = collapseKey === undefined ? undefined : this.sets.withCollapseKey(collapseKey);
    if (seq === undefined) return null;
    this.retraction.withdraw(seq, now);
    return seq;
  }
}
