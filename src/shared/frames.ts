// Live delivery frames (GET /v1/inbox/live), as discriminated unions on `type`.
// Server frames are assembled from the stored JSON texts of messages, so the
// builders below take and return text.
import type { Announcement, PersonalMessage } from "./schema";

export type ServerFrame =
  | ({ type: "catchup" } & Record<string, unknown>)
  | { type: "personal"; message: PersonalMessage }
  | { type: "announcement"; message: Announcement }
  | { type: "ok"; for: "ack"; pending: number }
  | { type: "ok"; for: "read"; unread: number }
  | { type: "error"; status: number; title?: string; detail: string };

/** What a client may send on a WebSocket; the fields besides `type` are the HTTP bodies of ack and read. */
export type ClientFrame = { type: "ack"; upTo: number } | { type: "read"; seqs?: number[]; upTo?: number };

export const catchupFrame = (answer: string) => `{"type":"catchup",${answer.slice(1)}`;
export const personalFrame = (message: string) => `{"type":"personal","message":${message}}`;
export const announcementFrame = (message: string) => `{"type":"announcement","message":${message}}`;
export const frame = (value: ServerFrame) => JSON.stringify(value);

/**
 * The user's object speaks WebSocket to every live client. For an SSE client
 * the Worker holds the stream and relays; the object then prefixes each frame
 * with its SSE event id and type: "<id> <type>\n<frame>".
 */
export const sseEnvelope = (id: string, type: ServerFrame["type"], data: string) => `${id} ${type}\n${data}`;

export function openSseEnvelope(text: string) {
  const newline = text.indexOf("\n");
  const [id, type] = text.slice(0, newline).split(" ");
  return { id: id!, type: type!, data: text.slice(newline + 1) };
}
