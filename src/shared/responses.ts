// The answers of every route, as valibot schemas: the OpenAPI document
// (GET /openapi.json) is generated from them and the answers' types derive from
// them. Where a Durable Object builds an answer's JSON text itself (poll,
// unread, a region's listing), the schema still describes that text; answers
// are not checked against these at run time.
import * as v from "valibot";
import { announcement, count, deviceId, messageContentSchema, personalMessage, regionId, seq, timestamp, userId } from "./schema";

const regionOrNull = v.nullable(regionId);
const epoch = v.pipe(v.string(), v.minLength(1));

// ---- client routes --------------------------------------------------------------

export const inboxAnswer = v.pipe(
  v.strictObject({
    personal: v.array(personalMessage),
    announcements: v.array(announcement),
    region: regionOrNull,
    cursor: v.nullable(count),
    epoch: v.nullable(epoch),
    ack: v.nullable(seq),
    dropped: count,
    gap: v.boolean(),
    reset: v.boolean(),
    more: v.boolean(),
  }),
  v.metadata({ ref: "InboxAnswer" }),
);
export type InboxAnswer = v.InferOutput<typeof inboxAnswer>;

export const ackAnswer = v.strictObject({ pending: count });
export type AckAnswer = v.InferOutput<typeof ackAnswer>;
export const readAnswer = v.strictObject({ unread: count });
export type ReadAnswer = v.InferOutput<typeof readAnswer>;
export const arrivedAnswer = v.strictObject({
  recorded: v.pipe(v.array(seq), v.description("The seqs whose pair this report turned into an arrival, ascending.")),
});
export type ArrivedAnswer = v.InferOutput<typeof arrivedAnswer>;
export const unreadAnswer = v.strictObject({ count, messages: v.array(personalMessage) });
export type UnreadAnswer = v.InferOutput<typeof unreadAnswer>;

/** What GET /v1/inbox/live sends as Server-Sent Events; its frames are described in docs/API.md. */
export const eventStream = v.pipe(
  v.string(),
  v.description(
    "Events with `event:` (the frame type: catchup, personal, announcement, read, retract), `data:` (the frame as JSON) and `id:` (an opaque position for Last-Event-ID).",
  ),
);

// ---- publisher routes -----------------------------------------------------------

const pushChannel = v.picklist(["webpush", "fcm", "apns"]);
export const pushRegistrationAnswer = v.strictObject({ device: deviceId, channel: v.nullable(pushChannel) });
export type PushRegistrationAnswer = v.InferOutput<typeof pushRegistrationAnswer>;
export const pushChannelAnswer = v.strictObject({
  device: deviceId,
  channel: v.nullable(pushChannel),
  vapidPublicKey: v.pipe(
    v.nullable(v.string()),
    v.description("The applicationServerKey a browser subscribes with; null while Web Push is not configured."),
  ),
});
export type PushChannelAnswer = v.InferOutput<typeof pushChannelAnswer>;

export const publishAnswer = v.strictObject({
  seq,
  createdAt: timestamp,
  evicted: count,
  pushed: v.pipe(count, v.description("How many of the user's devices the message is being pushed to (the publish does not wait for them).")),
  replaced: v.pipe(
    v.nullable(seq),
    v.description("The seq of the user's message with the same collapseKey that this one replaced; null when none was."),
  ),
});
export type PublishAnswer = v.InferOutput<typeof publishAnswer>;

export const bulkPublishAnswer = v.strictObject({
  createdAt: timestamp,
  results: v.pipe(
    v.record(userId, v.omit(publishAnswer, ["createdAt"])),
    v.description("Each user's publish answer (as POST /admin/v1/users/{userId}/messages answers it, without createdAt)."),
  ),
});

export type BulkPublishAnswer = v.InferOutput<typeof bulkPublishAnswer>;

export const messageRetractAnswer = v.strictObject({
  retracted: v.pipe(v.boolean(), v.description("Whether the message was still pending or unread (false: there was nothing to retract).")),
});

export const announceAnswer = v.strictObject({ ids: v.record(regionId, seq), createdAt: timestamp });
export type AnnounceAnswer = v.InferOutput<typeof announceAnswer>;

/** A publish held for later (202): POST /admin/v1/users/{userId}/messages or /admin/v1/announcements with a deliverAt ahead. */
export const scheduledAnswer = v.strictObject({
  scheduled: v.pipe(v.string(), v.description("The scheduled publish's id: DELETE /admin/v1/scheduled/{id} cancels it.")),
  deliverAt: timestamp,
});
export type ScheduledAnswer = v.InferOutput<typeof scheduledAnswer>;

const scheduledEntry = v.strictObject({
  id: v.string(),
  deliverAt: timestamp,
  message: v.pipe(messageContentSchema, v.description("The message's fields as published; its seq or id and createdAt come at delivery.")),
});
export type ScheduledEntry = v.InferOutput<typeof scheduledEntry>;

export const scheduledListing = v.strictObject({
  scheduled: v.pipe(v.array(scheduledEntry), v.description("What is held, soonest first.")),
});

export const cancelAnswer = v.strictObject({
  cancelled: v.pipe(v.boolean(), v.description("Whether this request cancelled it: false when it was delivered or cancelled already, or is unknown.")),
});

export const retractAnswer = v.strictObject({
  retracted: v.pipe(v.boolean(), v.description("Whether this request retracted it: false when it was not retained, or was retracted already.")),
});

export const userRegionAnswer = v.strictObject({ userId, region: regionOrNull });

export const userView = v.strictObject({
  userId,
  region: regionOrNull,
  pending: v.strictObject({
    count,
    oldestSeq: v.nullable(seq),
    newestSeq: v.nullable(seq),
    expiresAt: v.nullable(timestamp),
  }),
  unread: v.strictObject({ count, expiresAt: v.nullable(timestamp) }),
  cursors: v.pipe(v.record(regionId, count), v.description("The `default` device's cursor per region.")),
  devices: v.pipe(
    v.record(
      deviceId,
      v.strictObject({
        pending: count,
        acked: count,
        lastSeenAt: timestamp,
        cursors: v.record(regionId, count),
        push: v.nullable(pushChannel),
      }),
    ),
    v.description("The known devices: what each has pending and has acknowledged, when it was last seen, its cursors."),
  ),
});
export type UserView = v.InferOutput<typeof userView>;

const outcome = v.picklist(["push", "live", "poll", "read", "retracted", "expired", "evicted", "forgotten", "pending"]);
export const messageDelivery = v.strictObject({
  seq,
  createdAt: timestamp,
  devices: v.pipe(
    v.record(
      deviceId,
      v.strictObject({
        outcome,
        at: v.pipe(v.nullable(timestamp), v.description("When the outcome came about; null while pending.")),
        push: v.nullable(
          v.strictObject({
            channel: pushChannel,
            attempts: count,
            lastStatus: v.pipe(v.nullable(count), v.description("The push service's last HTTP status; null for a network error or timeout.")),
            at: v.pipe(timestamp, v.description("When the last attempt was made.")),
          }),
        ),
      }),
    ),
    v.description("Every device that had the message pending: how and when it first reached it, or why it did not."),
  ),
});
export type MessageDelivery = v.InferOutput<typeof messageDelivery>;

export const regionListing = v.strictObject({
  announcements: v.array(announcement),
  region: regionId,
  epoch,
  head: count,
  oldest: v.nullable(seq),
});
export type RegionListing = v.InferOutput<typeof regionListing>;

const rowsCost = { rowsRead: count, rowsWritten: count };
export const userStorageCost = v.strictObject(rowsCost);
export const regionStorageCost = v.strictObject({ ...rowsCost, reads: count });

const outcomeCounts = <Names extends string>(names: readonly Names[]) =>
  v.strictObject(Object.fromEntries(names.map((name) => [name, count])) as Record<Names, typeof count>);
const share = v.nullable(v.pipe(v.number(), v.minValue(0), v.maxValue(1)));
const latencyPercentiles = v.strictObject({ p50: v.nullable(count), p90: v.nullable(count), p99: v.nullable(count) });
const pushCounts = outcomeCounts(["sent", "failed", "retried", "removed"]);

export const statsAnswer = v.strictObject({
  from: timestamp,
  to: timestamp,
  personal: v.strictObject({
    messages: count,
    deliveries: v.pipe(count, v.description("The (message, device) pairs: the sum of arrived, withdrawn and notArrived.")),
    arrived: outcomeCounts(["push", "live", "poll"]),
    withdrawn: outcomeCounts(["read", "retracted"]),
    notArrived: outcomeCounts(["expired", "evicted", "forgotten", "pending"]),
    arrivalRate: v.pipe(share, v.description("arrived ÷ (deliveries − withdrawn − pending); null when that is 0.")),
    backstopShare: v.pipe(share, v.description("(live + poll) ÷ arrived; null when nothing arrived.")),
    latencyMs: v.pipe(
      v.strictObject({ push: latencyPercentiles, live: latencyPercentiles, poll: latencyPercentiles }),
      v.description("From publish to arrival, per route: nearest-rank percentiles within 0.05 %; null without arrivals."),
    ),
  }),
  push: v.strictObject({ webpush: pushCounts, fcm: pushCounts, apns: pushCounts }),
  announcements: v.strictObject({ published: count }),
});
export type StatsAnswer = v.InferOutput<typeof statsAnswer>;

// ---- open routes ----------------------------------------------------------------

export const healthAnswer = v.strictObject({ ok: v.literal(true) });

export const openApiDocument = v.looseObject({
  openapi: v.literal("3.1.0"),
  info: v.looseObject({ title: v.string(), version: v.string() }),
  paths: v.record(v.string(), v.looseObject({})),
});

export const referencePage = v.pipe(v.string(), v.description("An HTML page that renders GET /openapi.json."));

// ---- errors ---------------------------------------------------------------------

const fieldError = v.pipe(v.strictObject({ path: v.string(), message: v.string() }), v.metadata({ ref: "FieldError" }));
export type FieldError = v.InferOutput<typeof fieldError>;

/** An application/problem+json body (RFC 9457). */
const problem = v.pipe(
  v.strictObject({
    type: v.string(),
    title: v.string(),
    status: v.pipe(v.number(), v.integer()),
    detail: v.string(),
    /** Only on validation failures: each invalid field or parameter. */
    errors: v.optional(v.array(fieldError)),
  }),
  v.metadata({ ref: "Problem" }),
);
export type Problem = v.InferOutput<typeof problem>;

/** The problem a route answers with `status`. */
export const problemWithStatus = (status: number) => v.intersect([problem, v.object({ status: v.literal(status) })]);
