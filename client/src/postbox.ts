// The client: one device of one user of one postbox. Everything it handles goes through one serial
// queue, and is acknowledged only after its handler resolved.
import { Delivery } from "./delivery.ts";
import { resolveDevice } from "./device.ts";
import { PostboxError } from "./errors.ts";
import { PostboxHttp, type InboxQuery } from "./http.ts";
import { openEventStream } from "./live-sse.ts";
import { openWebSocket } from "./live-websocket.ts";
import { LiveLoop } from "./live.ts";
import {
  listenForPushes,
  postConfig,
  serviceWorkers,
  subscribeWebPush,
  unsubscribeWebPush,
  type ServiceWorkerRegistrationLike,
} from "./push.ts";
import { SerialQueue } from "./queue.ts";
import { InboxState } from "./state.ts";
import { memoryStorage } from "./storage.ts";
import { Tabs } from "./tabs.ts";
import { tokenClaims, tokenOf, type TokenClaims } from "./token.ts";
import type { Transport, TransportEvents } from "./transport.ts";
import type { FetchLike, InboxAnswer, PersonalMessage, PostboxOptions, ServerFrame, Status, WebSocketConstructor } from "./types.ts";

type Session = {
  user: string;
  device: string;
  claims: TokenClaims;
  state: InboxState;
  http: PostboxHttp;
  delivery: Delivery;
  tabs: Tabs;
  stopListening: () => void;
};

export class Postbox {
  /** This client's device, once known (after the first call, or `await ready()`). */
  device: string | undefined;
  private readonly origin: string;
  private readonly storage;
  private readonly fetch: FetchLike;
  private readonly queue = new SerialQueue();
  private readonly connection: LiveLoop;
  private session: Promise<Session> | null = null;
  private status: Status | null = null;
  private lastEventId: string | undefined;
  private ackQueued = false;
  private pushRegistration: ServiceWorkerRegistrationLike | undefined;
  private postedToken: string | undefined;

  constructor(private readonly options: PostboxOptions) {
    this.origin = new URL(options.url).origin;
    this.storage = options.storage ?? memoryStorage();
    this.fetch = options.fetch ?? globalThis.fetch.bind(globalThis);
    this.connection = new LiveLoop(
      this.queue,
      {
        initialMs: options.reconnect?.initialMs ?? 1_000,
        maxMs: options.reconnect?.maxMs ?? 30_000,
        heartbeatMs: options.heartbeatMs ?? 25_000,
        heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 10_000,
      },
      {
        open: (events) => this.openLive(events),
        frame: (frame, eventId) => this.liveFrame(frame, eventId),
        status: (status) => this.setStatus(status),
        error: (error) => this.options.onError?.(error),
      },
    );
  }

  /** Resolves the user (the token's `sub`) and the device, and loads what was handled before. */
  async ready() {
    const { user, device } = await this.start();
    return { user, device };
  }

  /** Fetches everything new over HTTP (page after page while `more`), handles it and acknowledges it. */
  async poll() {
    const session = await this.start();
    await this.queue.run(() => this.pollUntilDone(session, null));
  }

  /** Opens the live connection and keeps it open until stop(). */
  live() {
    this.connection.start();
  }

  /** Closes the live connection (no reconnect) and stops listening to other tabs and the service worker. */
  stop() {
    this.connection.stop();
    const session = this.session;
    this.session = null;
    void session?.then(({ tabs, stopListening }) => (tabs.close(), stopListening()), () => {});
  }

  /** A read receipt: over the WebSocket when it is open, else POST /v1/inbox/read. */
  async read(which: number[] | { upTo: number }) {
    const receipt = Array.isArray(which) ? { seqs: which } : { upTo: which.upTo };
    const { http } = await this.start();
    const answer = await this.connection.current?.request({ type: "read", ...receipt })?.catch(() => null);
    if (answer?.type === "ok" && answer.for === "read") return { unread: answer.unread };
    if (answer?.type === "error") throw frameError(answer);
    return http.read(receipt);
  }

  /** GET /v1/inbox/unread: the unread count and messages, oldest first. */
  async unread(limit?: number) {
    return (await this.start()).http.unread(limit);
  }

  /** Subscribes the registration to Web Push with postbox's VAPID key, registers it, and configures the service worker. */
  async subscribeWebPush(registration: ServiceWorkerRegistrationLike) {
    const { http } = await this.start();
    const answer = await subscribeWebPush(http, registration);
    this.pushRegistration = registration;
    this.postedToken = undefined;
    await this.token();
    return answer;
  }

  /** DELETE /v1/push, and the browser's subscription (of this registration, else the page's). */
  async unsubscribePush(registration?: ServiceWorkerRegistrationLike) {
    const { http } = await this.start();
    const answer = await unsubscribeWebPush(http, registration ?? this.pushRegistration ?? (await serviceWorkers()?.getRegistration?.()));
    this.pushRegistration = undefined;
    return answer;
  }

  /** The current token; a service worker configured by subscribeWebPush is told each new one. */
  private readonly token = async () => {
    const token = await tokenOf(this.options.token);
    if (this.pushRegistration && this.device && token !== this.postedToken) {
      this.postedToken = token;
      postConfig(this.pushRegistration, { type: "postbox:config", url: this.origin, token, device: this.device });
    }
    return token;
  };

  private start() {
    this.session ??= this.open();
    // A failed start (no network for the token, say) is tried again by the next call.
    this.session.catch(() => (this.session = null));
    return this.session;
  }

  private async open(): Promise<Session> {
    const claims = tokenClaims(await this.token());
    const user = claims.sub;
    const device = await resolveDevice(this.storage, `device:${this.origin}:${user}`, this.options.device ?? claims.device);
    this.device = device;
    const state = await InboxState.load(this.storage, `state:${this.origin}:${user}:${device}`);
    const http = new PostboxHttp(this.origin, this.token, device, this.fetch);
    const tabs = new Tabs(`postbox:${this.origin}:${user}:${device}`, (delivered) => {
      this.queue.run(() => delivery.fromTab(delivered)).catch(this.failed);
    });
    const delivery = new Delivery(state, this.options, tabs);
    const stopListening = listenForPushes((message) => {
      // Noted at once, not in its turn: a poll queued before it may bring the message first.
      if (!state.hasPersonal(message.seq)) delivery.cameByPush.add(message.seq);
      this.queue.run(() => this.pushed(session, message)).catch(this.failed);
    });
    const session: Session = { user, device, claims, state, http, delivery, tabs, stopListening };
    return session;
  }

  /**
   * A message the service worker received by push. Handed over at once when nothing older can be
   * missing here (it is the seq after everything handled); else a poll comes first, so that older
   * messages whose pushes were lost are handed over before it, in order (it then comes with the poll,
   * as `via: "push"`). Where that poll fails (offline), the next catch-up brings it, in order.
   */
  private async pushed(session: Session, message: PersonalMessage) {
    const { state, delivery } = session;
    if (state.hasPersonal(message.seq)) return;
    if (message.seq === state.nextSeq()) return delivery.personal(message, "push");
    await this.pollUntilDone(session, null);
  }

  private readonly failed = (error: Error) => this.options.onError?.(error);

  /** The inbox query of this client: its region, its own cursor (when it belongs to that region), and an ack. */
  private query({ state, claims }: Session): InboxQuery {
    const region = this.options.region;
    const named = region ?? claims.region;
    const cursor = state.cursor && (named === undefined || state.cursor.region === named) ? state.cursor : null;
    return { region, since: cursor?.since, epoch: cursor?.epoch, ack: state.lastSeq || undefined };
  }

  /** Handles `first` (a catch-up) if given, then polls until an answer says no more; acknowledges what it handled. */
  private async pollUntilDone(session: Session, first: InboxAnswer | null) {
    const { http, delivery } = session;
    let answer = first;
    try {
      if (answer) await delivery.answer(answer, "live");
      while (answer === null || answer.more) {
        const query = this.query(session);
        answer = await http.inbox(query);
        // Its ack= acknowledged everything handled before it.
        if (query.ack === session.state.lastSeq) delivery.unacknowledged = false;
        await delivery.answer(answer, "poll");
      }
      delivery.cameByPush.clear(); // what a complete answer did not bring is no longer pending here
    } finally {
      await this.acknowledge(session).catch(this.failed);
    }
  }

  /** Acknowledges up to the highest seq handled: on the WebSocket when open (not waiting for its answer), else over HTTP. */
  private async acknowledge({ http, state, delivery }: Session) {
    if (!delivery.unacknowledged || state.lastSeq === 0) return;
    delivery.unacknowledged = false;
    const upTo = state.lastSeq;
    const onSocket = this.connection.current?.request({ type: "ack", upTo });
    if (!onSocket) {
      await http.ack(upTo);
      return;
    }
    // A socket that closes first loses the ack; its replacement's catch-up brings the messages back to acknowledge.
    onSocket.then((answer) => answer.type === "error" && this.failed(frameError(answer)), () => {});
  }

  private async openLive(events: TransportEvents): Promise<Transport> {
    const session = await this.start();
    const token = await this.token();
    if (this.options.transport === "sse") {
      const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
      if (this.lastEventId !== undefined) headers["Last-Event-ID"] = this.lastEventId;
      return openEventStream(this.fetch, session.http.url("/v1/inbox/live", this.query(session)), headers, events);
    }
    const WebSocketImpl =
      this.options.WebSocket ?? (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (!WebSocketImpl) throw new Error('This runtime has no WebSocket: pass one in the options, or transport: "sse".');
    const url = new URL(session.http.url("/v1/inbox/live", { ...this.query(session), token }));
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    return openWebSocket(WebSocketImpl, url.toString(), events);
  }

  private async liveFrame(frame: ServerFrame, eventId: string | undefined) {
    const session = await this.start();
    if (frame.type === "catchup") await this.pollUntilDone(session, frame);
    else {
      await session.delivery.frame(frame);
      if (session.delivery.unacknowledged) this.acknowledgeSoon(session);
    }
    if (eventId !== undefined) this.lastEventId = eventId;
  }

  /** One acknowledgement after the frames already queued (a burst of messages is acknowledged once). */
  private acknowledgeSoon(session: Session) {
    if (this.ackQueued) return;
    this.ackQueued = true;
    this.queue
      .run(() => {
        this.ackQueued = false;
        return this.acknowledge(session);
      })
      .catch(this.failed);
  }

  private setStatus(status: Status) {
    if (status === this.status) return;
    this.status = status;
    this.options.onStatus?.(status);
  }
}

const frameError = ({ status, title = "Error", detail }: Extract<ServerFrame, { type: "error" }>) =>
  new PostboxError(status, { type: "about:blank", title, status, detail });
