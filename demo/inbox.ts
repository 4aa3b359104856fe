// The inbox list: one item per message, newest first, with how it arrived (the client's `via`),
// what postbox recorded for this device (the admin message view), and a read button.
import type { Announcement, Delivered, PersonalMessage, Retracted } from "/client/postbox.js";

/** How an item came to be shown: the client's arrival channel, or the unread list read at start. */
export type Shown = Delivered["via"] | "unread earlier";

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text = "") {
  const node = document.createElement(tag);
  node.className = className;
  node.textContent = text;
  return node;
}

const keyOf = (ref: Retracted) => ("seq" in ref ? `personal:${ref.seq}` : `announcement:${ref.region}:${ref.id}`);

export class InboxView {
  private readonly list = document.getElementById("messages")!;
  private readonly items = new Map<string, HTMLLIElement>();

  /** `onReadClick(seq)` is what a read button does. */
  constructor(private readonly onReadClick: (seq: number) => void) {}

  /** Shows a message, unless it is shown already. */
  add(delivered: { kind: "personal"; message: PersonalMessage } | { kind: "announcement"; message: Announcement }, shown: Shown) {
    const { kind, message } = delivered;
    const key = keyOf(delivered.kind === "personal" ? { seq: delivered.message.seq } : delivered.message);
    if (this.items.has(key)) return;
    const item = element("li", `message ${kind}`);
    const meta = element("div", "meta");
    if (delivered.kind === "personal") {
      item.dataset.seq = String(delivered.message.seq);
      meta.append(element("span", "tag kind", `personal #${delivered.message.seq}`));
    } else {
      Object.assign(item.dataset, { region: delivered.message.region, id: String(delivered.message.id) });
      meta.append(element("span", "tag kind", `announcement ${delivered.message.region} #${delivered.message.id}`));
    }
    meta.append(element("span", `tag via via-${shown.replace(" ", "-")}`, `via ${shown}`));
    if (delivered.kind === "personal") meta.append(element("span", "tag outcome", "postbox: …"));
    meta.append(element("time", "", new Date(message.createdAt).toLocaleTimeString()));
    if (delivered.kind === "personal") {
      const { seq } = delivered.message;
      const read = element("button", "quiet read", "Mark read");
      read.addEventListener("click", () => this.onReadClick(seq));
      meta.append(read);
    }
    item.append(meta);
    if (message.title) item.append(element("div", "title", message.title));
    item.append(element("div", "body", message.body));
    this.items.set(key, item);
    this.list.prepend(item);
    this.countUnread();
  }

  /** The personal messages shown and not read. */
  private countUnread() {
    const count = this.list.querySelectorAll(".message.personal:not(.read)").length;
    document.getElementById("unread")!.textContent = `${count} unread`;
  }

  /** Read here or elsewhere (read sync): the item is dimmed and loses its button. */
  markRead(seqs: number[]) {
    for (const seq of seqs) {
      const item = this.items.get(keyOf({ seq }));
      item?.classList.add("read");
      item?.querySelector("button.read")?.remove();
    }
    this.countUnread();
  }

  remove(ref: Retracted) {
    this.items.get(keyOf(ref))?.remove();
    this.items.delete(keyOf(ref));
    this.countUnread();
  }

  /** What postbox recorded for this device: push, live, poll, read, … or pending. */
  setOutcome(seq: number, outcome: string) {
    const tag = this.items.get(keyOf({ seq }))?.querySelector(".outcome");
    if (tag) tag.textContent = `postbox: ${outcome}`;
  }
}
