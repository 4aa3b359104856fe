// Shared by the client tests (test/client-*.test.ts): the client of client/src run against the real
// Worker. Its fetch calls exports.default.fetch; its WebSocket is an adapter on a fetch with
// `Upgrade: websocket` that implements the small interface the client uses. Every client made here
// is stopped after the test (stopClients in afterEach), and records what it handled, its statuses,
// its errors, and each acknowledgement it sent (with what it had handled by then).
import { exports } from "cloudflare:workers";
import { Postbox, memoryStorage, type Delivered, type PostboxOptions, type PostboxStorage, type Status } from "../client/src/index.ts";
import type { WebSocketLike } from "../client/src/types.ts";
import { clientTokenFor, fetchWithEnv, type ClientClaims } from "./helpers";
import { waitFor } from "./live-helpers";
import type { Env } from "../src/config";

export const URL_BASE = "http://postbox.test";

/** An acknowledgement the client sent: on the socket, as ?ack= or as POST /v1/inbox/ack. */
export type SentAck = { upTo: number; route: "socket" | "poll" | "post"; handled: number[] };

/** Watches what a client sends: acknowledgements and the requests themselves. */
export class Wire {
  readonly acks: SentAck[] = [];
  readonly requests: { method: string; path: string; lastEventId: string | null }[] = [];
  /** When set, a request it returns true for fails as if the network were down. */
  failWhen: ((request: Request) => boolean) | null = null;
  sockets: WorkerWebSocket[] = [];
  /** The seqs the client has handled so far (set by testClient). */
  handled: () => number[] = () => [];

  noteAck(upTo: number, route: SentAck["route"]) {
    this.acks.push({ upTo, route, handled: this.handled() });
  }

  constructor(private readonly env?: Partial<Env>) {}

  readonly fetch = async (input: string, init?: RequestInit) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    this.requests.push({ method: request.method, path: url.pathname, lastEventId: request.headers.get("Last-Event-ID") });
    if (this.failWhen?.(request)) throw new TypeError("fetch failed (the test's network is down)");
    const ack = url.searchParams.get("ack");
    if (ack !== null && url.pathname.startsWith("/v1/inbox")) this.noteAck(Number(ack), "poll");
    if (url.pathname === "/v1/inbox/ack") this.noteAck(((await request.clone().json()) as { upTo: number }).upTo, "post");
    return this.env ? fetchWithEnv(this.env, url.pathname + url.search, request) : exports.default.fetch(request);
  };

  /** The WebSocket constructor the client is given. */
  readonly WebSocket = ((wire: Wire) =>
    class extends WorkerWebSocket {
      constructor(url: string) {
        super(url, wire);
        wire.sockets.push(this);
      }
    })(this);

  get openSockets() {
    return this.sockets.filter((socket) => socket.readyState === 1);
  }
}

/** A WebSocket made from the Worker's 101 answer. */
export class WorkerWebSocket implements WebSocketLike {
  readyState = 0;
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  /** Drop the runtime's pong answers (a connection that went silent). */
  swallowPongs = false;
  private socket: WebSocket | null = null;

  constructor(
    readonly url: string,
    private readonly wire: Wire,
  ) {
    void this.connect();
  }

  private async connect() {
    const url = new URL(this.url);
    url.protocol = "http:";
    const response = await this.wire.fetch(url.toString(), { headers: { Upgrade: "websocket" } }).catch(() => null);
    if (this.readyState === 3) return;
    if (response?.status !== 101 || !response.webSocket) {
      this.readyState = 3;
      this.onerror?.({});
      this.onclose?.({ code: 1006, reason: `upgrade answered ${response?.status}` });
      return;
    }
    const socket = response.webSocket;
    socket.accept();
    this.socket = socket;
    this.readyState = 1;
    socket.addEventListener("message", (event) => {
      if (this.swallowPongs && event.data === '{"type":"pong"}') return;
      this.onmessage?.({ data: event.data });
    });
    socket.addEventListener("close", (event) => this.closed(event.code, event.reason));
    socket.addEventListener("error", () => this.onerror?.({}));
    this.onopen?.({});
  }

  send(data: string) {
    const frame = JSON.parse(data) as { type: string; upTo?: number };
    // As a browser's does, a socket closed by the other side meanwhile ignores what is sent.
    if (this.readyState !== 1) return;
    if (frame.type === "ack") this.wire.noteAck(frame.upTo!, "socket");
    try {
      this.socket!.send(data);
    } catch {
      this.closed(1006, "closed by the server");
    }
  }

  close(code = 1000, reason = "") {
    if (this.readyState === 3) return;
    try {
      this.socket?.close(code, reason);
    } catch {
      // Closed by the other side meanwhile.
    }
    this.closed(code, reason);
  }

  private closed(code: number, reason: string) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code, reason });
  }
}

/** A client made for a test: the Postbox and what it saw. */
export type TestClient = {
  postbox: Postbox;
  wire: Wire;
  delivered: Delivered[];
  statuses: Status[];
  errors: Error[];
  reads: { seqs: number[]; unread: number }[];
  retracts: unknown[];
  /** The personal seqs handled, in order. */
  seqs(): number[];
  /** The announcement ids handled, in order. */
  ids(): number[];
};

const made = new Set<Postbox>();

/** Stops every client a test made (use in afterEach). */
export function stopClients() {
  for (const postbox of made) postbox.stop();
  made.clear();
}

export type TestClientOptions = Partial<PostboxOptions> & { claims?: ClientClaims; env?: Partial<Env>; wire?: Wire };

/** A client of `user` against the real Worker; reconnects quickly (initial wait 10 ms) unless told otherwise. */
export function testClient(
  user: string,
  { claims = {}, env, wire = new Wire(env), onMessage, ...options }: TestClientOptions = {},
): TestClient {
  const delivered: Delivered[] = [];
  const statuses: Status[] = [];
  const errors: Error[] = [];
  const reads: { seqs: number[]; unread: number }[] = [];
  const retracts: unknown[] = [];
  const postbox = new Postbox({
    url: URL_BASE,
    token: () => clientTokenFor(user, claims),
    storage: memoryStorage(),
    fetch: wire.fetch,
    WebSocket: wire.WebSocket,
    reconnect: { initialMs: 10, maxMs: 50 },
    // A test's own handler runs first; what it threw for is not recorded as handled.
    onMessage: async (message) => {
      await onMessage?.(message);
      delivered.push(message);
    },
    onStatus: (status) => void statuses.push(status),
    onError: (error) => void errors.push(error),
    onRead: (sync) => void reads.push(sync),
    onRetract: (retracted) => void retracts.push(retracted),
    ...options,
  });
  made.add(postbox);
  wire.handled = () => delivered.flatMap((d) => (d.kind === "personal" ? [d.message.seq] : []));
  return {
    postbox,
    wire,
    delivered,
    statuses,
    errors,
    reads,
    retracts,
    seqs: () => delivered.flatMap((d) => (d.kind === "personal" ? [d.message.seq] : [])),
    ids: () => delivered.flatMap((d) => (d.kind === "announcement" ? [d.message.id] : [])),
  };
}

/** Waits until the client has handled these personal seqs (exactly, in this order). */
export async function untilSeqs(client: TestClient, seqs: number[]) {
  await waitFor(() => client.seqs().length >= seqs.length, `the client to handle seqs ${seqs}`, () => client.seqs());
  return client.seqs();
}

/** Waits until the client reports this status. */
export function untilStatus(client: TestClient, status: Status, times = 1) {
  return waitFor(
    () => client.statuses.filter((s) => s === status).length >= times,
    `status ${status} (${times}×)`,
    () => client.statuses,
  );
}

/**
 * Fails unless every acknowledgement covered only messages already handled: each seq ≤ upTo that the
 * client handled at all had been handled when that ack went out.
 */
export function expectAcksAfterHandlers(client: TestClient) {
  const late = client.wire.acks.flatMap(({ upTo, route, handled }) =>
    client.seqs().filter((seq) => seq <= upTo && !handled.includes(seq)).map((seq) => ({ seq, upTo, route })),
  );
  if (late.length > 0) throw new Error(`acknowledged before handled: ${JSON.stringify(late)}`);
}

/** A storage whose entries a test can set and read. */
export function storageWith(entries: Record<string, string>): PostboxStorage & { values: Map<string, string> } {
  const values = new Map(Object.entries(entries));
  return { values, get: (key) => values.get(key) ?? null, set: (key, value) => void values.set(key, value) };
}

// ---- browser APIs the Worker's runtime lacks ------------------------------------------

/**
 * navigator.serviceWorker as a page sees it, with `post` standing in for the service worker's
 * client.postMessage (stubbed on globalThis: undo with vi.unstubAllGlobals).
 */
export function fakeServiceWorkers(stub: (name: string, value: unknown) => void) {
  const listeners = new Set<(event: { data: unknown }) => void>();
  const serviceWorker = {
    addEventListener: (_type: string, listener: (event: { data: unknown }) => void) => void listeners.add(listener),
    removeEventListener: (_type: string, listener: (event: { data: unknown }) => void) => void listeners.delete(listener),
  };
  stub("navigator", { serviceWorker });
  return { post: (data: unknown) => listeners.forEach((listener) => listener({ data: structuredClone(data) })), listeners };
}

/** A BroadcastChannel between the instances made in this test file (as the tabs of one browser). */
export class FakeBroadcastChannel {
  private static readonly open = new Set<FakeBroadcastChannel>();
  onmessage: ((event: { data: unknown }) => void) | null = null;

  constructor(readonly name: string) {
    FakeBroadcastChannel.open.add(this);
  }

  postMessage(message: unknown) {
    const data = structuredClone(message);
    for (const other of FakeBroadcastChannel.open) {
      if (other !== this && other.name === this.name) queueMicrotask(() => other.onmessage?.({ data }));
    }
  }

  close() {
    FakeBroadcastChannel.open.delete(this);
  }
}
