// 404 and 405 before any authentication: whether a path exists, and with which
// methods, is read from the routes the app registered, so it cannot drift.
import type { Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { TrieRouter } from "hono/router/trie-router";
import { BoundedMap } from "../shared/bounded-map";
import type { AppEnv } from "./context";
import { problem } from "./problem";

export type MethodsAt = (path: string) => string[];

export function routeMethods(app: Hono<AppEnv>): MethodsAt {
  let router: TrieRouter<string> | undefined;
  // Most requests go to a handful of paths: remember the answer for recent ones.
  const known = new BoundedMap<string, string[]>(1_000);
  return (path) => {
    const remembered = known.get(path);
    if (remembered) return remembered;
    if (!router) {
      router = new TrieRouter<string>();
      for (const route of app.routes) {
        if (route.method !== "ALL") router.add("ALL", route.path, route.method);
      }
    }
    const methods = new Set(router.match("ALL", path)[0].map(([method]) => method));
    if (methods.has("GET")) methods.add("HEAD");
    known.set(path, [...methods]);
    return [...methods];
  };
}

export const routeGuard = (methodsAt: MethodsAt) =>
  createMiddleware<AppEnv>(async (c, next) => {
    const methods = methodsAt(c.req.path);
    if (methods.length === 0) throw problem(404, `There is no route ${c.req.path}.`);
    if (!methods.includes(c.req.method)) {
      throw problem(405, `${c.req.path} accepts ${methods.join(", ")}.`, { headers: { Allow: methods.join(", ") } });
    }
    await next();
  });
