// The HTTP edge, the one way into postbox. Order matters: CORS wraps the
// client routes (so every answer, errors included, carries it), configuration
// is checked next (a bad deploy fails loudly), and each route authenticates on
// its own, so an unknown path (404) or method (405) is refused before anyone
// is asked for a token.
import { Hono } from "hono";
import { methodNotAllowed } from "hono/method-not-allowed";
import { config } from "../config";
import { admin } from "./admin";
import type { AppEnv } from "./context";
import { clientCors } from "./cors";
import { inbox } from "./inbox";
import { onError, problemResponse } from "./problem";

export const app = new Hono<AppEnv>();

app
  .use(
    methodNotAllowed({
      app,
      onMethodNotAllowed: (c, methods) =>
        problemResponse(405, `${c.req.path} accepts ${methods.join(", ")}.`, { headers: { Allow: methods.join(", ") } }),
    }),
  )
  .use("/v1/*", clientCors(app))
  .use(async (c, next) => {
    config(c.env);
    await next();
  })
  .get("/health", (c) => c.json({ ok: true }))
  .route("/v1/inbox", inbox)
  .route("/admin/v1", admin)
  .notFound((c) => problemResponse(404, `There is no route ${c.req.path}.`))
  .onError(onError);
