// Publisher routes, behind the admin token: publish, configure and inspect.
import { Hono } from "hono";
import * as v from "valibot";
import {
  announcementInput,
  messageContent,
  messageInput,
  regionBody,
  regionId,
  regionLogQuery,
  userId,
} from "../shared/schema";
import { contentHash } from "../shared/canonical-json";
import { inboxStub, regionStub } from "../shared/objects";
import { adminAuth } from "./auth";
import type { AppEnv } from "./context";
import { problem } from "./problem";
import { json, jsonBodyGuard, valid } from "./validation";

const userParam = v.object({ userId });
const regionParam = v.object({ regionId });
const idempotencyHeader = v.object({
  "idempotency-key": v.optional(
    v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(255, "must be at most 255 characters")),
  ),
});

// Each route authenticates itself, so an unknown path is a 404 before any token is asked for.
export const admin = new Hono<AppEnv>()
  .post(
    "/users/:userId/messages",
    adminAuth,
    jsonBodyGuard,
    valid("param", userParam),
    valid("header", idempotencyHeader),
    valid("json", messageInput),
    async (c) => {
      const { userId } = c.req.valid("param");
      const key = c.req.valid("header")["idempotency-key"];
      const content = messageContent(c.req.valid("json"));
      const idempotency = key === undefined ? undefined : { key, bodyHash: await contentHash(content) };
      const result = await inboxStub(c.env, userId).publish(content, idempotency);
      if (result === "conflict") {
        throw problem(422, "This Idempotency-Key was already used for this user with a different body.");
      }
      return c.json(result, 201);
    },
  )

  .post("/announcements", adminAuth, jsonBodyGuard, valid("json", announcementInput), async (c) => {
    const { regions, ...message } = c.req.valid("json");
    const content = messageContent(message);
    const createdAt = new Date().toISOString();
    const unique = [...new Set(regions)];
    const ids = await Promise.all(
      unique.map((region) => regionStub(c.env, region).publish(region, content, createdAt)),
    );
    return c.json({ ids: Object.fromEntries(unique.map((region, i) => [region, ids[i]])), createdAt }, 201);
  })

  .put("/users/:userId/region", adminAuth, jsonBodyGuard, valid("param", userParam), valid("json", regionBody), async (c) => {
    const { userId } = c.req.valid("param");
    const region = await inboxStub(c.env, userId).setRegion(c.req.valid("json").region);
    return c.json({ userId, region });
  })

  .get("/users/:userId/storage", adminAuth, valid("param", userParam), async (c) => {
    return c.json(await inboxStub(c.env, c.req.valid("param").userId).storageCost());
  })

  .get("/regions/:regionId/storage", adminAuth, valid("param", regionParam), async (c) => {
    return c.json(await regionStub(c.env, c.req.valid("param").regionId).storageCost());
  })

  .get("/users/:userId", adminAuth, valid("param", userParam), async (c) => {
    const { userId } = c.req.valid("param");
    return c.json({ userId, ...(await inboxStub(c.env, userId).describe()) });
  })

  .get(
    "/regions/:regionId/announcements",
    adminAuth,
    valid("param", regionParam),
    valid("query", regionLogQuery),
    async (c) => {
      const { regionId: region } = c.req.valid("param");
      const { since, limit } = c.req.valid("query");
      return c.body(await regionStub(c.env, region).list(region, since, limit), 200, json);
    },
  );
