import type { Env } from "../config";

/** A user, as their verified token names them (and, when it does, their region and device). */
export type Client = { userId: string; region?: string; device?: string };

/** The Hono environment shared by every route: bindings plus what auth learned. */
export type AppEnv = {
  Bindings: Env;
  Variables: { client: Client };
};
