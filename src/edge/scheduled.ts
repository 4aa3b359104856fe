// Publisher routes of scheduled delivery (contract v1.1, "Scheduled delivery"): what a user's or a
// region's object holds, and cancelling by the id a scheduled publish answered, which names its
// holder (src/shared/scheduled-id.ts). The publishes themselves are the routes of admin.ts, with a
// deliverAt; deliveryTime is their check of how far ahead it may be.
import { Hono } from "hono";
import * as v from "valibot";
import { config, type Env } from "../config";
import { inboxStub, regionStub } from "../shared/objects";
import { cancelAnswer, scheduledListing } from "../shared/responses";
import { holderOf, scheduledIdParam } from "../shared/scheduled-id";
import { parseInstant, regionId, userId } from "../shared/schema";
import { cancelAnnouncement } from "./announce";
import { adminAuth } from "./auth";
import type { AppEnv } from "./context";
import { answer, describe } from "./openapi";
import { invalidRequest, valid } from "./validation";

/** The instant (ms) of a publish's `deliverAt`, or a 400 naming it when that is more than PENDING_TTL_SECONDS ahead. */
export function deliveryTime(env: Env, deliverAt: string): number {
  const at = parseInstant(deliverAt)!;
  const { PENDING_TTL_SECONDS } = config(env);
  if (at > Date.now() + PENDING_TTL_SECONDS * 1000) {
    throw invalidRequest("json", [{ path: "deliverAt", message: `must be at most PENDING_TTL_SECONDS (${PENDING_TTL_SECONDS} s) ahead` }]);
  }
  return at;
}

export const scheduled = new Hono<AppEnv>()
  .get(
    "/users/:userId/scheduled",
    describe("publisher", {
      summary: "The user's scheduled personal messages",
      responses: { 200: answer("What is held for the user, soonest first.", scheduledListing) },
    }),
    adminAuth,
    valid("param", v.object({ userId })),
    async (c) => c.json(await inboxStub(c.env, c.req.valid("param").userId).scheduledMessages()),
  )

  .get(
    "/regions/:regionId/scheduled",
    describe("publisher", {
      summary: "The region's scheduled announcements",
      responses: { 200: answer("What is held for the region, soonest first (an announcement to several regions is listed in each).", scheduledListing) },
    }),
    adminAuth,
    valid("param", v.object({ regionId })),
    async (c) => c.json(await regionStub(c.env, c.req.valid("param").regionId).scheduledAnnouncements()),
  )

  .delete(
    "/scheduled/:id",
    describe("publisher", {
      summary: "Cancel a scheduled publish",
      description: "An announcement scheduled to several regions is cancelled in all of them. After a 500, retry: the regions not yet cancelled are.",
      responses: { 200: answer("Whether it was cancelled now.", cancelAnswer) },
    }),
    adminAuth,
    valid("param", v.object({ id: scheduledIdParam })),
    async (c) => {
      const { id } = c.req.valid("param");
      const holder = holderOf(id)!;
      const cancelled =
        holder.kind === "user"
          ? await inboxStub(c.env, holder.name).cancelScheduled(id)
          : await cancelAnnouncement(c.env, holder.name, id);
      return c.json({ cancelled });
    },
  );
