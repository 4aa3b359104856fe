// The pushes still to be attempted, one row per (message, device): which channel, how many attempts
// were made, when the next is due, the last answer's status. The object's alarm wakes it at the
// earliest due time (nextDueAt); due() hands out what is due, record() takes each answer.
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
/** One attempt handed out by due(): send it, then record its result. */
export type PushJob = PushTarget & { seq: number; attempt: number; firstDueAt: number };
/** What record() did: the job ended (sent, dead, failed, given up), is retried, or the attempt was not the one in flight. */
export type Recorded = "sent" | "dead" | "failed" | "given up" | "retrying" | "stale";

/** An attempt takes at most two timed requests (FCM's access token, then the push): past that, its answer is lost. */
export const PUSH_LEASE_MS = 3 * PUSH_TIMEOUT_MS;
/** Attempts handed out per due() call, so one wake-up's work stays bounded. */
export const PUSH_DUE_BATCH = 50;

type JobRow = { device: string; seq: number; channel: PushChannel; attempts: number; in_flight: number; first_due_at: number };

export class PushJobs {
  constructor(
    private readonly sql: MeteredSql,
    private readonly maxAttempts: () => number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The first attempt of `seq` to each target, due at `now`; a (seq, device) already scheduled is kept as it is. */
  schedule(seq: number, targets: readonly PushTarget[], now: number) {
    for (const { device, channel } of targets) {
      this.sql.run(
        `INSERT OR IGNORE INTO push_jobs (device, seq, channel, attempts, in_flight, first_due_at, due_at, last_status)
         VALUES (?, ?, ?, 0, 0, ?, ?, NULL)`,
        device,
        seq,
        channel,
        now,
        now,
      );
    }
  }

  /**
   * The attempts due at `now`, oldest first, at most `limit`, each leased; and the jobs given up because
   * their last allowed attempt was lost. Reads only the rows it returns.
   */
  due(now: number, limit = PUSH_DUE_BATCH): { send: PushJob[]; givenUp: PushJob[] } {
    const rows = this.sql.all<JobRow>(
      `SELECT device, seq, channel, attempts, in_flight, first_due_at FROM push_jobs
       WHERE due_at <= ? ORDER BY due_at, seq, device LIMIT ?`,
      now,
      limit,
    );
    const send: PushJob[] = [];
    const givenUp: PushJob[] = [];
    for (const row of rows) {
      const job = { device: row.device, seq: row.seq, channel: row.channel, attempt: row.attempts, firstDueAt: row.first_due_at };
      if (row.in_flight === 1 && row.attempts >= this.maxAttempts()) {
        this.sql.run("DELETE FROM push_jobs WHERE device = ? AND seq = ?", row.device, row.seq);
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
  record(job: PushJob, result: PushResult, answeredAt: number): Recorded {
    const inFlight = [job.device, job.seq, job.attempt] as const;
    if (result.outcome === "retry") {
      const failed = { attempts: job.attempt, firstDueAt: job.firstDueAt, answeredAt };
      const retryAfter = result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs };
      const next = nextAttemptAt({ ...failed, ...retryAfter }, this.maxAttempts(), this.random);
      if (next !== "give up") {
        const rescheduled = this.sql.run(
          `UPDATE push_jobs SET in_flight = 0, due_at = ?, last_status = ?
           WHERE device = ? AND seq = ? AND attempts = ? AND in_flight = 1 RETURNING seq`,
          next,
          result.status,
          ...inFlight,
        );
        return rescheduled === 1 ? "retrying" : "stale";
      }
    }
    const ended = this.sql.run(
      "DELETE FROM push_jobs WHERE device = ? AND seq = ? AND attempts = ? AND in_flight = 1 RETURNING seq",
      ...inFlight,
    );
    if (ended === 0) return "stale";
    return result.outcome === "retry" ? "given up" : result.outcome;
  }

  /** The device has acknowledged up to `upToSeq` (or is gone, with the newest seq): no more attempts of those. Answers how many were cancelled. */
  cancelFor(device: string, upToSeq: number) {
    return this.sql.run("DELETE FROM push_jobs WHERE device = ? AND seq <= ? RETURNING seq", device, upToSeq);
  }

  /** When the earliest job is due (a lease's end included), for the object's alarm; null with none. */
  nextDueAt(): number | null {
    return this.sql.first<{ at: number | null }>("SELECT min(due_at) AS at FROM push_jobs")!.at;
  }
}
