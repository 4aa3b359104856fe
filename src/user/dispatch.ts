// Sending each personal message through the push channels of the user's devices (contract v1.1, "Push
// channels", Delivery), with the message kept pending as the backstop.
//
// A publish schedules one job per device it is pushed to (push-jobs.ts) and hands out what is due at
// once; the object's alarm, kept no later than the next job's due time or lease end, is the durable
// backstop that hands out the rest (retries, attempts whose answers were lost). Nothing waits for a
// push service: each attempt runs on its own and is recorded when its answer (or timeout) comes, so a
// slow service holds up neither the publish nor any other attempt; PUSH_DUE_BATCH keeps each wake-up's
// attempts within the runtime's connections per invocation, so none queues behind a slow one.
//
// Right before an attempt goes, it is checked to be still wanted: the message pending for that device
// (in the pending set, above the device's acknowledgement, the device known) and the device's
// registration still on the job's channel. A push that is not is stopped and counts nowhere.
//
// A message withdrawn (replaced through its collapseKey, or retracted) is pushed no more; a retracted
// one is followed by a retract push to each device its push may have reached and that has not
// acknowledged it, through the same channel, while that stays so. Retract pushes count in no counter.
import type { Env } from "../config";
import type { PushAttempt, PushChannel } from "../push/channel";
import { missingFor } from "../push/credentials";
import { pushAttemptFor, retractAttemptFor, type MessagePush } from "../push/payload";
import { sendPush } from "../push/senders";
import type { PushRegistration } from "../shared/push-registration";
import type { PersonalMessage } from "../shared/schema";
import type { StatsRecorder } from "../stats/recorder";
import type { Device, Devices } from "./devices";
import type { MessageSets } from "./message-sets";
import type { PushRegistrations } from "./push-registrations";
import type { AttemptResult, PushJob, PushJobs, PushOutcome, PushTarget } from "./push-jobs";
import type { InboxState } from "./state";

/** Where the push counters go (the stats recorder; counted by the message's publish time). */
export type PushStats = Pick<StatsRecorder, "push">;

export class PushDispatch {
  constructor(
    private readonly jobs: PushJobs,
    private readonly sets: MessageSets,
    private readonly devices: Devices,
    private readonly registrations: PushRegistrations,
    private readonly state: InboxState,
    /** Whether a device holds an open live connection (which gets the live frame instead). */
    private readonly isLive: (device: string) => boolean,
    private readonly env: () => Env,
    private readonly stats: () => PushStats,
  ) {}

  /**
   * The devices a message published now is pushed to: the known ones with a registration, on a channel
   * the deployment configures, and no open live connection.
   */
  targets(): PushTarget[] {
    const channels = this.registrations.channels();
    const on = (channel: PushChannel | undefined) => channel !== undefined && missingFor(this.env(), channel).length === 0;
    return this.devices
      .known()
      .filter((device) => on(channels.get(device.id)) && !this.isLive(device.id))
      .map((device) => ({ device: device.id, channel: channels.get(device.id)! }));
  }

  /** Message `seq`, published at `publishedAt` (ms), is pushed to `targets`: the first attempts go now. */
  published(seq: number, targets: readonly PushTarget[], publishedAt: number) {
    // A job's first due time is its message's publish time: the counters are bucketed by it.
    this.jobs.schedule(seq, targets, publishedAt);
    this.sendDue();
  }

  /**
   * Hands out the attempts due now and starts each on its own, without waiting for any; re-arms the
   * alarm for the rest. Called by a publish and by the alarm; leases keep a second call from sending
   * anything twice.
   */
  sendDue() {
    const now = Date.now();
    const { send, givenUp } = this.jobs.due(now);
    for (const job of givenUp) this.count(job, "failed");
    for (const job of send) {
      this.attempt(job).catch((error) => console.error(`postbox push (${job.channel}) of seq ${job.seq}:`, error));
    }
    this.rearm();
  }

  /** Each device's push of `seq`, for the message's view (see PushJobs.outcomeOf). */
  pushOf(seq: number): Map<string, PushOutcome> {
    return this.jobs.outcomeOf(seq);
  }

  /** The records of messages up to `seq` are gone: so go their pushes' outcomes. */
  deleteUpTo(seq: number) {
    return this.jobs.deleteUpTo(seq);
  }

  /** Message `seq` was replaced through its collapseKey: it is pushed no more (its successor's push carries the same collapse key). */
  withdrawn(seq: number) {
    this.jobs.withdraw(seq);
    this.rearm();
  }

  /**
   * Message `seq` (its stored JSON text) was retracted: it is pushed no more, and each device its push
   * may have reached, that has not acknowledged it and is still registered on that channel, gets the
   * retract push, for as long as the message's own push would have lived.
   */
  retracted(seq: number, message: string) {
    const until = this.pushDeadline(JSON.parse(message) as PersonalMessage);
    const targets = this.jobs.withdraw(seq).filter(({ device, channel }) => this.registrationFor(device, seq, channel) !== null);
    this.jobs.schedule(seq, targets, Date.now(), until);
    this.sendDue();
  }

  /** Nothing the device has acknowledged is pushed to it any more. */
  acknowledged(device: Device) {
    this.jobs.cancelFor(device.id, device.acked);
  }

  /** The device registered `channel` (null: removed its registration): pushes through any other stop. */
  registered(device: string, channel: PushChannel | null) {
    this.jobs.cancelOtherChannels(device, channel);
  }

  forgotten(device: Device) {
    this.jobs.cancelOtherChannels(device.id, null);
  }

  private async attempt(job: PushJob) {
    const wanted = this.stillWanted(job);
    if (!wanted) {
      this.jobs.stop(job);
      return;
    }
    if (job.attempt > 1) this.count(job, "retried");
    const { registration, attempt } = wanted;
    let result: AttemptResult;
    try {
      const answer = await sendPush(this.env(), registration, attempt);
      result = answer.outcome === "off" ? { outcome: "failed", status: null } : answer;
    } catch (error) {
      // A secret that is set but unusable (a ConfigError): the operator has to act, and no retry helps.
      console.error(`postbox push (${job.channel}): ${error instanceof Error ? error.message : String(error)}`);
      result = { outcome: "failed", status: null };
    }
    this.answered(job, registration, result, Date.now());
  }

  /** The registration to push through and what to send, if the push is still wanted (see the top of this file). */
  private stillWanted(job: PushJob): { registration: PushRegistration; attempt: PushAttempt } | null {
    const registration = this.registrationFor(job.device, job.seq, job.channel);
    if (registration === null) return null;
    const now = Date.now();
    if (job.retractUntil !== null) return { registration, attempt: retractAttemptFor(job.channel, job.seq, job.retractUntil, now) };
    const message = this.sets.pendingMessage(job.seq);
    if (message === undefined) return null;
    const parsed = JSON.parse(message) as PersonalMessage;
    return { registration, attempt: pushAttemptFor(job.channel, messagePush(job.seq, message, parsed), this.pushDeadline(parsed), now) };
  }

  /** The device's registration, if the device is known, has not acknowledged `seq`, and is registered on `channel`. */
  private registrationFor(device: string, seq: number, channel: PushChannel): PushRegistration | null {
    const known = this.devices.get(device);
    if (!known?.known || seq <= known.acked) return null;
    const registration = this.registrations.get(device);
    return registration?.channel === channel ? registration : null;
  }

  private answered(job: PushJob, registration: PushRegistration, result: AttemptResult, answeredAt: number) {
    const recorded = this.jobs.record(job, result, answeredAt);
    if (recorded === "sent") this.count(job, "sent");
    if (recorded === "failed" || recorded === "given up" || recorded === "dead") this.count(job, "failed");
    // Dead is dead even when the job ended meanwhile; a registration made since is another one.
    if (result.outcome === "dead" && this.registrations.removeIf(job.device, registration)) {
      this.count(job, "removed");
      this.jobs.cancelOtherChannels(job.device, null);
    }
    this.rearm();
  }

  /** When the message would leave the pending set: the set expires as a whole (expiry.ts), or the message by its ttlSeconds first. */
  private pushDeadline({ createdAt, ttlSeconds }: PersonalMessage) {
    const setDeadline = this.state.values.pendingExpiresAt ?? Date.now();
    return ttlSeconds === undefined ? setDeadline : Math.min(setDeadline, Date.parse(createdAt) + ttlSeconds * 1000);
  }

  private count(job: PushJob, count: "sent" | "failed" | "retried" | "removed") {
    // Retract pushes are not counted (contract v1.1, "Arrival").
    if (job.retractUntil === null) this.stats().push(job.firstDueAt, job.channel, count);
  }

  /** The alarm no later than the next job; flushed, since an answer comes outside any request. */
  private rearm() {
    this.state.armBy(this.jobs.nextDueAt());
    this.state.flush();
  }
}

/** What a push of the stored message (its text, and that parsed) carries besides its payload: its texts, urgency and collapse key. */
function messagePush(seq: number, message: string, { title, body, priority, collapseKey }: PersonalMessage): MessagePush {
  const urgency = priority === "high" ? "high" : "normal";
  return { seq, message, urgency, body, ...(title !== undefined && { title }), ...(collapseKey !== undefined && { collapseKey }) };
}
