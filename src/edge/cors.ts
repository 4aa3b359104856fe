// CORS for the client routes: browsers on other origins call them. Preflights
// are answered before authentication; every answer, errors included, carries
// the headers when the origin is allowed, and none when it is not.
import { createMiddleware } from "hono/factory";
import { config, corsOrigins } from "../config";
import type { AppEnv } from "./context";
import type { MethodsAt } from "./routing";

export const clientCors = (methodsAt: MethodsAt) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const origins = corsOrigins(c.env);
    const origin = c.req.header("Origin");
    const allowed = origins === "*" ? "*" : origin && origins.includes(origin) ? origin : null;
    const headers: Record<string, string> = allowed
      ? {
          "Access-Control-Allow-Origin": allowed,
          "Access-Control-Expose-Headers": "Retry-After",
          ...(allowed !== "*" && { Vary: "Origin" }),
        }
      : origins === "*" ? {} : { Vary: "Origin" };

    const methods = methodsAt(c.req.path);
    if (c.req.method === "OPTIONS" && methods.length > 0) {
      config(c.env); // a misconfigured Worker answers even a preflight with the error
      return c.body(null, 204, {
        ...headers,
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
    for (const [name, value] of Object.entries(headers)) c.res.headers.set(name, value);
  });
