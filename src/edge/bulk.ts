// POST /admin/v1/messages: one personal message to many users, each user's object publishing it as
// POST /admin/v1/users/{userId}/messages would (its Idempotency-Key per user, so a retried bulk stores
// nothing twice and a retry naming more users publishes to the new ones only).
import { Hono } from "hono";
import { config } from "../config";
import { contentHash } from "../shared/canonical-json";
import { mapConcurrently } from "../shared/concurrency";
import { inboxStub } from "../shared/objects";
import { bulkPublishAnswer, type PublishAnswer } from "../shared/responses";
import { bulkMessageInput, idempotencyKeyHeader, personalContent, ttlSecondsError } from "../shared/schema";
import { adminAuth } from "./auth";
import type { AppEnv } from "./context";
import { answer, describe } from "./openapi";
import { problem } from "./problem";
import { invalidRequest, jsonBodyWithin, valid } from "./validation";

/** The contract's room for `users` beside the message: 500 ids of up to 128 characters, quoted. */
const USERS_BYTES = 66_000;

/**
 * Users published to at once. A Worker invocation has six outgoing connections waiting for an answer
 * at a time and queues the rest (Cloudflare, Workers limits, "Simultaneous open connections"; Durable
 * Objects limits: "Simultaneous outgoing connections/request: 6 (same as Workers)"), so more would
 * only queue. Each user is one subrequest: 500 users stay within the Paid plan's 1,000 subrequests
 * per request (Workers limits, "Subrequests"); the Free plan's 50 would cut a bulk publish short.
 */
const BULK_CONCURRENCY = 6;

const idempotencyHeader = idempotencyKeyHeader(
  "Applies per user, compared on the body without users: a repeat within 24 h publishes only to the users it has not published to, and answers every user's first answer; another body is 422.",
);

const utf8 = new TextEncoder();

export const bulk = new Hono<AppEnv>().post(
  "/",
  describe("publisher", {
    summary: "Publish one personal message to many users",
    responses: { 201: answer("Each user's answer; a repeated Idempotency-Key answers a user's first answer again.", bulkPublishAnswer) },
    problems: [413, 415, 422],
  }),
  adminAuth,
  jsonBodyWithin((settings) => settings.MESSAGE_MAX_BYTES + USERS_BYTES, `MESSAGE_MAX_BYTES + ${USERS_BYTES}`),
  valid("header", idempotencyHeader),
  valid("json", bulkMessageInput),
  async (c) => {
    const { users, ...message } = c.req.valid("json");
    const { MESSAGE_MAX_BYTES, PENDING_TTL_SECONDS } = config(c.env);
    if (utf8.encode(JSON.stringify(message)).length > MESSAGE_MAX_BYTES) {
      throw problem(413, `The message (the body without users, as compact JSON) is larger than MESSAGE_MAX_BYTES (${MESSAGE_MAX_BYTES} bytes).`);
    }
    const tooLong = ttlSecondsError(message.ttlSeconds, PENDING_TTL_SECONDS);
    if (tooLong) throw invalidRequest("json", [tooLong]);
    const content = personalContent(message);
    const key = c.req.valid("header")["idempotency-key"];
    const idempotency = key === undefined ? undefined : { key, bodyHash: await contentHash(content) };
    const createdAt = new Date().toISOString();
    const distinct = [...new Set(users)];
    const answers = await mapConcurrently(
      distinct,
      BULK_CONCURRENCY,
      async (user): Promise<PublishAnswer | "conflict"> => inboxStub(c.env, user).publish(content, idempotency),
    );
    const conflicts = distinct.filter((_, i) => answers[i] === "conflict");
    if (conflicts.length > 0) {
      throw problem(422, `This Idempotency-Key was already used with a different body for ${conflicts.join(", ")}; the other users are published.`);
    }
    const results = Object.fromEntries(
      distinct.map((user, i) => {
        const { createdAt: _, ...result } = answers[i] as PublishAnswer;
        return [user, result];
      }),
    );
    return c.json({ createdAt, results }, 201);
  },
);
