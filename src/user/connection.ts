// One live client of a user: a hibernatable WebSocket whose attachment records
// what it has been sent. The attachment survives hibernation, so delivery
// resumes exactly where it was, and it doubles as the SSE event id.
import { sseEnvelope, type ServerFrame } from "../shared/frames";
import { DEFAULT_DEVICE } from "../shared/schema";

export interface Connection {
  /** The device this connection is of: its acks, cursor and catch-up are that device's. */
  device: string;
  /** The region whose announcements this client follows, or null. */
  region: string | null;
  epoch: string | null;
  /** Highest announcement id sent (or covered by the catch-up). */
  cursor: number;
  /** Highest personal seq sent (or covered by the catch-up). */
  seq: number;
  /** The Worker relays this socket as Server-Sent Events. */
  sse: boolean;
}

/** A socket accepted before devices existed has no device in its attachment: it is the default one. */
export const connectionOf = (socket: WebSocket): Connection => ({
  device: DEFAULT_DEVICE,
  ...(socket.deserializeAttachment() as Omit<Connection, "device">),
});

/** The tag of a device's sockets (regions, the other tags, cannot contain a colon). */
export const deviceTag = (device: string) => `device:${device}`;

/** Sends one frame and records the connection's new position with it; answers whether the socket took it. */
export function send(socket: WebSocket, connection: Connection, type: ServerFrame["type"], data: string) {
  socket.serializeAttachment(connection);
  try {
    socket.send(connection.sse ? sseEnvelope(eventId(connection), type, data) : data);
    return true;
  } catch {
    // Already closing: its close event cleans up, and nothing acknowledged is lost.
    return false;
  }
}

/** The SSE event id: an opaque position "seq-cursor-epoch" after which a reconnect resumes. */
export const eventId = ({ seq, cursor, epoch }: Connection) => `${seq}-${cursor}-${epoch ?? ""}`;

export function parseEventId(id: string | undefined) {
  const match = id?.match(/^(\d{1,15})-(\d{1,15})-([0-9a-f]{0,32})$/);
  if (!match) return null;
  return { seq: Number(match[1]), cursor: Number(match[2]), epoch: match[3] || undefined };
}
