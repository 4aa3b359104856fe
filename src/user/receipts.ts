// What the client reports back: received (an ack: no longer pending) and read
// (a read receipt: neither unread nor pending any more).
import type { ReadReceipt } from "../shared/schema";
import type { MessageSets } from "./message-sets";
import type { InboxState } from "./state";

export class Receipts {
  constructor(
    private readonly sets: MessageSets,
    private readonly state: InboxState,
  ) {}

  /** Received up to `seq`. Edits the state only, for a poll's ack= and consume: the poll's flush writes it. */
  received(seq: number) {
    this.state.values.pendingCount -= this.sets.removeUpTo("pending", seq);
  }

  ack(upTo: number) {
    this.received(upTo);
    this.state.flush();
    return { pending: this.state.values.pendingCount };
  }

  /** A read receipt: the messages are read, so they are neither unread nor pending any more. */
  markRead(receipt: ReadReceipt) {
    this.state.values.pendingCount -= this.sets.removeReceipt("pending", receipt);
    const removed = this.sets.removeReceipt("unread", receipt);
    this.state.update({ unreadCount: this.state.values.unreadCount - removed });
    return { unread: this.state.values.unreadCount };
  }
}
