// CORS for the client routes: browsers on other origins call them. Preflights
// are answered before authentication; every answer, errors included, carries
// the headers when the origin is allowed, and none when it is not.
import { createMiddleware } from "hono/factory";
import { config, corsOrigins, type Config } from "../config";
import type { AppEnv } from "./context";
import type { MethodsAt } from "./routing";

export type HeaderList = [name: string, value: string][];
const built = new Map<string, { allowed: string | null; list: HeaderList }>();

/**
 * The headers an answer to `origin` carries. They take one of a few values per
 * setting (one per listed origin, one for the rest), so each is built once:
 * this runs on every poll.
 */
export function corsHeaders(origins: Config["CORS_ORIGINS"], origin: string | undefined) {
  const allowed = origins === "*" ? "*" : origin && origins.includes(origin) ? origin : null;
  const key = `${origins}\n${allowed}`;
  let headers = built.get(key);
  if (!headers) {
    headers = {
      allowed,
      list: allowed
        ? [
            ["Access-Control-Allow-Origin", allowed],
            ["Access-Control-Expose-Headers", "Retry-After"],
            ...(allowed !== "*" ? ([["Vary", "Origin"]] as HeaderList) : []),
          ]
        : origins === "*" ? [] : [["Vary", "Origin"]],
    };
    built.set(key, headers);
  }
  return headers;
}

export const clientCors = (methodsAt: MethodsAt) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const { allowed, list } = corsHeaders(corsOrigins(c.env), c.req.header("Origin"));

    const methods = methodsAt(c.req.path);
    if (c.req.method === "OPTIONS" && methods.length > 0) {
      config(c.env); // a misconfigured Worker answers even a preflight with the error
      return c.body(null, 204, {
        ...Object.fromEntries(list),
        ...(allowed && {
          "Access-Control-Allow-Methods": methods.join(", "),
          "Access-Control-Allow-Headers": "Authorization, Content-Type",
          "Access-Control-Max-Age": "600",
        }),
      });
    }
    await next();
    // A 101 upgrade's headers are fixed; WebSockets do not use CORS anyway.
    if (c.res.status === 101) return;
    for (const [name, value] of list) c.res.headers.set(name, value);
  });
