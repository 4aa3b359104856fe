// The user's five deadlines and what passing them clears: a message with
// ttlSeconds leaves both sets that long after its publish, the pending set
// expires PENDING_TTL_SECONDS after its newest message, the unread set
// UNREAD_TTL_SECONDS after its newest, the idempotency keys one by one, and a
// device unseen for DEVICE_TTL_SECONDS is forgotten (the pending set then lets
// go of what only it had pending).
// The deadlines live in the state row, which keeps the object's one alarm at
// the earliest of them (state.ts).
import type { Config } from "../config";
import type { Deliveries } from "./deliveries";
import type { Devices } from "./devices";
import { IDEMPOTENCY_TTL_MS, type IdempotencyKeys } from "./idempotency";
import type { MessageSets } from "./message-sets";
import type { Receipts } from "./receipts";
import type { InboxState, InboxValues } from "./state";

type Deadlines = Pick<InboxValues, "pendingExpiresAt" | "unreadExpiresAt" | "idempotencyExpiresAt" | "messagesExpireAt">;

export class Expiry {
  constructor(
    private readonly settings: () => Config,
    private readonly sets: MessageSets,
    private readonly keys: IdempotencyKeys,
    private readonly state: InboxState,
    private readonly devices: Devices,
    private readonly receipts: Receipts,
    private readonly deliveries: Deliveries,
    /** Whether a device holds an open live connection, which keeps it seen. */
    private readonly isLive: (device: string) => boolean,
  ) {}

  /**
   * The deadlines after a publish at `now` of a message that expires at `messageExpiresAt` (null:
   * with its sets): both sets' TTLs start again; the keys' stays the oldest key's.
   */
  afterPublish(now: number, keyed: boolean, messageExpiresAt: number | null): Deadlines {
    const { PENDING_TTL_SECONDS, UNREAD_TTL_SECONDS } = this.settings();
    const { idempotencyExpiresAt, messagesExpireAt } = this.state.values;
    return {
      pendingExpiresAt: now + PENDING_TTL_SECONDS * 1000,
      unreadExpiresAt: now + UNREAD_TTL_SECONDS * 1000,
      idempotencyExpiresAt: idempotencyExpiresAt ?? (keyed ? now + IDEMPOTENCY_TTL_MS : null),
      messagesExpireAt: earliest(messagesExpireAt, messageExpiresAt),
    };
  }

  /**
   * Clears each set whose deadline has passed. Called at the start of every
   * method as well as by the alarm, so a late alarm never shows an expired
   * message; running it twice changes nothing the second time. It edits the
   * state without flushing: the flush that ends the method writes it.
   */
  clearDue() {
    const now = Date.now();
    const { values } = this.state;
    // First, as their deadlines are never later than the pending set's (ttlSeconds ≤ PENDING_TTL_SECONDS): a pair
    // they end is `expired` at its own message's deadline.
    if (values.messagesExpireAt !== null && values.messagesExpireAt <= now) this.clearExpiredMessages(now);
    if (values.pendingExpiresAt !== null && values.pendingExpiresAt <= now) {
      this.deliveries.leftPending(this.sets.clear("pending"), "expired", values.pendingExpiresAt);
      Object.assign(values, { pendingCount: 0, pendingExpiresAt: null });
      // Nothing is pending now, so every record old enough may go.
      this.deliveries.prune(now - this.settings().PENDING_TTL_SECONDS * 1000, Number.MAX_SAFE_INTEGER);
    }
    if (values.unreadExpiresAt !== null && values.unreadExpiresAt <= now) {
      this.sets.clear("unread");
      Object.assign(values, { unreadCount: 0, unreadExpiresAt: null });
    }
    if (values.idempotencyExpiresAt !== null && values.idempotencyExpiresAt <= now) {
      values.idempotencyExpiresAt = this.keys.removeExpired(now);
    }
    if (values.devicesForgetAt !== null && values.devicesForgetAt <= now) {
      if (this.devices.forgetUnseen(now, this.isLive).length > 0) this.receipts.keepPendingForKnown();
      values.devicesForgetAt = this.devices.nextForgetAt(this.isLive);
    }
  }

  /** The messages whose ttlSeconds have run out leave both sets, each pair still pending `expired` at its message's deadline. */
  private clearExpiredMessages(now: number) {
    const { values } = this.state;
    const { pending, unread } = this.sets.removeExpired(now);
    const byDeadline = Map.groupBy(pending, (message) => message.expiresAt);
    for (const [at, messages] of byDeadline) this.deliveries.leftPending(messages.map((message) => message.seq), "expired", at);
    values.pendingCount -= pending.length;
    values.unreadCount -= unread;
    values.messagesExpireAt = this.sets.nextExpiry();
  }
}

const earliest = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : Math.min(a, b));
