// The contract's client rate limit: requests (and socket frames) per user per
// 10 seconds, counted by the Workers Rate Limiting binding (wrangler.toml
// [[ratelimits]] holds the limit). Used by the edge for requests and by the
// user's object for socket frames, so both draw on one count.
import { config, type Env } from "../config";

/** The binding's period, in seconds (wrangler.toml `simple.period`). */
const PERIOD_SECONDS = 10;

/** Counts one request of `userId`; false when it is over the limit. */
export async function withinClientLimit(env: Env, userId: string) {
  const limit = config(env).CLIENT_RATE_LIMIT;
  // The binding also takes a limit per call: CLIENT_RATE_LIMIT, when set, overrides wrangler.toml's.
  const options: RateLimitOptions & { limit?: number } = { key: userId, ...(limit !== undefined && { limit }) };
  return (await env.CLIENT_RATE_LIMITER.limit(options)).success;
}

/** Seconds until the binding's window (aligned to the clock) starts again: at least 1. */
export function retryAfterSeconds(now = Date.now()) {
  return PERIOD_SECONDS - (Math.floor(now / 1000) % PERIOD_SECONDS);
}

export const rateLimitDetail = (seconds: number) =>
  `Too many requests for this user (the limit is per 10 seconds); retry in ${seconds} s.`;
