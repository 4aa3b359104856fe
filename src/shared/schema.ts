// The contract's vocabulary as valibot schemas. Every request the edge accepts is
// checked against one of these, and the TypeScript types below are derived from
// them, so a rule is written once.
import * as v from "valibot";

export const userId = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9._:@-]{1,128}$/, "must be 1-128 characters of A-Za-z0-9._:@-"),
);
export const deviceId = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 characters of A-Za-z0-9._-"),
);
/** The device of a client that names none: a v1 client is this one device. */
export const DEFAULT_DEVICE = "default";
export const regionId = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 characters of A-Za-z0-9._-"),
);

export const count = v.pipe(v.number(), v.safeInteger("must be an integer"), v.minValue(0));
export const seq = v.pipe(v.number(), v.safeInteger("must be an integer"), v.minValue(1));
// Checked in place rather than with v.record, which copies the object, turns
// arrays into objects and drops keys such as "constructor": data must come back
// exactly as published.
const jsonObject = v.pipe(
  v.custom<Record<string, unknown>>(
    (value) => typeof value === "object" && value !== null && !Array.isArray(value),
    "must be a JSON object",
  ),
  // A custom check has no JSON Schema of its own: this is what the OpenAPI document says of it.
  v.metadata({ type: "object" }),
);

// Absent and null mean the same for the optional parts of a message.
const messageFields = {
  title: v.nullish(v.pipe(v.string(), v.maxLength(256, "must be at most 256 characters"))),
  body: v.pipe(v.string(), v.minLength(1, "must be a non-empty string")),
  data: v.nullish(jsonObject),
};

/** What only a personal message may carry besides its texts (contract v1.1, "Publisher additions"). */
const personalFields = {
  collapseKey: v.nullish(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9._:-]{1,64}$/, "must be 1-64 characters of A-Za-z0-9._:-"),
      v.description("A newer message with this key replaces the user's older one that is still pending or unread."),
    ),
  ),
  // The upper bound is a setting, PENDING_TTL_SECONDS: the publish route checks it (ttlSecondsError).
  ttlSeconds: v.nullish(
    v.pipe(
      v.number(),
      v.safeInteger("must be an integer"),
      v.minValue(1, "must be at least 1"),
      v.description("The message leaves the pending and unread sets this long after it is published; at most PENDING_TTL_SECONDS."),
    ),
  ),
  priority: v.nullish(
    v.pipe(
      v.picklist(["normal", "high"], 'must be "normal" or "high"'),
      v.description('How urgently the push channels deliver it (default "normal").'),
    ),
  ),
};


// Defined here rather than beside the other instants: the message inputs below need it (parseInstant is hoisted).
const instant = v.pipe(
  v.custom<string>(
    (value) => typeof value === "string" && parseInstant(value) !== null,
    "must be an ISO 8601 instant with seconds and a time zone, such as 2026-11-25T10:00:00Z",
  ),
  // A custom check has no JSON Schema of its own: this is what the OpenAPI document says of it.
  v.metadata({ type: "string", format: "date-time" }),
);

/** A publish's `deliverAt` (contract v1.1, "Scheduled delivery"); how far ahead it may be is the edge's check (it needs the settings). */
const deliverAt = v.optional(
  v.pipe(
    instant,
    v.description(
      "Hold the message until this instant, at most PENDING_TTL_SECONDS ahead (202); it gets its seq or id, createdAt and pushes then. Not later than now: published at once (201).",
    ),
  ),
);

export const messageInput = v.strictObject({ ...messageFields, ...personalFields, deliverAt });

/** At most this many distinct users in one bulk publish. */
export const BULK_MAX_USERS = 500;

export const bulkMessageInput = v.strictObject({
  users: v.pipe(
    v.array(userId),
    v.minLength(1, "must name at least one user"),
    v.check((users) => new Set(users).size <= BULK_MAX_USERS, `must name at most ${BULK_MAX_USERS} distinct users`),
    v.description(`1-${BULK_MAX_USERS} distinct userIds; a user named twice counts once.`),
  ),
  ...messageFields,
  ...personalFields,
});

export type MessageInput = v.InferOutput<typeof messageInput>;

/** The Idempotency-Key header of a publisher route; `description` says what a repeat does there. */
export const idempotencyKeyHeader = (description: string) =>
  v.object({
    "idempotency-key": v.optional(
      v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(255, "must be at most 255 characters"), v.description(description)),
    ),
  });

/** The 400's field error of a ttlSeconds beyond the pending set's own lifetime, or null when it is within it. */
export function ttlSecondsError(ttlSeconds: number | null | undefined, pendingTtlSeconds: number) {
  return ttlSeconds != null && ttlSeconds > pendingTtlSeconds
    ? { path: "ttlSeconds", message: `must be at most ${pendingTtlSeconds} (PENDING_TTL_SECONDS)` }
    : null;
}

export const announcementInput = v.strictObject({
  regions: v.pipe(
    v.array(regionId),
    v.minLength(1, "must name at least one region"),
    v.maxLength(100, "must name at most 100 regions"),
  ),
  ...messageFields,
  deliverAt,
});

export const ackBody = v.strictObject({ upTo: count });

const seqList = v.pipe(v.array(seq), v.minLength(1, "must list at least one seq"), v.maxLength(500, "must list at most 500 seqs"));

export const readBody = v.pipe(
  v.strictObject({
    seqs: v.optional(seqList),
    upTo: v.optional(count),
  }),
  // The check below, as the OpenAPI document states it.
  v.metadata({ oneOf: [{ required: ["seqs"] }, { required: ["upTo"] }] }),
  v.forward(
    v.check(
      (body) => (body.seqs === undefined) !== (body.upTo === undefined),
      "give either seqs or upTo, not both",
    ),
    ["seqs"],
  ),
  v.transform((body): { seqs: number[] } | { upTo: number } =>
    body.seqs ? { seqs: body.seqs } : { upTo: body.upTo as number },
  ),
);
export type ReadReceipt = v.InferOutput<typeof readBody>;

export const arrivedBody = v.strictObject({
  seqs: seqList,
  via: v.pipe(v.picklist(["push"], 'must be "push"'), v.description("How the messages arrived: for now only through the device's push channel.")),
});

export const regionBody = v.strictObject({ region: v.nullable(regionId) });

// Query parameters arrive as strings; these parse them into numbers and flags.
const queryInteger = (min: number, max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,16}$/, "must be an integer"),
    v.transform(Number),
    // What the OpenAPI document shows a parameter as: the value it is read as.
    v.number(),
    v.safeInteger("must be an integer"),
    v.minValue(min, `must be at least ${min}`),
    v.maxValue(max, `must be at most ${max}`),
  );
const about = <Schema extends v.GenericSchema>(schema: Schema, description: string) =>
  v.pipe(schema, v.description(description));
const limit = v.optional(about(queryInteger(1, 500), "At most this many items in each list."), "100");

const device = v.optional(
  about(deviceId, "The requesting device, when the token names none (then `default`); another than the token's is 403."),
);

// The descriptions are what the OpenAPI document says of each parameter.
export const inboxQuery = v.object({
  device,
  region: v.optional(
    about(regionId, "The region whose announcements to include when the token names none; another than the token's is 403."),
  ),
  since: v.optional(
    about(queryInteger(0, Number.MAX_SAFE_INTEGER), "The client's own announcement cursor (else the stored one); 0 asks for all retained."),
  ),
  epoch: v.optional(
    about(v.pipe(v.string(), v.minLength(1), v.maxLength(64)), "The epoch `since` belongs to; another one counts as since=0, with reset: true."),
  ),
  ack: v.optional(
    about(queryInteger(0, Number.MAX_SAFE_INTEGER), "Received: removes pending messages with seq ≤ ack before the answer is built."),
  ),
  consume: v.optional(
    v.pipe(
      v.picklist(["true", "false"], "must be true or false"),
      v.transform((flag) => flag === "true"),
      v.boolean(),
      v.description("true: the personal messages returned leave the pending set once sent (at-most-once)."),
    ),
    "false",
  ),
  limit,
});
export type InboxQuery = v.InferOutput<typeof inboxQuery>;

export const unreadQuery = v.object({ device, limit });

/** The query of the client routes that take a body: only the device. */
export const deviceQuery = v.object({ device });

/** A seq in a path: a personal message of the user. */
export const seqParam = about(queryInteger(1, Number.MAX_SAFE_INTEGER), "The message's seq.");

/** An id in a path: an announcement of the region. */
export const announcementIdParam = about(queryInteger(1, Number.MAX_SAFE_INTEGER), "The announcement's id.");

export const regionLogQuery = v.object({
  since: v.optional(about(queryInteger(0, Number.MAX_SAFE_INTEGER), "The announcements with an id above this one."), "0"),
  limit,
});

const INSTANT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:Z|([+-])(\d{2}):(\d{2}))$/i;

/**
 * The milliseconds of an ISO 8601 instant in RFC 3339's profile (date, time
 * with seconds, an optional fraction, `Z` or an offset), or null for text that
 * is not one: also a day or time that does not exist (February 30th, 24:00,
 * a leap second), which Date.parse would roll over. Digits past the
 * millisecond are dropped.
 */
export function parseInstant(text: string): number | null {
  const match = INSTANT.exec(text);
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const [, fraction = "", sign, offsetHours = "0", offsetMinutes = "0"] = match.slice(6);
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, Number(fraction.slice(0, 3).padEnd(3, "0")));
  // A day the month does not have rolls over into another month.
  const exists = date.getUTCMonth() === month - 1 && hour < 24 && minute < 60 && second < 60;
  if (!exists || Number(offsetHours) > 23 || Number(offsetMinutes) > 59) return null;
  const offset = (sign === "-" ? -1 : 1) * (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  return date.getTime() - offset;
}

export const statsQuery = v.object({
  from: v.optional(about(instant, "The window's start, included (default: 24 hours before `to`); at most 31 days before `to`.")),
  to: v.optional(about(instant, "The window's end, excluded (default: now).")),
});
export type StatsQuery = v.InferOutput<typeof statsQuery>;

const HOUR_MS = 3_600_000;
/** The longest window a stats query may ask for. */
const STATS_WINDOW_MAX_MS = 31 * 24 * HOUR_MS;

/**
 * The window of a stats query at `now` (ms): `to` defaults to now and `from`
 * to 24 hours before `to`. Either [from, to) or what is wrong with `from`,
 * which is the parameter at fault whenever the two do not fit together.
 */
export function statsWindow({ from, to }: StatsQuery, now: number): { from: number; to: number } | { fromError: string } {
  const end = to === undefined ? now : parseInstant(to)!;
  const start = from === undefined ? end - 24 * HOUR_MS : parseInstant(from)!;
  if (start > end) return { fromError: "must not be after to" };
  if (end - start > STATS_WINDOW_MAX_MS) return { fromError: "must be at most 31 days before to" };
  return { from: start, to: end };
}

// What comes back out: the OpenAPI document describes answers with these, and
// their types derive from them. Answers are not checked against them at run time.
export const timestamp = v.pipe(v.string(), v.isoTimestamp());

/** A message as published: the input's checks, with absent parts left out rather than kept as null. */
export const messageContentSchema = v.strictObject({
  title: v.optional(messageFields.title.wrapped),
  body: messageFields.body,
  data: v.optional(jsonObject),
});
export type MessageContent = v.InferOutput<typeof messageContentSchema>;

const personalContentSchema = v.strictObject({
  ...messageContentSchema.entries,
  collapseKey: v.optional(personalFields.collapseKey.wrapped),
  ttlSeconds: v.optional(personalFields.ttlSeconds.wrapped),
  priority: v.optional(personalFields.priority.wrapped),
});
export type PersonalContent = v.InferOutput<typeof personalContentSchema>;

/** `ref` names the schema in the OpenAPI document's components. */
export const personalMessage = v.pipe(
  v.strictObject({ seq, ...personalContentSchema.entries, createdAt: timestamp }),
  v.metadata({ ref: "PersonalMessage" }),
);
export type PersonalMessage = v.InferOutput<typeof personalMessage>;

export const announcement = v.pipe(
  v.strictObject({ id: seq, region: regionId, ...messageContentSchema.entries, createdAt: timestamp }),
  v.metadata({ ref: "Announcement" }),
);
export type Announcement = v.InferOutput<typeof announcement>;

export function messageContent({ title, body, data }: Pick<MessageInput, "title" | "body" | "data">): MessageContent {
  return { ...(title != null && { title }), body, ...(data != null && { data }) };
}

/** A personal message's content as published: the parts given, in the order they are stored. */
export function personalContent({ collapseKey, ttlSeconds, priority, ...texts }: MessageInput): PersonalContent {
  return {
    ...messageContent(texts),
    ...(collapseKey != null && { collapseKey }),
    ...(ttlSeconds != null && { ttlSeconds }),
    ...(priority != null && { priority }),
  };
}

/**
 * Messages are stored as the JSON text they are sent as, and travel as that
 * text from storage to the wire: a poll never parses or re-serialises them.
 * This splices such texts into an answer whose other fields are plain values.
 */
export function jsonWithLists(lists: Record<string, string[]>, rest: object): string {
  const spliced = Object.entries(lists).map(([name, texts]) => `${JSON.stringify(name)}:[${texts.join(",")}]`);
  const tail = JSON.stringify(rest).slice(1);
  return `{${spliced.join(",")}${tail === "}" ? "}" : `,${tail}`}`;
}
