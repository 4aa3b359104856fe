// What this user's object shows as it is: the unread set, the publisher's view
// of the user, and what its storage has cost. Reads only.
import type { MessageDelivery, UserView } from "../shared/responses";
import { DEFAULT_DEVICE, jsonWithLists } from "../shared/schema";
import type { MeteredSql } from "../shared/sql";
import type { Cursors } from "./cursors";
import type { Deliveries } from "./deliveries";
import type { PushOutcome } from "./push-jobs";
import type { Devices } from "./devices";
import type { MessageSets } from "./message-sets";
import type { PushRegistrations } from "./push-registrations";
import type { Receipts } from "./receipts";
import type { InboxState } from "./state";

export class Views {
  constructor(
    private readonly sql: MeteredSql,
    private readonly sets: MessageSets,
    private readonly state: InboxState,
    private readonly cursors: Cursors,
    private readonly devices: Devices,
    private readonly receipts: Receipts,
    private readonly isLive: (device: string) => boolean,
    private readonly registrations: PushRegistrations,
    private readonly deliveries: Deliveries,
  ) {}

  /** The unread count and the oldest `limit` unread messages, as JSON text, and the seqs it returns. */
  unread(limit: number) {
    const rows = this.sets.oldest("unread", limit);
    const text = jsonWithLists({ messages: rows.map((row) => row.message) }, { count: this.state.values.unreadCount });
    return { text, seqs: rows.map((row) => row.seq) };
  }

  /** The publisher's view of this user. */
  describe(): Omit<UserView, "userId"> {
    const { values } = this.state;
    const bounds = this.sets.pendingBounds();
    const channels = this.registrations.channels();
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
      cursors: this.cursors.byRegion(DEFAULT_DEVICE),
      devices: Object.fromEntries(
        this.devices.known().map((device) => [
          device.id,
          {
            pending: this.receipts.pendingFor(device),
            acked: device.acked,
            // An open live connection keeps its device seen: it is seen now.
            lastSeenAt: new Date(this.isLive(device.id) ? Date.now() : device.seenAt).toISOString(),
            cursors: this.cursors.byRegion(device.id),
            push: channels.get(device.id) ?? null,
          },
        ]),
      ),
    };
  }

  /** GET /admin/v1/users/{userId}/messages/{seq} without the user id; null for a seq not recorded. */
  delivery(seq: number, pushes: Map<string, PushOutcome>): MessageDelivery | null {
    const view = this.deliveries.view(seq);
    if (!view) return null;
    const devices: MessageDelivery["devices"] = {};
    for (const [device, { outcome, at }] of view.devices) {
      const push = pushes.get(device);
      devices[device] = { outcome, at: isoOrNull(at), push: push ? { ...push, at: new Date(push.at).toISOString() } : null };
    }
    return { seq, createdAt: new Date(view.createdAt).toISOString(), devices };
  }

  /** What this object has cost since it started, in rows read and written. */
  storageCost() {
    return this.sql.cost;
  }
}

function isoOrNull(ms: number | null) {
  return ms === null ? null : new Date(ms).toISOString();
}
