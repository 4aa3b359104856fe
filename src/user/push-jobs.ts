// The pushes still to be attempted, one row per (message, device): which channel, how many attempts
// were made, when the next is due, the last answer's status and time. The object's alarm wakes it at
// the earliest due time (nextDueAt); due() hands out what is due, record() takes each answer. A job
// that ends (sent, dead, failed, given up, stopped or cancelled) leaves its outcome in push_outcomes,
// which the message's view reads (outcomeOf) until the message's record goes (deleteUpTo).
//
// A retract push (the message withdrawn, dispatch.ts) is a job of the same (message, device), made
// once the message's own job has ended, and marked by the end of its lifetime (`retract_until`): it is
// retried and leased like any other, and leaves no outcome.
//
// An attempt handed out is leased: its row is marked in flight and due again only when the lease
// ends, so a second due() before the answer does not send it twice, and an attempt whose answer was
// lost (the object restarted while sending) is tried again. record() applies only to the attempt in
// flight, so recording an answer twice, or after a cancel, changes nothing.
import type { PushChannel, PushResult } from "../push/channel";
import { PUSH_TIMEOUT_MS } from "../push/http";
import { nextAttemptAt } from "../push/retry";
import type { MeteredSql } from "../shared/sql";

export type PushTarget = { device: string; channel: PushChannel };
/** One attempt handed out by due(): send it, then record its result. `retractUntil`: null for a push of the message, else a retract push's lifetime's end (ms). */
export type PushJob = PushTarget & { seq: number; attempt: number; firstDueAt: number; retractUntil: number | null };
/** An attempt's answer, or an attempt that could not be sent at all (its channel is off): failed, with no status. */
export type AttemptResult = PushResult | { outcome: "failed"; status: null };
/** What record() did: the job ended (sent, dead, failed, given up), is retried, or the attempt was not the one in flight. */
export type Recorded = "sent" | "dead" | "failed" | "given up" | "retrying" | "stale";
/** A (message, device) push as the message's view shows it: attempts made, the last answer's status (null: none came) and time (ms). */
export type PushOutcome = { channel: PushChannel; attempts: number; lastStatus: number | null; at: number };

/** An attempt takes at most two timed requests (FCM's access token, then the push): past that, its answer is lost. */
export const PUSH_LEASE_MS = 3 * PUSH_TIMEOUT_MS;
/**
 * Attempts handed out per due() call. A Worker invocation has six connections waiting for response
 * headers at a time, and queues any more until one gets its headers (developers.cloudflare.com/workers/platform/limits,
 * "Simultaneous open connections"; since 2026-04-09 only connections waiting for headers count:
 * developers.cloudflare.com/changelog/2026-04-09-relaxed-connection-limiting). Five pushes and the FCM
 * access-token request they may share never queue, so a push service that does not answer holds up
 * no other push; what is left is handed out by the next wake-up, another invocation.
 */
export const PUSH_DUE_BATCH = 5;

type JobRow = {
  device: string;
  seq: number;
  channel: PushChannel;
  attempts: number;
  in_flight: number;
  first_due_at: number;
  retract_until: number | null;
};
type EndedRow = {
  device: string;
  seq: number;
  channel: PushChannel;
  attempts: number;
  last_status: number | null;
  answered_at: number | null;
  retract_until: number | null;
};
const ENDED = "RETURNING device, seq, channel, attempts, last_status, answered_at, retract_until";
/**
 * The attempt handed out, by device, seq, attempt and kind: a cancelled push's late answer does not
 * apply to the retract push made in its place, nor an answer to a later attempt.
 */
const IN_FLIGHT = "device = ? AND seq = ? AND attempts = ? AND retract_until IS ? AND in_flight = 1";
const inFlight = (job: PushJob) => [job.device, job.seq, job.attempt, job.retractUntil] as const;

export class PushJobs {
  constructor(
    private readonly sql: MeteredSql,
    private readonly maxAttempts: () => number,
    private readonly random: () => number = Math.random,
  ) {}

  /**
   * The first attempt of `seq` to each target, due at `now`: a push of the message, or with
   * `retractUntil`, its retract push. A (seq, device) already scheduled is kept as it is.
   */
  schedule(seq: number, targets: readonly PushTarget[], now: number, retractUntil: number | null = null) {
    for (const { device, channel } of targets) {
      this.sql.run(
        `INSERT OR IGNORE INTO push_jobs (device, seq, channel, attempts, in_flight, first_due_at, due_at, last_status, retract_until)
         VALUES (?, ?, ?, 0, 0, ?, ?, NULL, ?)`,
        device,
        seq,
        channel,
        now,
        now,
        retractUntil,
      );
    }
  }

  /**
   * The attempts due at `now`, oldest first, at most `limit`, each leased; and the jobs given up because
   * their last allowed attempt was lost. Reads only the rows it returns.
   */
  due(now: number, limit = PUSH_DUE_BATCH): { send: PushJob[]; givenUp: PushJob[] } {
    const rows = this.sql.all<JobRow>(
      `SELECT device, seq, channel, attempts, in_flight, first_due_at, retract_until FROM push_jobs
       WHERE due_at <= ? ORDER BY due_at, seq, device LIMIT ?`,
      now,
      limit,
    );
    const send: PushJob[] = [];
    const givenUp: PushJob[] = [];
    for (const row of rows) {
      const { device, seq, channel, attempts: attempt, first_due_at: firstDueAt, retract_until: retractUntil } = row;
      const job = { device, seq, channel, attempt, firstDueAt, retractUntil };
      if (row.in_flight === 1 && row.attempts >= this.maxAttempts()) {
        // The lost answer is as no answer: no status, at the moment it was given up on.
        this.end(this.sql.all<EndedRow>(`DELETE FROM push_jobs WHERE device = ? AND seq = ? ${ENDED}`, row.device, row.seq), null, now);
        givenUp.push(job);
        continue;
      }
      this.sql.run(
        "UPDATE push_jobs SET attempts = attempts + 1, in_flight = 1, due_at = ? WHERE device = ? AND seq = ?",
        now + PUSH_LEASE_MS,
        row.device,
        row.seq,
      );
      send.push({ ...job, attempt: row.attempts + 1 });
    }
    return { send, givenUp };
  }

  /** The answer to a job's attempt, which came at `answeredAt`: the job ends, or its next attempt is scheduled. */
  record(job: PushJob, result: AttemptResult, answeredAt: number): Recorded {
    if (result.outcome === "retry") {
      const failed = { attempts: job.attempt, firstDueAt: job.firstDueAt, answeredAt };
      const retryAfter = result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs };
      const next = nextAttemptAt({ ...failed, ...retryAfter }, this.maxAttempts(), this.random);
      if (next !== "give up") {
        const rescheduled = this.sql.run(
          `UPDATE push_jobs SET in_flight = 0, due_at = ?, last_status = ?, answered_at = ?
           WHERE ${IN_FLIGHT} RETURNING seq`,
          next,
          result.status,
          answeredAt,
          ...inFlight(job),
        );
        return rescheduled === 1 ? "retrying" : "stale";
      }
    }
    const ended = this.sql.all<EndedRow>(`DELETE FROM push_jobs WHERE ${IN_FLIGHT} ${ENDED}`, ...inFlight(job));
    if (ended.length === 0) return "stale";
    this.end(ended, result.status, answeredAt);
    return result.outcome === "retry" ? "given up" : result.outcome;
  }

  /** The attempt handed out was not made (the message is no longer pending for the device): the job ends as it was before it. */
  stop(job: PushJob) {
    const ended = this.sql.all<EndedRow>(`DELETE FROM push_jobs WHERE ${IN_FLIGHT} ${ENDED}`, ...inFlight(job));
    this.end(ended.map((row) => ({ ...row, attempts: row.attempts - 1 })));
  }

  /** The device has acknowledged up to `upToSeq`: no more attempts of those. Answers how many were cancelled. */
  cancelFor(device: string, upToSeq: number) {
    return this.end(this.sql.all<EndedRow>(`DELETE FROM push_jobs WHERE device = ? AND seq <= ? ${ENDED}`, device, upToSeq));
  }

  /** The device's channel is now `channel` (null: none): its jobs through any other end. Answers how many. */
  cancelOtherChannels(device: string, channel: PushChannel | null) {
    return this.end(this.sql.all<EndedRow>(`DELETE FROM push_jobs WHERE device = ? AND channel IS NOT ? ${ENDED}`, device, channel));
  }

  /**
   * Message `seq` was withdrawn: its pushes end. Answers the devices, with their channels, that its push
   * may have reached: a push service accepted it (2xx), or an attempt's answer is not known (in flight,
   * a network error, a timeout). Where every attempt was refused with a status, or none was made, it did not.
   */
  withdraw(seq: number): PushTarget[] {
    const reached = this.sql.all<PushTarget>(
      `SELECT device, channel FROM push_outcomes WHERE seq = ? AND (last_status IS NULL OR last_status BETWEEN 200 AND 299)
       UNION SELECT device, channel FROM push_jobs
       WHERE seq = ? AND retract_until IS NULL AND attempts > 0 AND (in_flight = 1 OR last_status IS NULL)`,
      seq,
      seq,
    );
    this.end(this.sql.all<EndedRow>(`DELETE FROM push_jobs WHERE seq = ? AND retract_until IS NULL ${ENDED}`, seq));
    return reached;
  }

  /** When the earliest job is due (a lease's end included), for the object's alarm; null with none. */
  nextDueAt(): number | null {
    return this.sql.first<{ at: number | null }>("SELECT min(due_at) AS at FROM push_jobs")!.at;
  }

  /**
   * Each device's push of `seq` that has had an answer (or given up on one), ended or not. The
   * jobs not yet ended are few (each ends within about a minute of its first attempt, or is
   * cancelled), so reading them all for one seq stays cheap.
   */
  outcomeOf(seq: number): Map<string, PushOutcome> {
    const rows = this.sql.all<EndedRow>(
      `SELECT device, seq, channel, attempts, last_status, answered_at FROM push_outcomes WHERE seq = ?
       UNION ALL SELECT device, seq, channel, attempts, last_status, answered_at FROM push_jobs
       WHERE seq = ? AND answered_at IS NOT NULL AND retract_until IS NULL`,
      seq,
      seq,
    );
    return new Map(rows.map((row) => [row.device, { channel: row.channel, attempts: row.attempts, lastStatus: row.last_status, at: row.answered_at! }]));
  }

  /** The outcomes of messages up to `seq` are of use to no one any more (their records went). */
  deleteUpTo(seq: number) {
    return this.sql.run("DELETE FROM push_outcomes WHERE seq <= ? RETURNING seq", seq);
  }

  /**
   * Keeps the outcome of each ended push of a message that had an answer (the last one's status and
   * time may be given); a job that never had one was never pushed, as far as anyone can tell, and a
   * retract push is no push of the message. Answers how many ended.
   */
  private end(rows: EndedRow[], lastStatus?: number | null, answeredAt?: number) {
    for (const row of rows) {
      const at = answeredAt ?? row.answered_at;
      if (row.attempts === 0 || at === null || row.retract_until !== null) continue;
      this.sql.run(
        "INSERT OR REPLACE INTO push_outcomes (seq, device, channel, attempts, last_status, answered_at) VALUES (?, ?, ?, ?, ?, ?)",
        row.seq,
        row.device,
        row.channel,
        row.attempts,
        lastStatus === undefined ? row.last_status : lastStatus,
        at,
      );
    }
    return rows.length;
  }
}
