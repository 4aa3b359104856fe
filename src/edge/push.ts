// Client routes: the requesting device's push channel (contract v1.1, "Push
// channels"). postbox sends each personal message through it itself.
import { Hono } from "hono";
import { config } from "../config";
import { allowedPushEndpoint, missingFor, vapidPublicKey } from "../push/credentials";
import { inboxStub } from "../shared/objects";
import { importSubscriptionKeys } from "../push/subscription-keys";
import { pushRegistrationBody, type PushRegistration } from "../shared/push-registration";
import { pushChannelAnswer, pushRegistrationAnswer, type FieldError } from "../shared/responses";
import { deviceQuery } from "../shared/schema";
import { asClient } from "./auth";
import type { AppEnv } from "./context";
import { deviceOf } from "./device";
import { answer, describe } from "./openapi";
import { problem } from "./problem";
import { invalidRequest, jsonBodyGuard, valid } from "./validation";

/** What the schema cannot know: the deployment's allowed push services, and whether the keys import. */
async function checkWebPush(registration: PushRegistration, origins: string[]) {
  if (registration.channel !== "webpush") return;
  const { endpoint, keys } = registration.subscription;
  const errors: FieldError[] = [];
  if (!allowedPushEndpoint(origins, endpoint)) {
    errors.push({ path: "webpush.endpoint", message: "must be a URL of a push service listed in WEBPUSH_ORIGINS" });
  }
  const imported = await importSubscriptionKeys(keys);
  if ("errors" in imported) errors.push(...imported.errors.map((error) => ({ ...error, path: `webpush.${error.path}` })));
  if (errors.length > 0) throw invalidRequest("json", errors);
}

export const push = new Hono<AppEnv>()
  .put(
    "/",
    describe("client", {
      summary: "Register the requesting device's push channel (one per device; a new one replaces the old)",
      responses: { 200: answer("The device and its channel.", pushRegistrationAnswer) },
      problems: [403, 413, 415],
    }),
    asClient,
    jsonBodyGuard,
    valid("json", pushRegistrationBody),
    valid("query", deviceQuery),
    async (c) => {
      const client = c.get("client");
      const device = deviceOf(client, c.req.valid("query").device);
      const registration = c.req.valid("json");
      await checkWebPush(registration, config(c.env).WEBPUSH_ORIGINS);
      const missing = missingFor(c.env, registration.channel);
      if (missing.length > 0) {
        throw problem(503, `Push channel ${registration.channel} is not configured: set ${missing.join(", ")}.`);
      }
      return c.json(await inboxStub(c.env, client.userId).registerPush(device, registration));
    },
  )

  .get(
    "/",
    describe("client", {
      summary: "The requesting device's push channel, and the VAPID key a browser subscribes with",
      responses: { 200: answer("The device's channel.", pushChannelAnswer) },
      problems: [403],
    }),
    asClient,
    valid("query", deviceQuery),
    async (c) => {
      const client = c.get("client");
      const device = deviceOf(client, c.req.valid("query").device);
      const channel = await inboxStub(c.env, client.userId).pushChannel(device);
      return c.json({ device, channel, vapidPublicKey: vapidPublicKey(c.env) });
    },
  )

  .delete(
    "/",
    describe("client", {
      summary: "Remove the requesting device's push channel",
      responses: { 200: answer("The device, with no channel.", pushRegistrationAnswer) },
      problems: [403],
    }),
    asClient,
    valid("query", deviceQuery),
    async (c) => {
      const client = c.get("client");
      const device = deviceOf(client, c.req.valid("query").device);
      return c.json(await inboxStub(c.env, client.userId).unregisterPush(device));
    },
  );
