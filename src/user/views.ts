// What this user's object shows as it is: the unread set, the publisher's view
// of the user, and what its storage has cost. Reads only.
import type { UserView } from "../shared/responses";
import { jsonWithLists } from "../shared/schema";
import type { MeteredSql } from "../shared/sql";
import type { Cursors } from "./cursors";
import type { MessageSets } from "./message-sets";
import type { InboxState } from "./state";

export class Views {
  constructor(
    private readonly sql: MeteredSql,
    private readonly sets: MessageSets,
    private readonly state: InboxState,
    private readonly cursors: Cursors,
  ) {}

  /** The unread count and the oldest `limit` unread messages, as JSON text. */
  unread(limit: number) {
    const messages = this.sets.oldest("unread", limit).map((row) => row.message);
    return jsonWithLists({ messages }, { count: this.state.values.unreadCount });
  }

  /** The publisher's view of this user. */
  describe(): Omit<UserView, "userId"> {
    const { values } = this.state;
    const bounds = this.sets.pendingBounds();
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
      cursors: this.cursors.byRegion(),
    };
  }

  /** What this object has cost since it started, in rows read and written. */
  storageCost() {
    return this.sql.cost;
  }
}

function isoOrNull(ms: number | null) {
  return ms === null ? null : new Date(ms).toISOString();
}
