// Who is calling: a client (a user, by JWT) or a publisher (by the admin token).
// A route whose secret is unset answers 503 rather than letting anyone in.
import { createMiddleware } from "hono/factory";
import * as v from "valibot";
import { regionId, userId } from "../shared/schema";
import type { AppEnv, Client } from "./context";
import { verifyHs256, verifyKnownHs256 } from "./jwt";
import { problem } from "./problem";

function bearer(header: string | undefined) {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

function missingSecret(name: string) {
  return problem(503, `${name} is not set: run \`wrangler secret put ${name}\` (or add it to .dev.vars locally).`);
}

/** Browsers cannot set headers on a WebSocket or an EventSource, so the live route also takes ?token=. */
const LIVE_PATH = "/v1/inbox/live";

export const clientAuth = createMiddleware<AppEnv>(async (c, next) => {
  const secret = c.env.CLIENT_JWT_SECRET;
  if (!secret) throw missingSecret("CLIENT_JWT_SECRET");
  const token =
    bearer(c.req.header("Authorization")) ?? (c.req.path === LIVE_PATH ? c.req.query("token") : undefined);
  if (!token) throw problem(401, "Send a client token: Authorization: Bearer <JWT>.", { headers: { "WWW-Authenticate": "Bearer" } });
  const verified = await verifyHs256(token, secret);
  if ("error" in verified) throw problem(401, `Invalid client token: ${verified.error}.`, { headers: { "WWW-Authenticate": "Bearer" } });
  c.set("client", clientNamedBy(verified.claims));
  await next();
});

/** Accepted clients by their token's claims object (the same one on every use of a token): checked once per token. */
const clients = new WeakMap<Record<string, unknown>, Client>();

function clientNamedBy(claims: Record<string, unknown>): Client {
  let client = clients.get(claims);
  if (!client) {
    const { sub, region } = claims;
    if (!v.is(userId, sub)) throw problem(401, "Invalid client token: sub is not a valid userId.");
    if (region != null && !v.is(regionId, region)) throw problem(401, "Invalid client token: region is not a valid regionId.");
    client = { userId: sub, region: region ?? undefined };
    clients.set(claims, client);
  }
  return client;
}

/**
 * The client of an Authorization header that clientAuth has accepted before
 * and would accept now (time claims and secret included), without waiting;
 * undefined for any other.
 */
export function knownClient(authorization: string | null, secret: string | undefined): Client | undefined {
  const token = bearer(authorization ?? undefined);
  if (!token || !secret) return undefined;
  const verified = verifyKnownHs256(token, secret);
  return verified?.claims && clients.get(verified.claims);
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

export const adminAuth = createMiddleware<AppEnv>(async (c, next) => {
  const expected = c.env.ADMIN_TOKEN;
  if (!expected) throw missingSecret("ADMIN_TOKEN");
  const token = bearer(c.req.header("Authorization"));
  if (!token || !(await sameSecret(token, expected))) {
    throw problem(401, "Send the publisher token: Authorization: Bearer <ADMIN_TOKEN>.", {
      headers: { "WWW-Authenticate": "Bearer" },
    });
  }
  await next();
});
