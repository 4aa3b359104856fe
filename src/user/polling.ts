// The message request's answer: the pending personal messages (after the
// request's ack=, and consumed if it asks), the announcements the region
// returned after the cursor, and `dropped`. A live connection's catch-up frame
// is the same answer.
import type { AnnouncementWindow } from "../region/window";
import { jsonWithLists } from "../shared/schema";
import type { Cursors } from "./cursors";
import type { MessageSets } from "./message-sets";
import type { Receipts } from "./receipts";
import type { InboxState } from "./state";

export interface PollRequest {
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
  ) {}

  /** The region a request reads: its own, else the user's stored one (null: none). */
  regionFor(request: PollRequest) {
    return request.region ?? this.state.values.region;
  }

  /**
   * Builds the answer, as JSON text, once the region has replied. Nothing here
   * awaits: ack, the pending read, consume, the cursor and `dropped` change in one step.
   */
  answer(request: PollRequest, region: string | null, window: AnnouncementWindow | null) {
    if (request.ack !== undefined) this.receipts.received(request.ack);
    // The set's size is known: an empty set is not read at all.
    const rows = this.state.values.pendingCount === 0 ? [] : this.sets.oldest("pending", request.limit + 1);
    const personal = rows.slice(0, request.limit);
    const lastSeq = personal.at(-1)?.seq ?? null;
    if (request.consume && lastSeq !== null) this.receipts.received(lastSeq);
    if (region !== null && window) this.cursors.store(region, window.epoch, window.cursor);
    const dropped = this.state.values.dropped;
    this.state.update({ dropped: 0 });
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
