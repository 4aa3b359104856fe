// Client routes: a user, authenticated by JWT, reads and acknowledges their inbox, or holds it open live.
import { Hono } from "hono";
import { inboxStub } from "../shared/objects";
import { ackAnswer, arrivedAnswer, eventStream, inboxAnswer, readAnswer, unreadAnswer } from "../shared/responses";
import { ackBody, arrivedBody, deviceQuery, inboxQuery, readBody, unreadQuery, type InboxQuery } from "../shared/schema";
import { LIVE_HEADER, type LiveRequest, type PollRequest } from "../user/UserInbox";
import { asClient } from "./auth";
import { deviceOf } from "./device";
import type { AppEnv, Client } from "./context";
import { allowedOrigin } from "./cors";
import { answer, describe } from "./openapi";
import { problem } from "./problem";
import { relayAsEventStream } from "./sse";
import { json, jsonBodyGuard, repeatedQuery, valid } from "./validation";

/** The region comes from the token's claim, else the query; asking for another region than the claim is refused. */
function pollRequest(client: Client, { region, device, ...query }: InboxQuery): PollRequest {
  if (client.region && region && region !== client.region) {
    throw problem(403, `This token is pinned to region ${client.region}; it cannot read region ${region}.`);
  }
  return { region: client.region ?? region, device: deviceOf(client, device), ...query };
}

/** The query of the poll and live routes, which clients repeat: checked once per query string. */
const pollQuery = repeatedQuery(inboxQuery);

/** Documented apart: the one route with two ways to answer and a token that may come in the query. */
const liveDoc = describe("client", {
  summary: "Live delivery: a WebSocket, or Server-Sent Events",
  description:
    "The query and its rules are GET /v1/inbox's. The first frame is the catch-up (GET /v1/inbox's answer), then each new personal message and announcement follows; docs/API.md describes the frames.",
  security: [{ clientJwt: [] }, { clientJwtQuery: [] }],
  parameters: [
    {
      in: "header",
      name: "Last-Event-ID",
      description: "Server-Sent Events only: resume after this event, with no catch-up frame.",
      schema: { type: "string" },
    },
  ],
  responses: {
    101: { description: "Switching Protocols, for a request with `Upgrade: websocket`: frames are JSON text." },
    200: answer("The event stream, for a request with `Accept: text/event-stream`.", eventStream, "text/event-stream"),
  },
  problems: [403, 406],
});

export const inbox = new Hono<AppEnv>()
  .get(
    "/",
    describe("client", {
      summary: "The message request: pending personal messages and new announcements",
      responses: { 200: answer("The answer; every field is always present.", inboxAnswer) },
      problems: [403],
    }),
    asClient,
    pollQuery,
    async (c) => {
      const client = c.get("client");
      const body = await inboxStub(c.env, client.userId).poll(pollRequest(client, c.req.valid("query")));
      return c.body(body, 200, json);
    },
  )

  .get("/live", liveDoc, asClient, pollQuery, async (c) => {
    const client = c.get("client");
    const upgrade = c.req.header("Upgrade")?.toLowerCase() === "websocket";
    const sse = !upgrade && /\btext\/event-stream\b/.test(c.req.header("Accept") ?? "");
    if (!upgrade && !sse) {
      throw problem(406, "Open this route as a WebSocket (Upgrade: websocket) or as Server-Sent Events (Accept: text/event-stream).");
    }
    const origin = c.req.header("Origin");
    if (upgrade && origin !== undefined && allowedOrigin(c.env, origin) === null) {
      throw problem(403, `Origin ${origin} may not open a live connection.`);
    }
    const live: LiveRequest = { ...pollRequest(client, c.req.valid("query")), sse, lastEventId: c.req.header("Last-Event-ID") };
    // The user's object accepts the socket itself, so it can hibernate while the client idles.
    const response = await inboxStub(c.env, client.userId).fetch("https://postbox.internal/live", {
      headers: { Upgrade: "websocket", [LIVE_HEADER]: JSON.stringify(live) },
    });
    return upgrade ? response : relayAsEventStream(response.webSocket!);
  })

  .post(
    "/ack",
    describe("client", {
      summary: "Received: removes pending messages up to a seq",
      responses: { 200: answer("The pending messages left.", ackAnswer) },
      problems: [413, 415],
    }),
    asClient,
    jsonBodyGuard,
    valid("json", ackBody),
    valid("query", deviceQuery),
    async (c) => {
      const client = c.get("client");
      const device = deviceOf(client, c.req.valid("query").device);
      return c.json(await inboxStub(c.env, client.userId).ack(device, c.req.valid("json").upTo));
    },
  )

  .post(
    "/read",
    describe("client", {
      summary: "Read receipt: removes messages from the unread and pending sets",
      responses: { 200: answer("The unread messages left.", readAnswer) },
      problems: [413, 415],
    }),
    asClient,
    jsonBodyGuard,
    valid("json", readBody),
    valid("query", deviceQuery),
    async (c) => {
      const client = c.get("client");
      const device = deviceOf(client, c.req.valid("query").device);
      return c.json(await inboxStub(c.env, client.userId).markRead(device, c.req.valid("json")));
    },
  )

  .post(
    "/arrived",
    describe("client", {
      summary: "Arrival report: these messages reached this device through its push channel",
      description: "Records arrival only: the messages stay pending until acknowledged. Unknown seqs are ignored.",
      responses: { 200: answer("The seqs this report turned into an arrival.", arrivedAnswer) },
      problems: [413, 415],
    }),
    asClient,
    jsonBodyGuard,
    valid("json", arrivedBody),
    valid("query", deviceQuery),
    async (c) => {
      const client = c.get("client");
      const device = deviceOf(client, c.req.valid("query").device);
      return c.json(await inboxStub(c.env, client.userId).arrived(device, c.req.valid("json").seqs));
    },
  )

  .get(
    "/unread",
    describe("client", {
      summary: "The unread count and messages",
      responses: { 200: answer("The unread set, oldest first, at most `limit` messages.", unreadAnswer) },
    }),
    asClient,
    valid("query", unreadQuery),
    async (c) => {
      const client = c.get("client");
      const { device, limit } = c.req.valid("query");
      return c.body(await inboxStub(c.env, client.userId).unread(deviceOf(client, device), limit), 200, json);
    },
  );
