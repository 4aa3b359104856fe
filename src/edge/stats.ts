// Publisher route: the stats over a window of publish time, summed over every
// stats shard (src/stats/).
import { Hono } from "hono";
import { statsAnswer } from "../shared/responses";
import { statsQuery, statsWindow } from "../shared/schema";
import { statsReport, windowSeconds } from "../stats/report";
import { readCounts } from "../stats/shards";
import { adminAuth } from "./auth";
import type { AppEnv } from "./context";
import { answer, describe } from "./openapi";
import { problem } from "./problem";
import { valid } from "./validation";

export const stats = new Hono<AppEnv>().get(
  "/",
  describe("publisher", {
    summary: "Counts over the messages published in a window: how they arrived, pushes, latency, announcements",
    responses: { 200: answer("The window and its counts (at most 10 seconds behind).", statsAnswer) },
  }),
  adminAuth,
  valid("query", statsQuery),
  async (c) => {
    const window = statsWindow(c.req.valid("query"), Date.now());
    if ("fromError" in window) {
      throw problem(400, "The request's query is invalid.", { errors: [{ path: "from", message: window.fromError }] });
    }
    return c.json(statsReport(window, await readCounts(c.env, ...windowSeconds(window))));
  },
);
