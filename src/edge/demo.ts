// The demo page (demo/, built into the static assets) and two helpers it needs so
// that nobody pastes a secret into a browser: a client token for any user, and a
// proxy that calls the publisher routes with ADMIN_TOKEN. Both give anyone who
// can reach them a publisher's powers, so every path here is the app's usual
// 404 unless the DEMO setting is "on" (`npm run dev` turns it on). The OpenAPI
// document leaves these routes out (src/edge/openapi.ts): they are not postbox's API.
import { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { sign } from "hono/jwt";
import * as v from "valibot";
import { config } from "../config";
import { deviceId, regionId, userId } from "../shared/schema";
import { missingSecret } from "./auth";
import type { AppEnv } from "./context";
import { noRoute } from "./problem";
import { jsonBodyGuard, valid } from "./validation";

export const DEMO_PATH = "/demo";

/** How long a demo token lasts: a day, as `npm run token` gives by default. */
const TOKEN_SECONDS = 86_400;

const tokenRequest = v.object({ user: userId, device: v.optional(deviceId), region: v.optional(regionId) });

/** Thrown, not answered, so that the method-not-allowed check leaves the 404 alone (Hono marks it an error). */
const demoOnly = createMiddleware<AppEnv>(async (c, next) => {
  if (!config(c.env).DEMO) throw noRoute(c.req.path);
  await next();
});

/** The routes under DEMO_PATH; `app` is the Worker's app, which the publisher proxy calls in-process. */
export function demo(app: Hono<AppEnv>) {
  return new Hono<AppEnv>()
    .use(demoOnly)
    .post("/api/token", jsonBodyGuard, valid("json", tokenRequest), async (c) => {
      const secret = c.env.CLIENT_JWT_SECRET;
      if (!secret) throw missingSecret("CLIENT_JWT_SECRET");
      const { user, device, region } = c.req.valid("json");
      const now = Math.floor(Date.now() / 1000);
      const claims = { sub: user, ...(device && { device }), ...(region && { region }), iat: now, exp: now + TOKEN_SECONDS };
      return c.json({ token: await sign(claims, secret, "HS256") });
    })
    .all("/api/admin/*", (c) => {
      const url = new URL(c.req.url);
      url.pathname = `/admin/v1/${c.req.path.slice(`${DEMO_PATH}/api/admin/`.length)}`;
      const headers = new Headers(c.req.raw.headers);
      // Unset, the publisher route answers its own 503 naming ADMIN_TOKEN.
      if (c.env.ADMIN_TOKEN) headers.set("Authorization", `Bearer ${c.env.ADMIN_TOKEN}`);
      const request = new Request(url, { method: c.req.method, headers, body: c.req.raw.body });
      return app.fetch(request, c.env, c.executionCtx);
    })
    .get("/*", async (c) => {
      // Both /demo and /demo/ are the page; the page's own links are absolute, so either works.
      const path = c.req.path === DEMO_PATH ? `${DEMO_PATH}/` : c.req.path;
      const asset = await c.env.ASSETS.fetch(new Request(new URL(path, c.req.url), c.req.raw));
      if (asset.status === 404) throw noRoute(c.req.path);
      if (path !== `${DEMO_PATH}/sw.js`) return asset;
      // The page registers its service worker with the scope /demo, which covers /demo itself,
      // one level above the script's folder: the script has to allow that.
      const response = new Response(asset.body, asset);
      response.headers.set("Service-Worker-Allowed", DEMO_PATH);
      return response;
    });
}
