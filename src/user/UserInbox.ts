// One object per user: the pending set (not yet received by some device), the
// unread set (not yet read), the user's devices (what each has received, its
// announcement cursor per region), and publishers' idempotency keys.
//
// It also holds the user's live connections (hibernatable WebSockets) and
// sends each of them every new personal message and, for the region it
// follows, every new announcement; and it pushes each new personal message
// through the push channels of the devices without one (dispatch.ts).
//
// This file is the object's surface: each method wires the modules that hold
// the concerns (publishing, polling, receipts, views, expiry, cursors, regions,
// live), built once per object over the same storage. A method that touches
// the sets first clears what is due (expiry.ts), and a change ends with a flush
// of the state row (state.ts), which writes only what changed.
//
// The object is single-threaded and every change below is synchronous SQL, so
// each method sees and leaves one consistent state. The only awaits that let
// other requests in are calls to a region; everything that depends on the
// pending set, and every live socket's acceptance, happens after them.
import { DurableObject } from "cloudflare:workers";
import { config, type Env } from "../config";
import type { ReadFrom, StoredAnnouncement } from "../region/window";
import { catchupFrame, frame, parseClientFrame, type ServerFrame } from "../shared/frames";
import type { PublishAnswer } from "../shared/responses";
import type { PushRegistration } from "../shared/push-registration";
import { withAnalytics } from "../stats/analytics";
import { flushStats } from "../stats/flush";
import type { PersonalContent, ReadReceipt } from "../shared/schema";
import { migrate } from "../shared/migrations";
import { rateLimitDetail, retryAfterSeconds, withinClientLimit } from "../shared/rate-limit";
import { MeteredSql } from "../shared/sql";
import { connectionOf, parseEventId, send, type Connection } from "./connection";
import { Cursors } from "./cursors";
import { Deliveries } from "./deliveries";
import { Devices } from "./devices";
import { PushDispatch } from "./dispatch";
import { Expiry } from "./expiry";
import { HandOvers } from "./handovers";
import { IdempotencyKeys, type IdempotencyKey } from "./idempotency";
import { LiveSockets } from "./live";
import { MessageSets } from "./message-sets";
import { Polling, type PollRequest } from "./polling";
import { Publishing } from "./publishing";
import { PushJobs } from "./push-jobs";
import { PushRegistrations } from "./push-registrations";
import { Receipts } from "./receipts";
import { Regions } from "./regions";
import { Retraction } from "./retraction";
import { ScheduledMessages, type ScheduleAnswer } from "./scheduled";
import { userSchema } from "./schema";
import { InboxState } from "./state";
import { Views } from "./views";

// The requests the Worker sends this object.
export type { PollRequest } from "./polling";

/** A live connection request, forwarded by the Worker in the LIVE_HEADER of the upgrade. */
export type LiveRequest = PollRequest & { sse: boolean; lastEventId?: string };
export const LIVE_HEADER = "X-Postbox-Live";

export class UserInbox extends DurableObject<Env> {
  private readonly sets: MessageSets;
  private readonly state: InboxState;
  private readonly cursors: Cursors;
  private readonly devices: Devices;
  private readonly expiry: Expiry;
  private readonly publishing: Publishing;
  private readonly retraction: Retraction;
  private readonly receipts: Receipts;
  private readonly polling: Polling;
  private readonly regions: Regions;
  private readonly views: Views;
  private readonly live: LiveSockets;
  private readonly registrations: PushRegistrations;
  private readonly handOvers: HandOvers;
  private readonly deliveries: Deliveries;
  private readonly dispatch: PushDispatch;
  private readonly scheduled: ScheduledMessages;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const sql = new MeteredSql(ctx.storage.sql);
    migrate(ctx.storage, sql, userSchema);
    this.sets = new MessageSets(sql);
    this.state = new InboxState(ctx, sql);
    this.cursors = new Cursors(sql);
    const keys = new IdempotencyKeys(sql);
    // Modules read `this.env` at each call rather than keep it: a test gives a running object
    // other settings (test/config.test.ts).
    const settings = () => config(this.env);
    this.devices = new Devices(sql, this.state, () => ({ limit: settings().DEVICE_LIMIT, ttlMs: settings().DEVICE_TTL_SECONDS * 1000 }), {
      becameKnown: (device) => this.deliveries.becameKnown(device),
      acknowledged: (device) => this.dispatch.acknowledged(device),
      forgotten: (device, at) => {
        this.deliveries.forgotten(device, at);
        this.dispatch.forgotten(device);
      },
    });
    this.live = new LiveSockets(ctx, (device, region, epoch, cursor) => this.cursors.store(device, region, epoch, cursor));
    const isLive = (device: string) => this.live.holds(device);
    this.handOvers = new HandOvers(sql);
    this.deliveries = new Deliveries(sql, this.sets, this.devices, this.handOvers, () =>
      withAnalytics(this.state.stats, this.env.ARRIVAL_ANALYTICS, ctx.id.name!),
      (upTo) => this.dispatch.deleteUpTo(upTo),
    );
    this.receipts = new Receipts(this.sets, this.state, this.devices, this.deliveries);
    this.expiry = new Expiry(settings, this.sets, keys, this.state, this.devices, this.receipts, this.deliveries, isLive);
    this.retraction = new Retraction(this.sets, this.state, this.deliveries);
    this.publishing = new Publishing(settings, this.sets, keys, this.expiry, this.state, this.devices, this.deliveries, this.retraction);
    this.polling = new Polling(this.sets, this.state, this.cursors, this.receipts, this.devices, this.handOvers);
    this.regions = new Regions(ctx, () => this.env);
    this.registrations = new PushRegistrations(sql);
    const jobs = new PushJobs(sql, () => settings().PUSH_MAX_ATTEMPTS);
    this.dispatch = new PushDispatch(jobs, this.sets, this.devices, this.registrations, this.state, isLive, () => this.env, () => this.state.stats);
    this.views = new Views(sql, this.sets, this.state, this.cursors, this.devices, this.receipts, isLive, this.registrations, this.deliveries);
    this.scheduled = new ScheduledMessages(sql, this.state);
    // Answered by the runtime without waking the object.
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair('{"type":"ping"}', '{"type":"pong"}'));
  }

  async publish(content: PersonalContent, idempotency?: IdempotencyKey): Promise<PublishAnswer | "conflict"> {
    this.expiry.clearDue();
    this.deliverScheduled();
    const targets = this.dispatch.targets();
    const published = this.publishing.publish(content, idempotency, targets.length);
    if ("repeat" in published) return published.repeat;
    const { seq, createdAt, replaced } = published.answer;
    if (replaced !== null) {
      this.live.sendRetract(replaced);
      this.dispatch.withdrawn(replaced);
    }
    for (const device of this.live.sendPersonal(seq, published.message)) {
      this.handOvers.note(device, seq - 1, seq, { route: "live", at: Date.parse(createdAt) });
    }
    this.dispatch.published(seq, targets, Date.parse(createdAt));
    return published.answer;
  }

  /**
   * A personal message to publish at `deliverAt` (ms): held until then (202), or, when that is not
   * later than now, published at once (201). A repeated key answers what it answered first.
   */
  async schedule(id: string, content: PersonalContent, deliverAt: number, idempotency?: IdempotencyKey): Promise<ScheduleAnswer | "conflict"> {
    this.expiry.clearDue();
    this.deliverScheduled();
    const now = Date.now();
    const earlier = this.scheduled.earlierAnswer(idempotency, now);
    if (earlier !== undefined) return earlier;
    if (deliverAt <= now) return this.publish(content, idempotency);
    return this.scheduled.hold(id, content, deliverAt, idempotency, now);
  }

  /** GET /admin/v1/users/{userId}/scheduled: what is held, soonest first. */
  scheduledMessages() {
    this.expiry.clearDue();
    this.deliverScheduled();
    this.state.flush();
    return { scheduled: this.scheduled.list() };
  }

  /** DELETE /admin/v1/scheduled/{id}: whether it was held and now is not. */
  cancelScheduled(id: string) {
    this.expiry.clearDue();
    this.deliverScheduled();
    this.state.flush();
    return this.scheduled.cancel(id);
  }

  /** The message request, answered as JSON text: the device's pending personal messages plus announcements after its cursor. */
  async poll(request: PollRequest) {
    const region = this.polling.regionFor(request);
    const from = region === null ? null : this.cursors.startFor(request.device, region, request);
    const window = region === null ? null : await this.regions.read(region, from, request.limit);
    // Nothing awaits from here on: the answer is built from the state as it is now.
    this.expiry.clearDue();
    this.deliverScheduled();
    return this.polling.answer(request, this.seen(request.device), region, window, "poll");
  }

  ack(device: string, upTo: number) {
    this.expiry.clearDue();
    this.deliverScheduled();
    return this.receipts.ack(this.seen(device), upTo);
  }

  /** A read receipt, from a request or a socket (`from`, which gets its own answer instead of the read sync). */
  markRead(device: string, receipt: ReadReceipt, from?: WebSocket) {
    this.expiry.clearDue();
    this.deliverScheduled();
    const { unread, read } = this.receipts.markRead(this.seen(device), receipt);
    if (read.length > 0) this.live.sendRead(read, unread, from);
    return { unread };
  }

  unread(device: string, limit: number) {
    this.expiry.clearDue();
    this.deliverScheduled();
    const { id } = this.seen(device);
    const { text, seqs } = this.views.unread(limit);
    if (seqs.length > 0) this.handOvers.note(id, seqs[0]! - 1, seqs.at(-1)!, { route: "poll", at: Date.now() });
    this.state.flush();
    return text;
  }

  /** POST /v1/inbox/arrived: the device's push channel delivered these seqs. */
  arrived(device: string, seqs: number[]) {
    this.expiry.clearDue();
    this.deliverScheduled();
    const recorded = this.deliveries.arrived(this.seen(device), seqs, Date.now());
    this.state.flush();
    return { recorded };
  }

  /**
   * DELETE /admin/v1/users/{userId}/messages/{seq}: the message leaves both sets, every live
   * connection is told, and so is each device its push may have reached (dispatch.ts).
   */
  retract(seq: number) {
    this.expiry.clearDue();
    const message = this.retraction.withdraw(seq, Date.now());
    if (message !== undefined) {
      this.live.sendRetract(seq);
      this.dispatch.retracted(seq, message);
    }
    this.state.flush();
    return { retracted: message !== undefined };
  }

  /** The message's outcome on each device that had it pending; null for a seq not (or no longer) recorded. */
  delivery(seq: number) {
    this.expiry.clearDue();
    this.deliverScheduled();
    this.state.flush();
    return this.views.delivery(seq, this.dispatch.pushOf(seq));
  }

  /** PUT /v1/push: the device's push channel, replacing any other it had. */
  registerPush(device: string, registration: PushRegistration) {
    this.expiry.clearDue();
    this.deliverScheduled();
    this.registrations.register(this.seen(device).id, registration);
    this.dispatch.registered(device, registration.channel);
    this.state.flush();
    return { device, channel: registration.channel };
  }

  /** DELETE /v1/push. */
  unregisterPush(device: string) {
    this.expiry.clearDue();
    this.deliverScheduled();
    this.registrations.remove(this.seen(device).id);
    this.dispatch.registered(device, null);
    this.state.flush();
    return { device, channel: null };
  }

  /** GET /v1/push: the device's channel, or null. */
  pushChannel(device: string) {
    this.expiry.clearDue();
    this.deliverScheduled();
    this.seen(device);
    this.state.flush();
    return this.registrations.channelOf(device);
  }

  setRegion(region: string | null) {
    this.state.update({ region });
    return region;
  }

  describe() {
    this.expiry.clearDue();
    this.deliverScheduled();
    this.state.flush();
    return this.views.describe();
  }

  storageCost() {
    return this.views.storageCost();
  }


  async alarm() {
    this.state.alarmFired();
    this.expiry.clearDue();
    this.deliverScheduled();
    // The stats go first: once their shard has them their deadline is gone, so the alarm is armed
    // below for the next real one, not for a retry of theirs (a request meanwhile may arm that).
    if (this.state.stats.isDue()) await flushStats(this.env, `user:${this.ctx.id.name}`, this.state.stats);
    // Hands out the push attempts due, without waiting for their answers; arms the alarm.
    this.dispatch.sendDue();
    this.scheduled.armAlarm();
  }

  /**
   * Publishes the scheduled messages now due, soonest first, each taking the next seq, its createdAt
   * and its pushes now. Taking their rows and publishing them is one synchronous step (publish awaits
   * nothing), so a retried alarm or a restart never publishes one twice.
   */
  private deliverScheduled() {
    const due = this.scheduled.takeDue(Date.now());
    if (due.length === 0) return;
    for (const content of due) void this.publish(content);
    this.scheduled.armAlarm();
  }

  // ---- live delivery -------------------------------------------------------

  /**
   * A live connection. The Worker forwards the upgrade here so the socket is
   * accepted with the hibernation API: an idle connection costs nothing.
   * A new connection gets the catch-up frame; an SSE reconnect with a
   * Last-Event-ID gets every event after that one instead.
   */
  async fetch(request: Request) {
    const live = JSON.parse(request.headers.get(LIVE_HEADER)!) as LiveRequest;
    const region = this.polling.regionFor(live);
    const resumeAt = live.sse ? parseEventId(live.lastEventId) : null;
    const from: ReadFrom = resumeAt ? { since: resumeAt.cursor, epoch: resumeAt.epoch } : null;
    // Following the region starts with this read, so no announcement falls between it and the socket.
    const window = region === null ? null : await this.live.connect(region, () =>
      resumeAt
        ? this.regions.readAndFollow(region, from, config(this.env).ANNOUNCEMENT_LIMIT)
        : this.regions.readAndFollow(region, this.cursors.startFor(live.device, region, live), live.limit),
    );

    // From here on nothing awaits: what is sent below and what arrives later do not overlap.
    this.expiry.clearDue();
    this.deliverScheduled();
    const device = this.seen(live.device);
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    const connection: Connection = {
      device: device.id,
      region,
      epoch: window?.epoch ?? null,
      cursor: resumeAt?.cursor ?? window?.cursor ?? 0,
      seq: this.state.values.lastSeq,
      sse: live.sse,
    };
    this.live.accept(server, connection);
    if (resumeAt) {
      // What the device has received since is not sent again.
      const resent = this.sets.pendingAfter(Math.max(resumeAt.seq, device.acked));
      this.live.replay(server, connection, resent, window);
      if (resent.length > 0) this.handOvers.note(device.id, resent[0]!.seq - 1, resent.at(-1)!.seq, { route: "live", at: Date.now() });
      this.state.flush();
    } else send(server, connection, "catchup", catchupFrame(this.polling.answer(live, device, region, window, "live")));
    if (region !== null && this.live.missedWhileConnecting(connection)) void this.catchUpSockets(region);
    return new Response(null, { status: 101, webSocket: client });
  }

  /** Called by a region this user follows, for each new announcement. Answers whether anyone still listens. */
  async deliverAnnouncement(region: string, announcement: StoredAnnouncement) {
    if (!this.live.listening(region)) return false;
    this.live.notePush(region, announcement.id);
    await this.catchUpSockets(region, announcement);
    return true;
  }

  /** Called by a region this user follows when an announcement is retracted. Answers whether anyone still listens. */
  async retractAnnouncement(region: string, id: number) {
    if (!this.live.listening(region)) return false;
    await this.live.retractAnnouncement(region, id);
    return true;
  }

  private catchUpSockets(region: string, pushed?: StoredAnnouncement) {
    return this.live.deliver(region, (from) => this.regions.readGap(region, from), pushed);
  }

  /** A client frame: ack or read, answered with an ok or error frame; one over the user's rate limit is ignored. */
  async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer) {
    if (!(await withinClientLimit(this.env, this.ctx.id.name!))) {
      answerFrame(socket, frame({ type: "error", status: 429, detail: rateLimitDetail(retryAfterSeconds()) }));
      return;
    }
    const parsed = parseClientFrame(message, config(this.env).MESSAGE_MAX_BYTES);
    const { device } = connectionOf(socket);
    const reply: ServerFrame =
      parsed.type === "ack"
        ? { type: "ok", for: "ack", ...this.ack(device, parsed.upTo) }
        : parsed.type === "read"
          ? { type: "ok", for: "read", ...this.markRead(device, parsed.receipt, socket) }
          : parsed;
    answerFrame(socket, frame(reply));
  }

  async webSocketClose(socket: WebSocket) {
    try {
      socket.close();
    } catch {
      // Already closed by the runtime's automatic reply.
    }
    await this.closed(connectionOf(socket));
  }

  async webSocketError(socket: WebSocket) {
    await this.closed(connectionOf(socket));
  }

  /** A live connection ended: its device was seen until now, and its region may have no one left to push to. */
  private async closed({ device, region }: Connection) {
    if (this.devices.get(device)?.known) {
      this.seen(device);
      this.state.flush();
    }
    await this.stopFollowingIfIdle(region);
  }

  /**
   * A client request naming the device: it is seen now (a new one has the
   * whole pending set pending), and a deadline to forget it is armed if none is.
   */
  private seen(id: string) {
    const now = Date.now();
    const device = this.devices.see(id, now, (other) => this.live.holds(other));
    this.state.values.devicesForgetAt ??= now + config(this.env).DEVICE_TTL_SECONDS * 1000;
    return device;
  }

  private async stopFollowingIfIdle(region: string | null) {
    if (region !== null) await this.regions.unfollowUnlessListening(region, () => this.live.listening(region));
  }
}

/** Answers a client frame; a client that closed right after sending it (a page going away) gets nothing. */
function answerFrame(socket: WebSocket, text: string) {
  try {
    socket.send(text);
  } catch {
    // Closed meanwhile.
  }
}
