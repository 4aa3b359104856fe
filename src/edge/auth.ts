// Who is calling: a client (a user, by JWT, limited per user) or a publisher (by the admin token).
// A route whose secret is unset answers 503 rather than letting anyone in.
import { createMiddleware } from "hono/factory";
import { verify } from "hono/jwt";
import * as v from "valibot";
import { BoundedMap } from "../shared/bounded-map";
import { rateLimitDetail, retryAfterSeconds, withinClientLimit } from "../shared/rate-limit";
import { deviceId, regionId, userId } from "../shared/schema";
import type { AppEnv, Client } from "./context";
import { problem } from "./problem";

function bearer(header: string | undefined) {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

export function missingSecret(name: string) {
  return problem(503, `${name} is not set: run \`wrangler secret put ${name}\` (or add it to .dev.vars locally).`);
}

const unauthorized = (detail: string) => problem(401, detail, { headers: { "WWW-Authenticate": "Bearer" } });

/** Browsers cannot set headers on a WebSocket or an EventSource, so the live route also takes ?token=. */
const LIVE_PATH = "/v1/inbox/live";

type Verified = { secret: string; client: Client; exp: number; nbf?: number };

/**
 * Tokens whose signature verified, with the client they name: a client polls
 * with the same token many times, and the HMAC is most of a request's own
 * cost. The time claims are checked again on every use.
 */
const verified = new BoundedMap<string, Verified>(10_000);

/**
 * What every client route runs first: who is calling (by HS256 JWT), then
 * whether they may call again yet (the rate limit, per user). Hono's `verify`
 * checks the algorithm, the signature and the time claims it finds; it does
 * not require `exp`, lets one signature have several base64url spellings, and
 * knows nothing of postbox's ids or of remembering verified tokens: those are
 * added here.
 */
export const asClient = createMiddleware<AppEnv>(async (c, next) => {
  const secret = c.env.CLIENT_JWT_SECRET;
  if (!secret) throw missingSecret("CLIENT_JWT_SECRET");
  const token =
    bearer(c.req.header("Authorization")) ?? (c.req.path === LIVE_PATH ? c.req.query("token") : undefined);
  if (!token) throw unauthorized("Send a client token: Authorization: Bearer <JWT>.");
  let known = verified.get(token);
  if (known?.secret !== secret) {
    known = await verifyToken(token, secret);
    verified.set(token, known);
  }
  const now = Date.now() / 1000;
  if (known.exp <= now) throw unauthorized("Invalid client token: it has expired.");
  if (known.nbf !== undefined && known.nbf > now) throw unauthorized("Invalid client token: it is not valid yet.");
  if (!(await withinClientLimit(c.env, known.client.userId))) {
    const seconds = retryAfterSeconds();
    throw problem(429, rateLimitDetail(seconds), { headers: { "Retry-After": String(seconds) } });
  }
  c.set("client", known.client);
  await next();
});

const reasons: Record<string, string> = {
  JwtTokenInvalid: "it is not a well-formed JWT",
  JwtHeaderInvalid: "its header is not a JWT header",
  JwtAlgorithmMismatch: "only HS256 tokens are accepted",
  JwtTokenSignatureMismatched: "its signature does not verify",
  JwtTokenExpired: "it has expired, or its exp is not a finite number",
  JwtTokenNotBefore: "it is not valid yet, or its nbf is not a finite number",
};

async function verifyToken(token: string, secret: string): Promise<Verified> {
  if (!hasCanonicalSignature(token)) throw unauthorized("Invalid client token: its signature is not canonical base64url.");
  let claims: Record<string, unknown>;
  try {
    // iat is not compared with the clock: a publisher's clock a little ahead must not lock its users out.
    claims = await verify(token, secret, { alg: "HS256", iat: false });
  } catch (error) {
    const reason = (error instanceof Error && reasons[error.name]) || "it is not a valid HS256 JWT";
    throw unauthorized(`Invalid client token: ${reason}.`);
  }
  const { sub, region, device, exp, nbf, iat } = claims;
  if (exp === undefined) throw unauthorized("Invalid client token: it has no exp claim.");
  for (const [name, value] of Object.entries({ exp, nbf, iat })) {
    if (value !== undefined && !(typeof value === "number" && Number.isFinite(value))) {
      throw unauthorized(`Invalid client token: its ${name} claim is not a finite number.`);
    }
  }
  if (!v.is(userId, sub)) throw unauthorized("Invalid client token: sub is not a valid userId.");
  if (region != null && !v.is(regionId, region)) throw unauthorized("Invalid client token: region is not a valid regionId.");
  if (device != null && !v.is(deviceId, device)) throw unauthorized("Invalid client token: device is not a valid deviceId.");
  return { secret, client: { userId: sub, region: region ?? undefined, device: device ?? undefined }, exp: exp as number, ...(nbf !== undefined && { nbf: nbf as number }) };
}

/** base64url decoding ignores a last character's unused bits; only the spelling encoding gives back is one token. */
function hasCanonicalSignature(token: string) {
  const signature = token.slice(token.lastIndexOf(".") + 1);
  if (!/^[A-Za-z0-9_-]*$/.test(signature)) return false;
  try {
    const reencoded = btoa(atob(signature.replaceAll("-", "+").replaceAll("_", "/")));
    return reencoded.replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "") === signature;
  } catch {
    return false;
  }
}

const encoder = new TextEncoder();
const digest = (text: string) => crypto.subtle.digest("SHA-256", encoder.encode(text));
/** The expected token's digest, computed once per token value. */
const expectedDigests = new Map<string, Promise<ArrayBuffer>>();

/** Compares digests, so neither the length nor the content of the token leaks through timing. */
async function sameSecret(given: string, expected: string) {
  let expectedDigest = expectedDigests.get(expected);
  if (!expectedDigest) {
    expectedDigest = digest(expected);
    expectedDigests.set(expected, expectedDigest);
  }
  return crypto.subtle.timingSafeEqual(await digest(given), await expectedDigest);
}

/**
 * Publisher routes, by the admin token. Hono's bearer-auth compares tokens by
 * hashing both on every request and says nothing of why it refused; a
 * publisher needs to know whether the token was missing or wrong.
 */
export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) throw missingSecret("ADMIN_TOKEN");
  const header = c.req.header("Authorization");
  const token = bearer(header);
  if (!token) {
    throw unauthorized(
      header === undefined
        ? "Send the publisher token: Authorization: Bearer <ADMIN_TOKEN>. The request had no Authorization header."
        : "Send the publisher token: Authorization: Bearer <ADMIN_TOKEN>. The Authorization header is not a Bearer token.",
    );
  }
  if (!(await sameSecret(token, expected))) {
    throw unauthorized("The publisher token does not match ADMIN_TOKEN.");
  }
  await next();
});
