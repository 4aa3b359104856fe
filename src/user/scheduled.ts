// Personal messages held until their deliverAt (contract v1.1, "Scheduled
// delivery"): their rows (src/shared/schedule.ts), their Idempotency-Keys (in
// the publishes' key table, idempotency.ts, so that one key is one publish
// whichever way it went), and the object's one alarm, kept no later than the
// soonest (state.armBy). UserInbox publishes what is due through its own
// publish path, so a message gets its seq, createdAt and pushes then, and is
// published with whatever fields a message has.
import type { PublishAnswer, ScheduledAnswer, ScheduledEntry } from "../shared/responses";
import { Schedule } from "../shared/schedule";
import type { PersonalContent } from "../shared/schema";
import type { MeteredSql } from "../shared/sql";
import { IDEMPOTENCY_TTL_MS, IdempotencyKeys, type IdempotencyKey } from "./idempotency";
import type { InboxState } from "./state";

/** What a key used with a deliverAt answers again: the 202 that held the message, or the 201 of one published at once. */
export type ScheduleAnswer = ScheduledAnswer | PublishAnswer;

export class ScheduledMessages {
  private readonly schedule: Schedule;
  private readonly keys: IdempotencyKeys<ScheduleAnswer>;

  constructor(
    sql: MeteredSql,
    private readonly state: InboxState,
  ) {
    this.schedule = new Schedule(sql);
    this.keys = new IdempotencyKeys(sql);
  }

  /** The answer given under the key before, "conflict" for another body, undefined for none (or no key). */
  earlierAnswer(idempotency: IdempotencyKey | undefined, now: number) {
    return idempotency && this.keys.earlierAnswer(idempotency, now);
  }

  /** Holds the message until `deliverAt` (ms, ahead of `now`), remembering its key. */
  hold(id: string, content: PersonalContent, deliverAt: number, idempotency: IdempotencyKey | undefined, now: number): ScheduledAnswer {
    const answer: ScheduledAnswer = { scheduled: id, deliverAt: new Date(deliverAt).toISOString() };
    this.schedule.hold(id, deliverAt, content);
    if (idempotency) {
      this.keys.remember(idempotency, answer, now);
      this.state.values.idempotencyExpiresAt ??= now + IDEMPOTENCY_TTL_MS;
    }
    this.armAlarm();
    return answer;
  }

  /** Removes the messages due at `now` and answers their contents, soonest first, for the caller to publish in the same step. */
  takeDue(now: number): PersonalContent[] {
    return this.schedule.takeDue(now).map((due) => due.content);
  }

  list(): ScheduledEntry[] {
    return this.schedule.list();
  }

  cancel(id: string) {
    // The alarm stays where it is: it fires early, delivers nothing and is armed for the next.
    return this.schedule.cancel(id);
  }

  /** Keeps the alarm no later than the soonest message held, and writes the state row that records the alarm. */
  armAlarm() {
    this.state.armBy(this.schedule.nextAt);
    this.state.flush();
  }
}
