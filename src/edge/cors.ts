// CORS for the client routes: browsers on other origins call them. Preflights
// are answered before authentication; every answer, errors included, carries
// the headers when the origin is allowed.
import type { Context, Hono, MiddlewareHandler } from "hono";
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

/** What a browser may read of an answer besides the CORS-safelisted headers. */
const EXPOSED_HEADERS = ["Retry-After"];
const EXPOSED = EXPOSED_HEADERS.join(",");

/**
 * Hono's cors answers preflights, plus what it lacks: an origin that is not
 * allowed gets no CORS headers at all (Hono's still sends Expose-Headers and
 * the preflight's Allow-* headers), a preflight to a path that does not exist
 * is left to the 404, and a misconfigured Worker answers even a preflight with
 * its error. A simple request's headers are set here: Hono's cors sets them on
 * a placeholder answer before the route runs, which makes Hono copy the
 * route's answer into a new Response (Context's `res` setter), a measurable
 * share of a poll's cost. Set as the context's prepared headers instead, they
 * go into the answer the route builds (c.body, c.json) at no cost.
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
        exposeHeaders: EXPOSED_HEADERS,
        maxAge: 600,
      });
      bySetting.set(origins, handler);
    }
    return handler;
  };
  return createMiddleware<AppEnv>(async (c, next) => {
    if (c.req.method === "OPTIONS") {
      if (methodsAt(c.req.path).length === 0) return next();
      config(c.env);
      if (allowedOrigin(c.env, c.req.header("Origin")) !== null) return honoCors(corsOrigins(c.env))(c, next);
      return c.body(null, 204, { Vary: "Origin" });
    }
    const headers = simpleRequestHeaders(allowedOrigin(c.env, c.req.header("Origin")), corsOrigins(c.env) !== "*");
    for (const [name, value] of headers) c.header(name, value);
    await next();
    // An answer made elsewhere (an error, an event stream, the user's object's upgrade) lacks them.
    if (!c.res.headers.has(headers[0][0])) copyWithHeaders(c, headers);
  });
}

type HeaderList = [[string, string], ...[string, string][]];

/** Allow-Origin and Expose-Headers when the origin may call; Vary: Origin when the answer depends on the origin (never empty: "*" allows every origin). */
function simpleRequestHeaders(origin: string | null, varyByOrigin: boolean): HeaderList {
  const vary: [string, string] = ["Vary", "Origin"];
  if (origin === null) return [vary];
  const allowed: HeaderList = [["Access-Control-Allow-Origin", origin], ["Access-Control-Expose-Headers", EXPOSED]];
  return varyByOrigin ? [...allowed, vary] : allowed;
}

/**
 * Replaces the answer with a copy that has `headers`, as Hono's cors would
 * (its merge names them in lower case, which the wire shows for those that
 * are not well-known), so that the answer's bytes stay the same.
 */
function copyWithHeaders(c: Context, headers: HeaderList) {
  const copy = new Response(c.res.body, c.res);
  for (const [name, value] of headers) copy.headers.set(name.toLowerCase(), value);
  // Unset first, so that Hono's setter takes the copy as it is rather than merging the old answer into it.
  c.res = undefined;
  c.res = copy;
}
