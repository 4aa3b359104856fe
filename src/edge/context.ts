import type { Env } from "../config";

/** A user, as their verified token names them. */
export type Client = { userId: string; region?: string };

/** The Hono environment shared by every route: bindings plus what auth learned. */
export type AppEnv = {
  Bindings: Env;
  Variables: { client: Client };
};
