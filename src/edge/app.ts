// The HTTP edge. Order matters: CORS wraps the client routes (so every answer,
// errors included, carries it), configuration is checked next (a bad deploy
// fails loudly), and unknown paths and methods are refused before anyone is
// asked for a token.
import { Hono } from "hono";
import { config } from "../config";
import { admin } from "./admin";
import type { AppEnv } from "./context";
import { clientCors } from "./cors";
import { inbox, INBOX_PATH } from "./inbox";
import { onError, problemResponse } from "./problem";
import { routeGuard, routeMethods } from "./routing";

export const app = new Hono<AppEnv>();
const methodsAt = routeMethods(app);

app
  .use("/v1/*", clientCors(methodsAt))
  .use(async (c, next) => {
    config(c.env);
    await next();
  })
  .use(routeGuard(methodsAt))
  .get("/health", (c) => c.json({ ok: true }))
  .route(INBOX_PATH, inbox)
  .route("/admin/v1", admin)
  .notFound((c) => problemResponse(404, `There is no route ${c.req.path}.`))
  .onError(onError);
