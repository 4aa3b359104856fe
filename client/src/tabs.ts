// Instances of one device in one browser (tabs sharing localStorage) tell each other what they
// handled, so that a tab whose connection was down while another acknowledged still shows every
// message once. Without BroadcastChannel (Node, React Native), there is nothing to share with.
import type { Delivered } from "./types.ts";

interface Channel {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
  close(): void;
  /** Node: a channel must not keep the process alive. */
  unref?(): void;
}

const BroadcastChannelImpl = (globalThis as { BroadcastChannel?: new (name: string) => Channel }).BroadcastChannel;

type TabMessage = { type: "postbox:handled"; delivered: Delivered };

export class Tabs {
  private readonly channel: Channel | null;

  constructor(name: string, onHandled: (delivered: Delivered) => void) {
    this.channel = BroadcastChannelImpl ? new BroadcastChannelImpl(name) : null;
    this.channel?.unref?.();
    if (this.channel) {
      this.channel.onmessage = ({ data }) => {
        const message = data as TabMessage;
        if (message?.type === "postbox:handled") onHandled(message.delivered);
      };
    }
  }

  handled(delivered: Delivered) {
    this.channel?.postMessage({ type: "postbox:handled", delivered } satisfies TabMessage);
  }

  close() {
    this.channel?.close();
  }
}
