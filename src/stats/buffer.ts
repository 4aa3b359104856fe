// The stats an object has recorded and not yet handed to its shard
// (StatsShard.ts): counts per publish second, as plain data, so that the
// object keeps them inside a row it writes anyway (toJSON / StatsBuffer.from).
//
// A flush drains them into a numbered batch, which stays here until its shard
// confirms it and is sent again, unchanged, until then: a shard that applied it
// already knows it by its number. Changes recorded meanwhile wait for the next
// batch. Whatever copy of the buffer an object restarts from, a batch number
// never names two different contents: a number is given out only by drain(),
// and every copy stored after it holds that batch until it is confirmed.
import { addBuckets, type Buckets } from "./buckets";
import { latencyBin } from "./histogram";
import { ANNOUNCEMENTS, latencyKey, MESSAGES, outcomeKey, pushKey } from "./keys";
import type { ArrivalRoute, Outcome, OutcomeAt, PushCount, StatsRecorder } from "./recorder";
import type { PushChannel } from "../push/channel";

export interface Batch {
  /** The buffer's life: a source whose storage started afresh numbers its batches from 1 again. */
  epoch: string;
  number: number;
  buckets: Buckets;
}

export interface StatsBufferData {
  epoch: string;
  /** The number the next drained batch gets. */
  next: number;
  /** Recorded since the last drain. */
  pending: Buckets;
  /** Drained and not yet confirmed by the shard. */
  sending: Batch | null;
  /** When the next flush is due (ms): FLUSH_DELAY_MS after the first change since the last one; null with nothing to send. */
  flushDueAt: number | null;
}

/**
 * Counts may lag by at most 10 seconds (the contract): a change is flushed at
 * most 9 s after it, which leaves a second for the alarm to fire and the batch
 * to reach its shard.
 */
export const FLUSH_DELAY_MS = 9_000;

const arrivals: ReadonlySet<Outcome> = new Set<ArrivalRoute>(["push", "live", "poll"]);

export class StatsBuffer implements StatsRecorder {
  private constructor(private readonly data: StatsBufferData) {}

  /** A buffer from what toJSON() returned (after a trip through JSON), or a new one. */
  static from(data?: StatsBufferData | null): StatsBuffer {
    return new StatsBuffer(
      data ?? { epoch: crypto.randomUUID().replaceAll("-", "").slice(0, 16), next: 1, pending: {}, sending: null, flushDueAt: null },
    );
  }

  toJSON(): StatsBufferData {
    return this.data;
  }

  get flushDueAt() {
    return this.data.flushDueAt;
  }

  isDue(now = Date.now()) {
    return this.data.flushDueAt !== null && this.data.flushDueAt <= now;
  }

  /** Nothing recorded and nothing waiting for a shard. */
  isEmpty() {
    return this.data.sending === null && Object.keys(this.data.pending).length === 0;
  }

  message(publishedAt: number) {
    this.add(publishedAt, MESSAGES, 1);
  }

  pair(publishedAt: number, from: OutcomeAt | null, to: OutcomeAt) {
    if (from) this.outcome(publishedAt, from, -1);
    this.outcome(publishedAt, to, 1);
  }

  push(publishedAt: number, channel: PushChannel, count: PushCount) {
    this.add(publishedAt, pushKey(channel, count), 1);
  }

  announcements(publishedAt: number, n: number) {
    if (n !== 0) this.add(publishedAt, ANNOUNCEMENTS, n);
  }

  /**
   * The batch to send: the one not yet confirmed, else what was recorded since
   * (then numbered), else null. Until it is confirmed, a flush is due again
   * FLUSH_DELAY_MS from now.
   */
  drain(now = Date.now()): Batch | null {
    const { data } = this;
    if (!data.sending) {
      if (Object.keys(data.pending).length === 0) {
        data.flushDueAt = null;
        return null;
      }
      data.sending = { epoch: data.epoch, number: data.next++, buckets: data.pending };
      data.pending = {};
    }
    data.flushDueAt = now + FLUSH_DELAY_MS;
    return data.sending;
  }

  /** The shard has batch `number` (applied now or before). */
  confirm(number: number) {
    const { data } = this;
    if (data.sending?.number !== number) return;
    data.sending = null;
    // Changes recorded while it was sent keep the deadline set at the drain, which came before them.
    if (Object.keys(data.pending).length === 0) data.flushDueAt = null;
  }

  private outcome(publishedAt: number, { outcome, at }: OutcomeAt, sign: 1 | -1) {
    this.add(publishedAt, outcomeKey(outcome), sign);
    if (arrivals.has(outcome) && at !== null) {
      this.add(publishedAt, latencyKey(outcome as ArrivalRoute, latencyBin(at - publishedAt)), sign);
    }
  }

  private add(publishedAt: number, key: string, n: number) {
    // A count that comes back to 0 (a pair that moved on within one batch) is left out of it.
    addBuckets(this.data.pending, { [Math.floor(publishedAt / 1000)]: { [key]: n } });
    this.data.flushDueAt ??= Date.now() + FLUSH_DELAY_MS;
  }
}
