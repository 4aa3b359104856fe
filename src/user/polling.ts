// The message request's answer, for the requesting device: its pending
// personal messages (after the request's ack=, and consumed if it asks), the
// announcements the region returned after its cursor, and its `dropped`. A live connection's catch-up frame
// is the same answer.
import type { AnnouncementWindow } from "../region/window";
import { jsonWithLists } from "../shared/schema";
import type { Cursors } from "./cursors";
import type { Device, Devices } from "./devices";
import type { HandOver, HandOvers } from "./handovers";
import type { MessageSets } from "./message-sets";
import type { Receipts } from "./receipts";
import type { InboxState } from "./state";

export interface PollRequest {
  /** The requesting device (the token's, the request's, or `default`). */
  device: string;
  /** The region named by the token or the request; undefined falls back to the stored one. */
  region?: string;
  since?: number;
  /** Qualifies `since` only; ignored without it. */
  epoch?: string;
  ack?: number;
  consume: boolean;
  limit: number;
}

export class Polling {
  constructor(
    private readonly sets: MessageSets,
    private readonly state: InboxState,
    private readonly cursors: Cursors,
    private readonly receipts: Receipts,
    private readonly devices: Devices,
    private readonly handOvers: HandOvers,
  ) {}

  /** The region a request reads: its own, else the user's stored one (null: none). */
  regionFor(request: PollRequest) {
    return request.region ?? this.state.values.region;
  }

  /**
   * Builds the answer, as JSON text, once the region has replied (`route`: a poll, or a live
   * connection's catch-up frame, as the hand-over is recorded). Nothing here
   * awaits: ack, the pending read, consume, the cursor and `dropped` change in one step.
   */
  answer(request: PollRequest, device: Device, region: string | null, window: AnnouncementWindow | null, route: HandOver["route"]) {
    if (request.ack !== undefined) this.receipts.received(device, request.ack);
    // What is pending for the device is known to be nothing when the set is empty or it has received the newest.
    const { pendingCount, lastSeq: newest } = this.state.values;
    const rows = pendingCount === 0 || device.acked >= newest ? [] : this.sets.pendingAfter(device.acked, request.limit + 1);
    const personal = rows.slice(0, request.limit);
    const lastSeq = personal.at(-1)?.seq ?? null;
    if (lastSeq !== null) this.handOvers.note(device.id, personal[0]!.seq - 1, lastSeq, { route, at: Date.now() });
    if (request.consume && lastSeq !== null) this.receipts.received(device, lastSeq);
    if (region !== null && window) this.cursors.store(device.id, region, window.epoch, window.cursor);
    const dropped = this.devices.dropped(device);
    this.devices.answered(device);
    this.state.flush();
    const lists = {
      personal: personal.map((row) => row.message),
      announcements: window?.announcements.map((row) => row.message) ?? [],
    };
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
}
