import type { Env } from "../config";

/** The Hono environment shared by every route: bindings plus what auth learned. */
export type AppEnv = {
  Bindings: Env;
  Variables: { client: { userId: string; region?: string } };
};
