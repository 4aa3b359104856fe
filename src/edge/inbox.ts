// Client routes: a user, authenticated by JWT, reads and acknowledges their inbox.
import { Hono } from "hono";
import { ackBody, inboxQuery, limitQuery, readBody } from "../shared/schema";
import { clientAuth } from "./auth";
import type { AppEnv } from "./context";
import { problem } from "./problem";
import { json, jsonBodyGuard, valid } from "./validation";

export const inbox = new Hono<AppEnv>()
  .use(clientAuth, jsonBodyGuard)

  .get("/", valid("query", inboxQuery), async (c) => {
    const client = c.get("client");
    const { region, ...query } = c.req.valid("query");
    if (client.region && region && region !== client.region) {
      throw problem(403, `This token is pinned to region ${client.region}; it cannot read region ${region}.`);
    }
    const answer = await c.env.USERS.getByName(client.userId).poll({ region: client.region ?? region, ...query });
    return c.body(answer, 200, json);
  })

  .post("/ack", valid("json", ackBody), async (c) => {
    const { upTo } = c.req.valid("json");
    return c.json(await c.env.USERS.getByName(c.get("client").userId).ack(upTo));
  })

  .post("/read", valid("json", readBody), async (c) => {
    return c.json(await c.env.USERS.getByName(c.get("client").userId).markRead(c.req.valid("json")));
  })

  .get("/unread", valid("query", limitQuery), async (c) => {
    const { limit } = c.req.valid("query");
    return c.body(await c.env.USERS.getByName(c.get("client").userId).unread(limit), 200, json);
  });
