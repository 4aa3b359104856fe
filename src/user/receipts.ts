// What a device reports back: received (an ack: no longer pending for that
// device) and read (a read receipt: neither unread nor pending for anyone).
// The pending set keeps a message while some known device has not received
// it; `keepPendingForKnown` lets go of the rest.
import type { ReadReceipt } from "../shared/schema";
import type { Deliveries } from "./deliveries";
import type { Device, Devices } from "./devices";
import type { MessageSets } from "./message-sets";
import type { InboxState } from "./state";

export class Receipts {
  constructor(
    private readonly sets: MessageSets,
    private readonly state: InboxState,
    private readonly devices: Devices,
    private readonly deliveries: Deliveries,
  ) {}

  /** The device received up to `seq`. Edits the state only, for a poll's ack= and consume: the poll's flush writes it. */
  received(device: Device, seq: number) {
    const before = device.acked;
    if (!this.devices.acknowledge(device, seq, this.state.values.lastSeq)) return;
    this.deliveries.acknowledged(device, before, device.acked, Date.now());
    this.keepPendingForKnown();
  }

  ack(device: Device, upTo: number) {
    this.received(device, upTo);
    this.state.flush();
    return { pending: this.pendingFor(device) };
  }

  /** How many messages are pending for the device; a read only when another device lags behind it. */
  pendingFor(device: Device) {
    const { pendingCount } = this.state.values;
    if (pendingCount === 0 || device.acked <= (this.devices.floor() ?? 0)) return pendingCount;
    return this.sets.countPendingAfter(device.acked);
  }

  /** A read receipt from `reader`: the messages are read, so they are neither unread nor pending any more. Answers the seqs it read. */
  markRead(reader: Device, receipt: ReadReceipt) {
    const leftPending = this.sets.removeReceipt("pending", receipt);
    this.state.values.pendingCount -= leftPending.length;
    const read = this.sets.removeReceipt("unread", receipt);
    this.deliveries.read(reader, leftPending, read, Date.now());
    this.state.update({ unreadCount: this.state.values.unreadCount - read.length });
    return { unread: this.state.values.unreadCount, read };
  }

  /** Removes the messages that no known device has pending (none while no device is known). */
  keepPendingForKnown() {
    const floor = this.devices.floor();
    if (floor !== null && floor > 0) this.state.values.pendingCount -= this.sets.removeUpTo("pending", floor);
  }
}
