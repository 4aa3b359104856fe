// The client's public vocabulary. Message and answer types come from the server's valibot schemas
// (type-only imports: nothing of valibot reaches the bundle), so the client cannot drift from the wire.
import type { Problem } from "../../src/shared/responses.ts";
import type { Announcement, PersonalMessage } from "../../src/shared/schema.ts";
import type { PostboxStorage } from "./storage.ts";

export type { Announcement, PersonalMessage, Problem };
export type { InboxAnswer, UnreadAnswer } from "../../src/shared/responses.ts";
export type { PushPayload, ServerFrame } from "../../src/shared/frames.ts";

/** How a message reached this client: a live connection, a poll (or a cut catch-up's completion), or a push. */
export type Via = "live" | "poll" | "push";

export type Delivered =
  | { kind: "personal"; message: PersonalMessage; via: Via }
  | { kind: "announcement"; message: Announcement; via: Via };

/** Read sync: another connection's read receipt removed these seqs from the unread set. */
export type ReadSync = { seqs: number[]; unread: number };

/** A withdrawn message: a personal one by seq, or an announcement by region and id. */
export type Retracted = { seq: number } | { region: string; id: number };

export type Status = "connecting" | "live" | "reconnecting" | "offline" | "stopped";

/** The token, or where to get one: called for each request and each connection, so it may refresh. */
export type TokenSource = string | (() => string | Promise<string>);

/** The part of fetch the client uses. */
export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** The part of a WebSocket the client uses (browsers, Node 22, React Native). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}
export type WebSocketConstructor = new (url: string) => WebSocketLike;

export interface PostboxOptions {
  /** postbox's origin (base URL), e.g. "https://postbox.example.com". */
  url: string;
  token: TokenSource;
  /** Else the token's `device` claim, else an id created once and kept in `storage`. */
  device?: string;
  /** Sent as ?region= (not needed when the token names one). */
  region?: string;
  /** Where the cursors and the device id are kept; default memoryStorage(). */
  storage?: PostboxStorage;
  /** Runs for each new message, one at a time; the message is acknowledged once it resolves. */
  onMessage?: (delivered: Delivered) => void | Promise<void>;
  onRead?: (sync: ReadSync) => void;
  onRetract?: (retracted: Retracted) => void;
  onStatus?: (status: Status) => void;
  onError?: (error: Error) => void;
  /** The live connection: "websocket" (default) or "sse" (streamed with fetch, for runtimes without WebSocket). */
  transport?: "websocket" | "sse";
  /** Reconnect waits: a random wait up to initialMs, 2 × initialMs, … maxMs (defaults 1 s and 30 s). */
  reconnect?: { initialMs?: number; maxMs?: number };
  /** A live connection silent this long is pinged, and dropped when nothing answers within `heartbeatTimeoutMs`. */
  heartbeatMs?: number;
  heartbeatTimeoutMs?: number;
  fetch?: FetchLike;
  WebSocket?: WebSocketConstructor;
}
