// The HTTP edge, the one way into postbox. Order matters: CORS wraps the
// client routes (so every answer, errors included, carries it), configuration
// is checked next (a bad deploy fails loudly), and each route authenticates on
// its own, so an unknown path (404) or method (405) is refused before anyone
// is asked for a token.
import { Scalar } from "@scalar/hono-api-reference";
import { Hono } from "hono";
import { methodNotAllowed } from "hono/method-not-allowed";
import { config } from "../config";
import { healthAnswer, openApiDocument, referencePage } from "../shared/responses";
import { admin } from "./admin";
import { bulk } from "./bulk";
import { scheduled } from "./scheduled";
import type { AppEnv } from "./context";
import { clientCors } from "./cors";
import { DEMO_PATH, demo } from "./demo";
import { inbox } from "./inbox";
import { push } from "./push";
import { stats } from "./stats";
import { answer, describe, openApiRoute } from "./openapi";
import { noRoute, onError, problemResponse } from "./problem";

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
  .get(
    "/health",
    describe("health", { summary: "Liveness", responses: { 200: answer("The Worker answers.", healthAnswer) } }),
    (c) => c.json({ ok: true }),
  )
  .get(
    "/openapi.json",
    describe("documentation", {
      summary: "This OpenAPI 3.1 document",
      responses: { 200: answer("Every route, its parameters, bodies and answers.", openApiDocument) },
    }),
    // The demo (a local tool, off unless DEMO is on) is not part of the API.
    openApiRoute(app, [DEMO_PATH]),
  )
  .get(
    "/docs",
    describe("documentation", {
      summary: "A reference page for this document (Scalar's, which loads its script from Scalar's CDN)",
      responses: { 200: answer("The page.", referencePage, "text/html") },
    }),
    Scalar({ url: "/openapi.json", pageTitle: "postbox API" }),
  )
  .route("/v1/inbox", inbox)
  .route("/v1/push", push)
  .route("/admin/v1/stats", stats)
  .route("/admin/v1/messages", bulk)
  .route("/admin/v1", admin)
  .route("/admin/v1", scheduled)
  .route(DEMO_PATH, demo(app))
  .notFound((c) => noRoute(c.req.path).getResponse())
  .onError(onError);
