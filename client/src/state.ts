// What the client has handled, per (url, user, device), kept in storage so that a reload neither
// repeats nor skips: the highest personal seq handled (everything up to it may be acknowledged), the
// seqs handled from a push (not acknowledged: an ack would cover older messages whose pushes were
// lost), and the announcement cursor with the region and epoch it belongs to.
import type { PostboxStorage } from "./storage.ts";
import type { Announcement, InboxAnswer } from "./types.ts";

export type Cursor = { region: string; epoch: string; since: number };

type Stored = { lastSeq: number; pushed: number[]; cursor: Cursor | null };

export class InboxState {
  private constructor(
    private readonly storage: PostboxStorage,
    private readonly key: string,
    public lastSeq: number,
    private readonly pushed: Set<number>,
    public cursor: Cursor | null,
  ) {}

  static async load(storage: PostboxStorage, key: string) {
    const text = await storage.get(key);
    const stored: Stored = text ? (JSON.parse(text) as Stored) : { lastSeq: 0, pushed: [], cursor: null };
    return new InboxState(storage, key, stored.lastSeq, new Set(stored.pushed), stored.cursor);
  }

  /** A personal message handled already (a seq handled from a push is still noted when it comes again, to be acknowledged). */
  hasPersonal(seq: number) {
    return seq <= this.lastSeq || this.pushed.has(seq);
  }

  /** The seq after everything handled: a message with it cannot have an older one missing here. */
  nextSeq() {
    let next = this.lastSeq + 1;
    while (this.pushed.has(next)) next++;
    return next;
  }

  notePersonal(seq: number, fromPush: boolean) {
    if (fromPush) this.pushed.add(seq);
    else if (seq > this.lastSeq) {
      this.lastSeq = seq;
      for (const pushed of this.pushed) if (pushed <= seq) this.pushed.delete(pushed);
    }
  }

  hasAnnouncement({ region, id }: Announcement) {
    return this.cursor !== null && this.cursor.region === region && id <= this.cursor.since;
  }

  noteAnnouncement({ region, id }: Announcement) {
    if (this.cursor?.region === region && id > this.cursor.since) this.cursor.since = id;
  }

  /**
   * Before an answer's announcements: another region or epoch, or a reset, starts the cursor again
   * (the announcements of a new epoch are new even where their ids are not).
   */
  adopt({ region, epoch, reset }: InboxAnswer) {
    if (region === null || epoch === null) return;
    if (reset || this.cursor?.region !== region || this.cursor.epoch !== epoch) this.cursor = { region, epoch, since: 0 };
  }

  /** After an answer's announcements were all handled: the cursor moves to the answer's. */
  advance({ region, cursor }: InboxAnswer) {
    if (this.cursor?.region === region && cursor !== null && cursor > this.cursor.since) this.cursor.since = cursor;
  }

  save() {
    const stored: Stored = { lastSeq: this.lastSeq, pushed: [...this.pushed], cursor: this.cursor };
    return this.storage.set(this.key, JSON.stringify(stored));
  }
}
