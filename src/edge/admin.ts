// Publisher routes, behind the admin token: publish, configure and inspect.
import { Hono } from "hono";
import * as v from "valibot";
import {
  announcementIdParam,
  announcementInput,
  idempotencyKeyHeader,
  messageContent,
  messageInput,
  personalContent,
  regionBody,
  regionId,
  regionLogQuery,
  seqParam,
  ttlSecondsError,
  userId,
} from "../shared/schema";
import { config } from "../config";
import { announcementHash, contentHash } from "../shared/canonical-json";
import { inboxStub, regionStub } from "../shared/objects";
import { newScheduledId } from "../shared/scheduled-id";
import {
  announceAnswer,
  messageDelivery,
  messageRetractAnswer,
  publishAnswer,
  regionListing,
  regionStorageCost,
  retractAnswer,
  scheduledAnswer,
  userRegionAnswer,
  userStorageCost,
  userView,
} from "../shared/responses";
import { announce } from "./announce";
import { adminAuth } from "./auth";
import type { AppEnv } from "./context";
import { answer, describe } from "./openapi";
import { problem } from "./problem";
import { deliveryTime } from "./scheduled";
import { invalidRequest, json, jsonBodyGuard, valid } from "./validation";

const userParam = v.object({ userId });
const regionParam = v.object({ regionId });
const messageParam = v.object({ userId, seq: seqParam });

// Each route authenticates itself, so an unknown path is a 404 before any token is asked for.
export const admin = new Hono<AppEnv>()
  .post(
    "/users/:userId/messages",
    describe("publisher", {
      summary: "Publish a personal message",
      responses: {
        201: answer("Stored, or the first answer again for a repeated Idempotency-Key.", publishAnswer),
        202: answer("Held until deliverAt (or the first answer again for a repeated Idempotency-Key).", scheduledAnswer),
      },
      problems: [413, 415, 422],
    }),
    adminAuth,
    jsonBodyGuard,
    valid("param", userParam),
    valid("header", idempotencyKeyHeader("Repeated for this user within 24 h: the same body answers the first result again and stores nothing; another body is 422.")),
    valid("json", messageInput),
    async (c) => {
      const { userId } = c.req.valid("param");
      const key = c.req.valid("header")["idempotency-key"];
      const { deliverAt, ...input } = c.req.valid("json");
      const tooLong = ttlSecondsError(input.ttlSeconds, config(c.env).PENDING_TTL_SECONDS);
      if (tooLong) throw invalidRequest("json", [tooLong]);
      const at = deliverAt === undefined ? undefined : deliveryTime(c.env, deliverAt);
      const content = personalContent(input);
      const idempotency = key === undefined ? undefined : { key, bodyHash: await contentHash(content, deliverAt) };
      const inbox = inboxStub(c.env, userId);
      const result =
        at === undefined
          ? await inbox.publish(content, idempotency)
          : await inbox.schedule(newScheduledId({ kind: "user", name: userId }), content, at, idempotency);
      if (result === "conflict") {
        throw problem(422, "This Idempotency-Key was already used for this user with a different body.");
      }
      return "scheduled" in result ? c.json(result, 202) : c.json(result, 201);
    },
  )

  .post(
    "/announcements",
    describe("publisher", {
      summary: "Publish an announcement to regions",
      responses: {
        201: answer("Each region's new id, or the first answer again for a repeated Idempotency-Key.", announceAnswer),
        202: answer("Held in every region until deliverAt, under one id (or the first answer again for a repeated Idempotency-Key).", scheduledAnswer),
      },
      problems: [413, 415, 422],
    }),
    adminAuth,
    jsonBodyGuard,
    valid(
      "header",
      idempotencyKeyHeader(
        "Repeated within 24 h: the same body (content and set of regions) answers the first ids and publishes nothing again; another body is 422. " +
          "After a 500, a retry with the same key publishes only in the regions that had not.",
      ),
    ),
    valid("json", announcementInput),
    async (c) => {
      const { regions, deliverAt, ...message } = c.req.valid("json");
      const at = deliverAt === undefined ? undefined : deliveryTime(c.env, deliverAt);
      const key = c.req.valid("header")["idempotency-key"];
      const content = messageContent(message);
      const unique = [...new Set(regions)];
      const idempotency = key === undefined ? undefined : { key, bodyHash: await announcementHash(unique, content, deliverAt) };
      const result = await announce(c.env, unique, content, idempotency, at);
      if (result === "conflict") {
        throw problem(422, "This Idempotency-Key was already used for an announcement with a different body (content, regions or deliverAt).");
      }
      return "scheduled" in result ? c.json(result, 202) : c.json(result, 201);
    },
  )

  .put(
    "/users/:userId/region",
    describe("publisher", {
      summary: "Set the user's region, used when neither token nor request names one",
      responses: { 200: answer("The region now stored.", userRegionAnswer) },
      problems: [413, 415],
    }),
    adminAuth,
    jsonBodyGuard,
    valid("param", userParam),
    valid("json", regionBody),
    async (c) => {
      const { userId } = c.req.valid("param");
      const region = await inboxStub(c.env, userId).setRegion(c.req.valid("json").region);
      return c.json({ userId, region });
    },
  )

  .get(
    "/users/:userId/storage",
    describe("publisher", {
      summary: "The rows the user's object has read and written since it started",
      responses: { 200: answer("Its storage cost.", userStorageCost) },
    }),
    adminAuth,
    valid("param", userParam),
    async (c) => c.json(await inboxStub(c.env, c.req.valid("param").userId).storageCost()),
  )

  .get(
    "/regions/:regionId/storage",
    describe("publisher", {
      summary: "The rows the region's object has read and written, and the reads it served, since it started",
      responses: { 200: answer("Its storage cost.", regionStorageCost) },
    }),
    adminAuth,
    valid("param", regionParam),
    async (c) => c.json(await regionStub(c.env, c.req.valid("param").regionId).storageCost()),
  )

  .get(
    "/users/:userId",
    describe("publisher", {
      summary: "What postbox holds for the user",
      responses: { 200: answer("The user's sets, their expiry, and the user's cursors.", userView) },
    }),
    adminAuth,
    valid("param", userParam),
    async (c) => {
      const { userId } = c.req.valid("param");
      return c.json({ userId, ...(await inboxStub(c.env, userId).describe()) });
    },
  )

  .get(
    "/users/:userId/messages/:seq",
    describe("publisher", {
      summary: "How a personal message arrived on each of the user's devices",
      responses: { 200: answer("The message's outcome on every device that had it pending.", messageDelivery) },
      problems: [404],
    }),
    adminAuth,
    valid("param", messageParam),
    async (c) => {
      const { userId, seq } = c.req.valid("param");
      const delivery = await inboxStub(c.env, userId).delivery(seq);
      if (!delivery) throw problem(404, `User ${userId} has no record of message ${seq}: it was never published, or is older than PENDING_TTL_SECONDS.`);
      return c.json(delivery);
    },
  )

  .delete(
    "/users/:userId/messages/:seq",
    describe("publisher", {
      summary: "Retract a personal message",
      responses: { 200: answer("Whether it was still pending or unread, and so retracted.", messageRetractAnswer) },
    }),
    adminAuth,
    valid("param", messageParam),
    async (c) => {
      const { userId, seq } = c.req.valid("param");
      return c.json(await inboxStub(c.env, userId).retract(seq));
    },
  )

  .get(
    "/regions/:regionId/announcements",
    describe("publisher", {
      summary: "The region's retained announcements",
      responses: { 200: answer("The announcements after `since`, oldest first, and the region's bounds.", regionListing) },
    }),
    adminAuth,
    valid("param", regionParam),
    valid("query", regionLogQuery),
    async (c) => {
      const { regionId: region } = c.req.valid("param");
      const { since, limit } = c.req.valid("query");
      return c.body(await regionStub(c.env, region).list(region, since, limit), 200, json);
    },
  )

  .delete(
    "/regions/:regionId/announcements/:id",
    describe("publisher", {
      summary: "Retract an announcement",
      description:
        "Polls, catch-ups and the listing no longer return it, and live connections following the region get " +
        '`{"type":"retract","region","id"}`. It keeps its place: head, oldest, ANNOUNCEMENT_LIMIT and retention count it, it is no gap, and its id is never reused.',
      responses: { 200: answer("Whether it was retracted now.", retractAnswer) },
    }),
    adminAuth,
    valid("param", v.object({ regionId, id: announcementIdParam })),
    async (c) => {
      const { regionId: region, id } = c.req.valid("param");
      return c.json({ retracted: await regionStub(c.env, region).retract(region, id) });
    },
  );
