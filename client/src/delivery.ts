// Hands each new message to the app's handler exactly once, and notes it as handled only after the
// handler resolved: personal messages deduplicated by seq (handled from a push counts), announcements
// by (region, epoch, id). What this instance handles is shared with the device's other tabs.
import { PostboxError } from "./errors.ts";
import type { InboxState } from "./state.ts";
import type { Tabs } from "./tabs.ts";
import type { Announcement, Delivered, InboxAnswer, PersonalMessage, PostboxOptions, ServerFrame, Via } from "./types.ts";

type Handlers = Pick<PostboxOptions, "onMessage" | "onRead" | "onRetract" | "onError">;

export class Delivery {
  /** Personal messages came by poll or live since the last acknowledgement: postbox keeps them pending until one. */
  unacknowledged = false;
  /** Seqs that came by push and wait for a poll to bring them after the older ones: handed over as `via: "push"`. */
  readonly cameByPush = new Set<number>();

  constructor(
    private readonly state: InboxState,
    private readonly handlers: Handlers,
    private readonly tabs: Tabs,
  ) {}

  /** A poll's answer or a catch-up: personal messages in seq order, then announcements in id order. */
  async answer(answer: InboxAnswer, via: Via) {
    for (const message of answer.personal) await this.personal(message, via);
    this.state.adopt(answer);
    for (const message of answer.announcements) await this.announcement(message, via);
    this.state.advance(answer);
    await this.state.save();
  }

  async frame(frame: ServerFrame) {
    if (frame.type === "personal") return this.personal(frame.message, "live");
    if (frame.type === "announcement") return this.announcement(frame.message, "live");
    if (frame.type === "read") return this.notify(() => this.handlers.onRead?.({ seqs: frame.seqs, unread: frame.unread }));
    if (frame.type === "retract") {
      return this.notify(() => this.handlers.onRetract?.("seq" in frame ? { seq: frame.seq } : { region: frame.region, id: frame.id }));
    }
    if (frame.type === "error") {
      const { status, title = "Error", detail } = frame;
      this.handlers.onError?.(new PostboxError(status, { type: "about:blank", title, status, detail }));
    }
  }

  async personal(message: PersonalMessage, via: Via, share = true) {
    const fromPush = via === "push";
    if (!fromPush) this.unacknowledged = true;
    if (this.state.hasPersonal(message.seq)) {
      // Handled from a push: this delivery only makes it acknowledgeable.
      if (!fromPush) this.state.notePersonal(message.seq, false);
      return;
    }
    const label = this.cameByPush.delete(message.seq) ? "push" : via;
    await this.handle({ kind: "personal", message, via: label }, share);
    this.state.notePersonal(message.seq, fromPush);
    await this.state.save();
  }

  async announcement(message: Announcement, via: Via, share = true) {
    if (this.state.hasAnnouncement(message)) return;
    await this.handle({ kind: "announcement", message, via }, share);
    this.state.noteAnnouncement(message);
    await this.state.save();
  }

  /** What another tab of this device handled (and acknowledged): shown here too, unless it was already. */
  fromTab(delivered: Delivered) {
    return delivered.kind === "personal"
      ? this.personal(delivered.message, delivered.via, false)
      : this.announcement(delivered.message, delivered.via, false);
  }

  private async handle(delivered: Delivered, share: boolean) {
    await this.handlers.onMessage?.(delivered);
    if (share) this.tabs.handled(delivered);
  }

  private notify(handler: () => void) {
    try {
      handler();
    } catch (error) {
      this.handlers.onError?.(error as Error);
    }
  }
}
