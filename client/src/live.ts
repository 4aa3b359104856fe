// Keeps one live connection while it is wanted: reconnects after a full-jitter wait that grows with
// each failed attempt (reset once a connection is caught up), pings a connection that has gone quiet
// and drops it when nothing answers, reconnects at once when the browser comes online and closes
// while it is offline. Frames are handled in the client's serial queue; the messages of a connection
// that has been dropped meanwhile are skipped, since its replacement's catch-up delivers them again.
import { reconnectDelay } from "./backoff.ts";
import type { SerialQueue } from "./queue.ts";
import type { Transport, TransportEvents } from "./transport.ts";
import type { ServerFrame, Status } from "./types.ts";

export interface LiveSettings {
  initialMs: number;
  maxMs: number;
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
}

export interface LiveHooks {
  open(events: TransportEvents): Promise<Transport>;
  /** Handles one frame; throws when a handler did. */
  frame(frame: ServerFrame, eventId: string | undefined): Promise<void>;
  status(status: Status): void;
  error(error: Error): void;
}

type BrowserEvents = { addEventListener?(type: string, listener: () => void): void; removeEventListener?(type: string, listener: () => void): void };
const browser = globalThis as BrowserEvents;

/** Read sync and retractions: no replacement's catch-up repeats them, so they are handed over even from a dropped connection. */
const isNotice = (frame: ServerFrame) => frame.type === "read" || frame.type === "retract";

type Timer = ReturnType<typeof setTimeout>;
// (clearTimeout's parameter is typed differently by the DOM and by Workers.)
const cancel = (timer: Timer | undefined) => timer !== undefined && clearTimeout(timer);

export class LiveLoop {
  private transport: Transport | null = null;
  private generation = 0;
  private attempt = 0;
  private wanted = false;
  private offline = false;
  private retryTimer: Timer | undefined;
  private quietTimer: Timer | undefined;

  constructor(
    private readonly queue: SerialQueue,
    private readonly settings: LiveSettings,
    private readonly hooks: LiveHooks,
  ) {}

  /** The open connection, if any. */
  get current() {
    return this.transport;
  }

  start() {
    if (this.wanted) return;
    this.wanted = true;
    browser.addEventListener?.("online", this.online);
    browser.addEventListener?.("offline", this.wentOffline);
    void this.connect("connecting");
  }

  stop() {
    if (!this.wanted) return;
    this.wanted = false;
    browser.removeEventListener?.("online", this.online);
    browser.removeEventListener?.("offline", this.wentOffline);
    this.drop();
    this.hooks.status("stopped");
  }

  private readonly online = () => {
    this.offline = false;
    if (this.transport) return;
    this.attempt = 0;
    void this.connect("reconnecting");
  };

  private readonly wentOffline = () => {
    this.offline = true;
    this.drop();
    this.hooks.status("offline");
  };

  private async connect(status: Status) {
    cancel(this.retryTimer);
    const generation = ++this.generation;
    const current = () => generation === this.generation;
    this.hooks.status(status);
    let transport: Transport;
    try {
      transport = await this.hooks.open({
        onFrame: (frame, eventId) => {
          if (!current()) return;
          this.alive();
          this.queue
            .run(async () => {
              if (!current() && !isNotice(frame)) return;
              await this.hooks.frame(frame, eventId);
              if (frame.type === "catchup") this.caughtUp();
            })
            .catch((error: Error) => this.failed(generation, error));
        },
        onActivity: () => current() && this.alive(),
        onReady: () => current() && this.caughtUp(),
        onClose: (error) => {
          if (!current()) return;
          if (error) this.hooks.error(error);
          this.retry();
        },
      });
    } catch (error) {
      if (current()) {
        this.hooks.error(error as Error);
        this.retry();
      }
      return;
    }
    if (!current()) return transport.close();
    this.transport = transport;
    this.alive();
  }

  private caughtUp() {
    this.attempt = 0;
    this.hooks.status("live");
  }

  /** A handler threw: the connection is dropped and opened again later; its catch-up redelivers. */
  private failed(generation: number, error: Error) {
    if (generation !== this.generation) return;
    this.hooks.error(error);
    this.retry();
  }

  private retry() {
    this.drop();
    if (!this.wanted || this.offline) return;
    this.hooks.status("reconnecting");
    const delay = reconnectDelay(this.attempt++, this.settings.initialMs, this.settings.maxMs);
    this.retryTimer = setTimeout(() => void this.connect("reconnecting"), delay);
  }

  /** Closes the connection (if any) and forgets it and whatever of it is still queued. */
  private drop() {
    this.generation++;
    cancel(this.retryTimer);
    cancel(this.quietTimer);
    const transport = this.transport;
    this.transport = null;
    transport?.close();
  }

  /** Something arrived: ping after heartbeatMs of quiet, and give up heartbeatTimeoutMs after that. */
  private alive() {
    cancel(this.quietTimer);
    const generation = this.generation;
    this.quietTimer = setTimeout(() => {
      this.transport?.ping();
      this.quietTimer = setTimeout(() => generation === this.generation && this.retry(), this.settings.heartbeatTimeoutMs);
    }, this.settings.heartbeatMs);
  }
}
