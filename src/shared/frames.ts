// Live delivery frames (GET /v1/inbox/live), as discriminated unions on `type`.
// Server frames are assembled from the stored JSON texts of messages, so the
// builders below take and return text.
import * as v from "valibot";
import { parseExactJson, type ExactJson } from "./exact-json";
import type { InboxAnswer } from "./responses";
import { ackBody, readBody, type Announcement, type PersonalMessage, type ReadReceipt } from "./schema";

export type ServerFrame =
  | ({ type: "catchup" } & InboxAnswer)
  | { type: "personal"; message: PersonalMessage }
  | { type: "announcement"; message: Announcement }
  | { type: "retract"; region: string; id: number }
  | { type: "ok"; for: "ack"; pending: number }
  | { type: "ok"; for: "read"; unread: number }
  | { type: "read"; seqs: number[]; unread: number }
  | { type: "retract"; seq: number }
  | { type: "error"; status: number; title?: string; detail: string }
  | { type: "pong" };

/** What a client sends on a WebSocket: `ping` is answered by the runtime with a `pong`. */
export type ClientFrame = { type: "ack"; upTo: number } | ({ type: "read" } & ReadReceipt) | { type: "ping" };

/** What postbox sends through a push channel (docs/API.md, "Push channels"). */
export type PushPayload =
  | { type: "personal"; message: PersonalMessage }
  | { type: "poll"; seq: number }
  | { type: "retract"; seq: number };

type ErrorFrame = Extract<ServerFrame, { type: "error" }>;

/**
 * A client's text frame — {"type":"ack","upTo":n} or {"type":"read","seqs":[…]} / "upTo" — checked with
 * the same schemas as the HTTP bodies of ack and read; or the error frame to answer.
 */
export function parseClientFrame(
  message: string | ArrayBuffer,
  maxBytes: number,
): { type: "ack"; upTo: number } | { type: "read"; receipt: ReadReceipt } | ErrorFrame {
  const error = (detail: string, status = 400): ErrorFrame => ({ type: "error", status, detail });
  if (typeof message !== "string") return error("Send frames as JSON text.");
  if (new TextEncoder().encode(message).length > maxBytes) return error("The frame is larger than MESSAGE_MAX_BYTES.", 413);
  let exact: ExactJson;
  try {
    exact = parseExactJson(message);
  } catch {
    return error("The frame is not valid JSON.");
  }
  if ("issues" in exact) {
    return error(`Invalid frame: ${exact.issues.map((issue) => `${issue.path}: ${issue.message}`).join("; ")}`);
  }
  const parsed = exact.value;
  const { type, ...body } = (typeof parsed === "object" && parsed !== null ? parsed : {}) as { type?: unknown };
  if (type === "ack") {
    const ack = v.safeParse(ackBody, body);
    return ack.success ? { type, upTo: ack.output.upTo } : error(`Invalid ack frame: ${v.summarize(ack.issues)}`);
  }
  if (type === "read") {
    const read = v.safeParse(readBody, body);
    return read.success ? { type, receipt: read.output } : error(`Invalid read frame: ${v.summarize(read.issues)}`);
  }
  return error('A frame\'s type must be "ack" or "read".');
}

export const catchupFrame = (answer: string) => `{"type":"catchup",${answer.slice(1)}`;
export const personalFrame = (message: string) => `{"type":"personal","message":${message}}`;
export const announcementFrame = (message: string) => `{"type":"announcement","message":${message}}`;
export const frame = (value: ServerFrame) => JSON.stringify(value);
/** A personal message withdrawn (retracted, or replaced through its collapseKey): on live connections and as a push. */
export const retractFrame = (seq: number) => frame({ type: "retract", seq });

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
