// CORS for the client routes: browsers on other origins call them. Preflights
// are answered before authentication; every answer, errors included, carries
// the headers when the origin is allowed.
import type { Hono, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import { TrieRouter } from "hono/router/trie-router";
import { config, corsOrigins, type Config, type Env } from "../config";
import type { AppEnv } from "./context";

/** The value of Access-Control-Allow-Origin for `origin`, or null when it may not call. */
export function allowedOrigin(env: Env, origin: string | undefined) {
  const origins = corsOrigins(env);
  return origins === "*" ? "*" : origin && origins.includes(origin) ? origin : null;
}

/** The methods each path of the app answers, for preflights (HEAD with GET, as Hono serves it). */
function routeMethods(app: Hono<AppEnv>) {
  let router: TrieRouter<string> | undefined;
  return (path: string) => {
    if (!router) {
      router = new TrieRouter<string>();
      for (const route of app.routes) if (route.method !== "ALL") router.add("ALL", route.path, route.method);
    }
    const methods = new Set(router.match("ALL", path)[0].map(([method]) => method));
    if (methods.has("GET")) methods.add("HEAD");
    return [...methods];
  };
}

/**
 * Hono's cors, plus what it lacks: an origin that is not allowed gets no CORS
 * headers at all (Hono's still sends Expose-Headers and the preflight's
 * Allow-* headers), a preflight to a path that does not exist is left to the
 * 404, and a misconfigured Worker answers even a preflight with its error.
 */
export function clientCors(app: Hono<AppEnv>) {
  const methodsAt = routeMethods(app);
  // One of Hono's per setting of CORS_ORIGINS (a deployment has one), so "*" sends no Vary: Origin.
  const bySetting = new Map<Config["CORS_ORIGINS"], MiddlewareHandler>();
  const honoCors = (origins: Config["CORS_ORIGINS"]) => {
    let handler = bySetting.get(origins);
    if (!handler) {
      handler = cors({
        origin: origins,
        allowMethods: (_origin, c) => methodsAt(c.req.path),
        allowHeaders: ["Authorization", "Content-Type"],
        exposeHeaders: ["Retry-After"],
        maxAge: 600,
      });
      bySetting.set(origins, handler);
    }
    return handler;
  };
  return createMiddleware<AppEnv>(async (c, next) => {
    const preflight = c.req.method === "OPTIONS" && methodsAt(c.req.path).length > 0;
    if (c.req.method === "OPTIONS" && !preflight) return next();
    if (preflight) config(c.env);
    const origins = corsOrigins(c.env);
    if (allowedOrigin(c.env, c.req.header("Origin")) !== null) return honoCors(origins)(c, next);
    if (preflight) return c.body(null, 204, { Vary: "Origin" });
    await next();
    c.header("Vary", "Origin", { append: true });
  });
}
