// Client routes: a user, authenticated by JWT, reads and acknowledges their inbox, or holds it open live.
import { Hono } from "hono";
import { inboxStub } from "../shared/objects";
import { ackBody, inboxQuery, limitQuery, readBody, type InboxQuery } from "../shared/schema";
import { LIVE_HEADER, type LiveRequest, type PollRequest } from "../user/UserInbox";
import { asClient } from "./auth";
import type { AppEnv, Client } from "./context";
import { allowedOrigin } from "./cors";
import { problem } from "./problem";
import { relayAsEventStream } from "./sse";
import { json, jsonBodyGuard, repeatedQuery, valid } from "./validation";

/** The region comes from the token's claim, else the query; asking for another region than the claim is refused. */
function pollRequest(client: Client, { region, ...query }: InboxQuery): PollRequest {
  if (client.region && region && region !== client.region) {
    throw problem(403, `This token is pinned to region ${client.region}; it cannot read region ${region}.`);
  }
  return { region: client.region ?? region, ...query };
}

/** The query of the poll and live routes, which clients repeat: checked once per query string. */
const pollQuery = repeatedQuery(inboxQuery);

export const inbox = new Hono<AppEnv>()
  .get("/", asClient, pollQuery, async (c) => {
    const client = c.get("client");
    const answer = await inboxStub(c.env, client.userId).poll(pollRequest(client, c.req.valid("query")));
    return c.body(answer, 200, json);
  })

  .get("/live", asClient, pollQuery, async (c) => {
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

  .post("/ack", asClient, jsonBodyGuard, valid("json", ackBody), async (c) => {
    const { upTo } = c.req.valid("json");
    return c.json(await inboxStub(c.env, c.get("client").userId).ack(upTo));
  })

  .post("/read", asClient, jsonBodyGuard, valid("json", readBody), async (c) => {
    return c.json(await inboxStub(c.env, c.get("client").userId).markRead(c.req.valid("json")));
  })

  .get("/unread", asClient, valid("query", limitQuery), async (c) => {
    const { limit } = c.req.valid("query");
    return c.body(await inboxStub(c.env, c.get("client").userId).unread(limit), 200, json);
  });
