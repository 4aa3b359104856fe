// The live sockets of one user's object: which are open per region, which
// connects are under way, and the delivery of announcements to them in order.
// Sockets are hibernatable; what survives hibernation lives in each socket's
// attachment (connection.ts), the rest here is only for the awake instance.
import type { AnnouncementWindow, ReadFrom, StoredAnnouncement } from "../region/window";
import { announcementFrame, frame, personalFrame, retractFrame } from "../shared/frames";
import { connectionOf, deviceTag, send, type Connection } from "./connection";
import type { StoredMessage } from "./message-sets";

type Window = Pick<AnnouncementWindow, "announcements" | "cursor" | "epoch" | "reset">;

export class LiveSockets {
  /** Announcement deliveries run one after another, so frames of one region stay in id order. */
  private delivering: Promise<void> = Promise.resolve();
  /** Newest announcement id a region pushed while this instance was awake, to catch a push that beat a connect. */
  private readonly pushed = new Map<string, number>();
  /**
   * Connects still reading their region, per region: a push meanwhile must not
   * look like nobody listens, and a retract must wait for their catch-up.
   */
  private readonly connecting = new Map<string, Set<Promise<unknown>>>();

  constructor(
    private readonly ctx: DurableObjectState,
    /** Records what a socket was sent as its device's stored cursor, as a poll answer would. */
    private readonly storeCursor: (device: string, region: string, epoch: string, cursor: number) => void,
  ) {}

  open(region: string) {
    return this.ctx.getWebSockets(region).filter((socket) => socket.readyState === WebSocket.OPEN);
  }

  /** Whether the device holds an open live connection (which keeps it seen). */
  holds(device: string) {
    return this.ctx.getWebSockets(deviceTag(device)).some((socket) => socket.readyState === WebSocket.OPEN);
  }

  /** Open sockets, or connects under way, for the region. */
  listening(region: string) {
    return this.open(region).length > 0 || (this.connecting.get(region)?.size ?? 0) > 0;
  }

  /** Runs a connect's region read, counted as a connect under way. */
  connect<T>(region: string, read: () => Promise<T>): Promise<T> {
    const underway = this.connecting.get(region) ?? new Set();
    this.connecting.set(region, underway);
    const reading = read().finally(() => {
      underway.delete(reading);
      if (underway.size === 0) this.connecting.delete(region);
    });
    underway.add(reading);
    return reading;
  }

  accept(socket: WebSocket, connection: Connection) {
    const tags = [deviceTag(connection.device), ...(connection.region === null ? [] : [connection.region])];
    this.ctx.acceptWebSocket(socket, tags);
    socket.serializeAttachment(connection);
  }

  /** Whether a push arrived for the connection's region, newer than it, while it was connecting. */
  missedWhileConnecting(connection: Connection) {
    return connection.region !== null && (this.pushed.get(connection.region) ?? 0) > connection.cursor;
  }

  /** A new personal message to every connection; answers the devices it was sent to. */
  sendPersonal(seq: number, message: string) {
    const devices = new Set<string>();
    for (const socket of this.ctx.getWebSockets()) {
      const connection = connectionOf(socket);
      if (send(socket, { ...connection, seq }, "personal", personalFrame(message))) devices.add(connection.device);
    }
    return devices;
  }

  /** Read sync: every connection of the user, on every device, but the socket that sent the receipt. */
  sendRead(seqs: number[], unread: number, except?: WebSocket) {
    const read = frame({ type: "read", seqs, unread });
    for (const socket of this.ctx.getWebSockets()) {
      if (socket !== except) send(socket, connectionOf(socket), "read", read);
    }
  }

  /** A personal message withdrawn: every connection of the user, on every device. */
  sendRetract(seq: number) {
    const retract = retractFrame(seq);
    for (const socket of this.ctx.getWebSockets()) send(socket, connectionOf(socket), "retract", retract);
  }

  notePush(region: string, id: number) {
    this.pushed.set(region, Math.max(id, this.pushed.get(region) ?? 0));
  }

  /**
   * Brings every socket following `region` up to date. The pushed announcement
   * is enough when it is the next one a socket needs; otherwise (a push was
   * missed, or beat the connect) the socket's gap is read with `readGap`.
   */
  deliver(region: string, readGap: (from: ReadFrom) => Promise<Window>, pushed?: StoredAnnouncement) {
    const run = async () => {
      for (const socket of this.open(region)) {
        const { cursor, epoch } = connectionOf(socket);
        if (pushed && pushed.id <= cursor) continue;
        if (pushed?.id === cursor + 1 && epoch !== null) {
          this.sendAnnouncements(socket, connectionOf(socket), { announcements: [pushed], cursor: pushed.id, epoch, reset: false });
          continue;
        }
        const window = await readGap({ since: cursor, epoch: epoch ?? undefined });
        // Read the attachment again: personal frames may have been sent during the await.
        this.sendAnnouncements(socket, connectionOf(socket), window);
      }
    };
    this.delivering = this.delivering.then(run).catch((error) => console.error("postbox: live delivery failed", error));
    return this.delivering;
  }

  /**
   * A retracted announcement of `region`: every socket following it is sent the
   * retract frame, after the deliveries queued before it (so it never overtakes
   * the announcement) and after the connects under way (whose catch-up may hold it).
   */
  retractAnnouncement(region: string, id: number) {
    const connects = [...(this.connecting.get(region) ?? [])];
    const retract = frame({ type: "retract", region, id });
    const run = async () => {
      // Each connect accepts its socket as soon as its read is done, before this resumes.
      for (const connect of connects) await connect.catch(() => {});
      for (const socket of this.open(region)) send(socket, connectionOf(socket), "retract", retract);
    };
    this.delivering = this.delivering.then(run).catch((error) => console.error("postbox: live delivery failed", error));
    return this.delivering;
  }

  /** An SSE reconnect: the pending messages after its event id, then the announcements after its cursor. */
  replay(socket: WebSocket, connection: Connection, pending: StoredMessage[], window: Window | null) {
    for (const { seq, message } of pending) {
      send(socket, { ...connection, seq }, "personal", personalFrame(message));
    }
    if (window) this.sendAnnouncements(socket, connection, window);
    else socket.serializeAttachment(connection);
  }

  /** Sends the window's announcements that the socket has not had; the stored cursor follows. */
  sendAnnouncements(socket: WebSocket, connection: Connection, window: Window) {
    if (window.reset) connection.cursor = 0;
    connection.epoch = window.epoch;
    for (const { id, message } of window.announcements) {
      if (id <= connection.cursor) continue;
      connection.cursor = id;
      send(socket, connection, "announcement", announcementFrame(message));
    }
    connection.cursor = Math.max(connection.cursor, window.cursor);
    socket.serializeAttachment(connection);
    if (connection.region !== null) this.storeCursor(connection.device, connection.region, window.epoch, connection.cursor);
  }
}
