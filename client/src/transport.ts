// What a live connection (WebSocket or Server-Sent Events) offers the loop that keeps it.
import type { ClientFrame } from "../../src/shared/frames.ts";
import type { ServerFrame } from "./types.ts";

export interface TransportEvents {
  /** A frame to handle (not the answers to this client's own frames); SSE gives its event id. */
  onFrame(frame: ServerFrame, eventId?: string): void;
  /** Anything arrived (a pong, a keepalive comment): the connection is alive. */
  onActivity(): void;
  /** Live without a catch-up frame to wait for (an SSE stream resumed with Last-Event-ID). */
  onReady(): void;
  /** Closed or failed; called once. */
  onClose(error?: Error): void;
}

export interface Transport {
  /** Sends a client frame and resolves with its answer (ok or error); null where it cannot be sent. */
  request(frame: ClientFrame): Promise<ServerFrame> | null;
  ping(): void;
  close(): void;
}
