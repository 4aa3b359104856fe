// A personal message withdrawn before its time (contract v1.1, "Publisher additions"): retracted by
// the publisher, or replaced by a newer message with its collapseKey. It leaves both sets, and each
// device that still had it pending gets the outcome `retracted`; a pair already decided keeps its
// outcome. Telling the live connections and the push channels is the caller's (UserInbox.ts).
import type { Deliveries } from "./deliveries";
import type { MessageSets } from "./message-sets";
import type { InboxState } from "./state";

export class Retraction {
  constructor(
    private readonly sets: MessageSets,
    private readonly state: InboxState,
    private readonly deliveries: Deliveries,
  ) {}

  /** Takes `seq` out of both sets at `now`; answers its JSON text, or undefined when it was in neither. Edits the state only. */
  withdraw(seq: number, now: number): string | undefined {
    const { pending, unread } = this.sets.remove(seq);
    const { values } = this.state;
    if (pending !== undefined) {
      values.pendingCount -= 1;
      this.deliveries.leftPending([seq], "retracted", now);
    }
    if (unread !== undefined) values.unreadCount -= 1;
    return pending ?? unread;
  }
}
