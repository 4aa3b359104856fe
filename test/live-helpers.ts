// Shared by the live delivery tests (GET /v1/inbox/live): open a WebSocket or an
// SSE stream, collect what arrives, and wait for conditions with a bounded poll
// (never a fixed sleep). Every socket and stream opened here is remembered, so
// `closeAllLive` (run after each test) closes whatever a test left open.
import { runInDurableObject } from "cloudflare:test";
import { readEventStream } from "../client/src/event-stream.ts";
import type { Env } from "../src/config";
import { call, clientTokenFor, fetchWithEnv, regionStub, userStub, type InboxAnswer } from "./helpers";

// ---- waiting ------------------------------------------------------------------

const WAIT_MS = 2_000;
const STEP_MS = 10;

/** Polls `condition` every 10 ms for up to ~2 s; then fails, saying what was awaited and what was seen. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  seen: () => unknown = () => undefined,
) {
  for (let waited = 0; ; waited += STEP_MS) {
    if (await condition()) return;
    if (waited >= WAIT_MS) {
      const state = seen();
      throw new Error(`Timed out waiting for ${what}${state === undefined ? "" : `; seen: ${JSON.stringify(state)}`}`);
    }
    await new Promise((resolve) => setTimeout(resolve, STEP_MS));
  }
}

// ---- frames ---------------------------------------------------------------------

export type PersonalMessage = InboxAnswer["personal"][number];
export type AnnouncementMessage = InboxAnswer["announcements"][number];

export type CatchupFrame = { type: "catchup" } & InboxAnswer;
export type PersonalFrame = { type: "personal"; message: PersonalMessage };
export type AnnouncementFrame = { type: "announcement"; message: AnnouncementMessage };
export type OkFrame = { type: "ok"; for: "ack"; pending: number } | { type: "ok"; for: "read"; unread: number };
export type ErrorFrame = { type: "error"; status: number; title?: string; detail: string };
/** Read sync (v1.1): the seqs a read receipt removed from the unread set, on every other live connection. */
export type ReadFrame = { type: "read"; seqs: number[]; unread: number };
/** An announcement retracted (v1.1), on every live connection following its region. */
export type AnnouncementRetractFrame = { type: "retract"; region: string; id: number };
/** A personal message withdrawn (v1.1): retracted, or replaced through its collapseKey. */
export type PersonalRetractFrame = { type: "retract"; seq: number };
export type Frame =
  | CatchupFrame
  | PersonalFrame
  | AnnouncementFrame
  | OkFrame
  | ErrorFrame
  | ReadFrame
  | AnnouncementRetractFrame
  | PersonalRetractFrame
  | { type: "pong" };

export const personalSeqs = (frames: Frame[]) =>
  frames.filter((f): f is PersonalFrame => f.type === "personal").map((f) => f.message.seq);
export const announcementIds = (frames: Frame[]) =>
  frames.filter((f): f is AnnouncementFrame => f.type === "announcement").map((f) => f.message.id);
export const readFrames = (frames: Frame[]) => frames.filter((f): f is ReadFrame => f.type === "read");
/** The live frames about announcements, in arrival order, as [type, id]: what a client showed and withdrew. */
export const announcementEvents = (frames: Frame[]) =>
  frames.flatMap((f): [string, number][] =>
    f.type === "announcement" ? [[f.type, f.message.id]] : f.type === "retract" && "region" in f ? [[f.type, f.id]] : [],
  );

/** The seqs of the personal retract frames, in arrival order. */
export const retractedSeqs = (frames: Frame[]) =>
  frames.filter((f): f is PersonalRetractFrame => f.type === "retract" && "seq" in f).map((f) => f.seq);

// ---- opening a live connection ----------------------------------------------------

export type LiveOptions = {
  /** The token's `region` claim. */
  region?: string;
  /** The token's `device` claim. */
  device?: string;
  /** Query string, with its leading "?" (e.g. "?region=bj"). */
  query?: string;
  /** Send the token as ?token= instead of the Authorization header. */
  tokenInQuery?: boolean;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Run the Worker with these settings instead of the test environment's. */
  env?: Partial<Env>;
};

/** The live route with exactly these headers (the caller supplies any credentials). */
export function fetchLive(headers: Record<string, string>, query = "") {
  return call(`/v1/inbox/live${query}`, { headers });
}

async function liveRequest(userId: string, options: LiveOptions, kind: Record<string, string>) {
  const token = await clientTokenFor(userId, options);
  let path = `/v1/inbox/live${options.query ?? ""}`;
  const headers: Record<string, string> = { ...kind, ...options.headers };
  if (options.tokenInQuery) path += `${path.includes("?") ? "&" : "?"}token=${encodeURIComponent(token)}`;
  else headers.Authorization = `Bearer ${token}`;
  return options.env ? fetchWithEnv(options.env, path, { headers }) : call(path, { headers });
}

const opened = new Set<{ close(): Promise<void> | void }>();

/** Closes every socket and stream a test left open (use in afterEach). */
export async function closeAllLive() {
  const all = [...opened];
  opened.clear();
  await Promise.all(all.map((live) => live.close()));
}

// ---- WebSocket -------------------------------------------------------------------

/** A client WebSocket that records every frame it receives, parsed, in arrival order. */
export class LiveSocket {
  readonly frames: Frame[] = [];
  readonly raw: (string | ArrayBuffer)[] = [];
  closeEvent: { code: number; reason: string } | null = null;

  constructor(
    readonly ws: WebSocket,
    readonly label = "socket",
  ) {
    ws.addEventListener("message", (event) => {
      this.raw.push(event.data as string | ArrayBuffer);
      this.frames.push(JSON.parse(event.data as string) as Frame);
    });
    ws.addEventListener("close", (event) => {
      this.closeEvent = { code: event.code, reason: event.reason };
    });
    ws.accept();
    opened.add(this);
  }

  /** Waits until at least `count` frames have arrived; returns them all. */
  async waitForFrames(count: number) {
    await waitFor(() => this.frames.length >= count, `${count} frame(s) on ${this.label}`, () => this.frames);
    return this.frames;
  }

  /** Waits until some frame satisfies `match`; returns the first such frame. */
  async waitForFrame<F extends Frame>(match: (frame: Frame) => frame is F, what: string): Promise<F>;
  async waitForFrame(match: (frame: Frame) => boolean, what: string): Promise<Frame>;
  async waitForFrame(match: (frame: Frame) => boolean, what: string) {
    await waitFor(() => this.frames.some(match), `${what} on ${this.label}`, () => this.frames);
    return this.frames.find(match)!;
  }

  async catchup() {
    const [first] = await this.waitForFrames(1);
    if (first!.type !== "catchup") throw new Error(`first frame on ${this.label} is not a catchup: ${JSON.stringify(first)}`);
    return first as CatchupFrame;
  }

  waitForPersonal(seq: number) {
    return this.waitForFrame(
      (f): f is PersonalFrame => f.type === "personal" && f.message.seq === seq,
      `personal frame seq ${seq}`,
    );
  }

  waitForAnnouncement(id: number) {
    return this.waitForFrame(
      (f): f is AnnouncementFrame => f.type === "announcement" && f.message.id === id,
      `announcement frame id ${id}`,
    );
  }

  /** Waits for the first read-sync frame. */
  waitForRead() {
    return this.waitForFrame((f): f is ReadFrame => f.type === "read", "a read frame");
  }

  /** Waits for the retract frame of announcement `id`. */
  waitForAnnouncementRetract(id: number) {
    return this.waitForFrame(
      (f): f is AnnouncementRetractFrame => f.type === "retract" && "region" in f && f.id === id,
      `retract frame of announcement ${id}`,
    );
  }

  /**
   * Sends a client frame (text or binary as given; anything else as JSON text)
   * and returns the first ok, error or pong frame that arrives after it.
   */
  async request(frame: unknown): Promise<Frame> {
    const before = this.frames.length;
    const binary = frame instanceof ArrayBuffer || ArrayBuffer.isView(frame);
    this.ws.send(typeof frame === "string" || binary ? (frame as string | ArrayBuffer) : JSON.stringify(frame));
    await waitFor(
      () => this.frames.slice(before).some((f) => f.type === "ok" || f.type === "error" || f.type === "pong"),
      `an answer to ${typeof frame === "string" ? frame : "a client frame"} on ${this.label}`,
      () => this.frames.slice(before),
    );
    return this.frames.slice(before).find((f) => f.type === "ok" || f.type === "error" || f.type === "pong")!;
  }

  /**
   * A round trip through the user's object ({"type":"ack","upTo":0}, which
   * removes nothing): every frame the object sent before answering it has
   * arrived once this returns. The answer itself is removed from `frames`.
   */
  async barrier() {
    const before = this.frames.length;
    this.ws.send(JSON.stringify({ type: "ack", upTo: 0 }));
    const isAnswer = (f: Frame) => f.type === "ok" && f.for === "ack";
    await waitFor(() => this.frames.slice(before).some(isAnswer), `the barrier's answer on ${this.label}`, () => this.frames);
    const at = this.frames.findIndex((f, i) => i >= before && isAnswer(f));
    this.frames.splice(at, 1);
    this.raw.splice(at, 1);
  }

  /** Closes from the client side and waits for the close handshake to finish. */
  async close() {
    opened.delete(this);
    if (this.closeEvent) return;
    try {
      this.ws.close(1000, "test done");
    } catch {
      return;
    }
    await waitFor(() => this.closeEvent !== null, `${this.label} to close`);
  }
}

/** Opens a live WebSocket for `userId`; fails unless the answer is 101 with a socket. */
export async function openSocket(userId: string, options: LiveOptions = {}, label = `socket of ${userId}`) {
  const res = await liveRequest(userId, options, { Upgrade: "websocket" });
  if (res.status !== 101 || !res.webSocket) {
    throw new Error(`live upgrade answered ${res.status}: ${await res.text()}`);
  }
  return new LiveSocket(res.webSocket, label);
}

/** Opens a live WebSocket and waits for its catch-up frame: every frame after it is a live one. */
export async function caughtUpSocket(userId: string, options: LiveOptions = {}, label?: string) {
  const socket = await openSocket(userId, options, label);
  await socket.catchup();
  return socket;
}

/** The catch-up frame of a newly opened live WebSocket (closed after the test, as every socket). */
export async function liveCatchup(userId: string, options: LiveOptions = {}) {
  return (await openSocket(userId, options)).catchup();
}

/** Wraps the WebSocket of a 101 answer obtained some other way. */
export function adoptSocket(res: Response, label = "socket") {
  if (res.status !== 101 || !res.webSocket) throw new Error(`expected a 101 with a WebSocket, got ${res.status}`);
  return new LiveSocket(res.webSocket, label);
}

/** The live-upgrade request itself, for tests of refusals. */
export function liveUpgrade(userId: string, options: LiveOptions = {}) {
  return liveRequest(userId, options, { Upgrade: "websocket" });
}

// ---- Server-Sent Events ------------------------------------------------------------

export type SseEvent = { id: string | undefined; event: string; data: string; frame: Frame };

/** An event stream read incrementally (with the client's parser, client/src/event-stream.ts), every event kept. */
export class EventStream {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  ended = false;
  failure: unknown = null;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly pumping: Promise<void>;

  constructor(
    readonly response: Response,
    readonly label = "event stream",
  ) {
    this.reader = response.body!.getReader();
    this.pumping = this.pump();
    opened.add(this);
  }

  private async pump() {
    try {
      await readEventStream(this.reader, {
        onEvent: (event) => this.events.push({ ...event, frame: JSON.parse(event.data) as Frame }),
        onComment: (text) => this.comments.push(text),
      });
    } catch (error) {
      this.failure = error;
    } finally {
      this.ended = true;
    }
  }

  get frames() {
    return this.events.map((event) => event.frame);
  }

  /** Waits until at least `count` events have arrived; returns them all. */
  async waitForEvents(count: number) {
    await waitFor(
      () => this.events.length >= count,
      `${count} event(s) on ${this.label}`,
      () => ({ events: this.events, ended: this.ended, failure: String(this.failure ?? "") }),
    );
    return this.events;
  }

  /** Waits for the first event, which must be the catch-up; returns it. */
  async catchup() {
    const [first] = await this.waitForEvents(1);
    if (first!.event !== "catchup") throw new Error(`first event on ${this.label} is not a catchup: ${JSON.stringify(first)}`);
    return first!;
  }

  /** Waits until some event satisfies `match`; returns the first such event. */
  async waitForEvent(match: (event: SseEvent) => boolean, what: string) {
    await waitFor(() => this.events.some(match), `${what} on ${this.label}`, () => this.events);
    return this.events.find(match)!;
  }

  waitForPersonal(seq: number) {
    return this.waitForEvent((e) => e.frame.type === "personal" && e.frame.message.seq === seq, `personal event seq ${seq}`);
  }

  waitForAnnouncement(id: number) {
    return this.waitForEvent(
      (e) => e.frame.type === "announcement" && e.frame.message.id === id,
      `announcement event id ${id}`,
    );
  }

  /** Waits for the first read-sync event. */
  waitForRead() {
    return this.waitForEvent((e) => e.frame.type === "read", "a read event");
  }

  /** Waits for the retract event of announcement `id`. */
  waitForAnnouncementRetract(id: number) {
    return this.waitForEvent(
      (e) => e.frame.type === "retract" && "region" in e.frame && e.frame.id === id,
      `retract event of announcement ${id}`,
    );
  }

  /** Cancels the stream from the client side (as a browser does when the page goes away). */
  async close() {
    opened.delete(this);
    await this.reader.cancel().catch(() => {});
    await this.pumping;
  }
}

/** The SSE request itself (Accept: text/event-stream), for tests that look at the answer. */
export function liveEventStreamRequest(userId: string, options: LiveOptions = {}) {
  return liveRequest(userId, options, { Accept: "text/event-stream" });
}

/** Opens an SSE stream for `userId`; fails unless the answer is 200 text/event-stream. */
export async function openEventStream(userId: string, options: LiveOptions = {}, label = `event stream of ${userId}`) {
  const res = await liveEventStreamRequest(userId, options);
  if (res.status !== 200 || !res.body) throw new Error(`live event stream answered ${res.status}: ${await res.text()}`);
  return new EventStream(res, label);
}

/** Opens an SSE stream and waits for its catch-up event: every event after it is a live one. */
export async function caughtUpEventStream(userId: string, options: LiveOptions = {}, label?: string) {
  const stream = await openEventStream(userId, options, label);
  await stream.catchup();
  return stream;
}

/** Wraps the body of a 200 event-stream answer obtained some other way. */
export function adoptEventStream(res: Response, label = "event stream") {
  if (res.status !== 200 || !res.body) throw new Error(`expected a 200 event stream, got ${res.status}`);
  return new EventStream(res, label);
}

// ---- looking inside the objects -------------------------------------------------------

/** readyState of each WebSocket the user's object holds (WebSocket.OPEN is 1). */
export function userSocketStates(userId: string) {
  return runInDurableObject(userStub(userId), (_instance, state) =>
    state.getWebSockets().map((socket) => socket.readyState),
  );
}

/** The users the region's `followers` table lists. */
export function regionFollowers(regionId: string) {
  return runInDurableObject(regionStub(regionId), (_instance, state) =>
    state.storage.sql
      .exec<{ user: string }>("SELECT user FROM followers ORDER BY user")
      .toArray()
      .map((row) => row.user),
  );
}

/** Waits until the region's followers table no longer lists the user (its last live connection there closed). */
export function untilUnfollowed(regionId: string, userId: string) {
  return waitFor(
    async () => !(await regionFollowers(regionId)).includes(userId),
    `${userId} to leave the followers of ${regionId}`,
  );
}
