// Shared by every test file: requests to the real Worker (exports.default),
// signed the way a publisher's backend would sign them (jose).
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import type { Env } from "../src/config";
import worker from "../src/index";
import type { AnnounceAnswer, InboxAnswer, Problem, PublishAnswer, UserView } from "../src/shared/responses";

export type { InboxAnswer };

const BASE = "http://postbox.test";

/** A name no other test uses: storage is shared by the tests of one file. */
export function unique(prefix: string) {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

export async function clientToken(
  claims: { sub: string; region?: string } & Record<string, unknown>,
  { expiresIn = "1h", secret = env.CLIENT_JWT_SECRET! }: { expiresIn?: string | number; secret?: string } = {},
) {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

export function call(path: string, init: RequestInit = {}) {
  return exports.default.fetch(new Request(new URL(path, BASE), init));
}

/** The real Worker, run with another environment. */
export async function fetchWithEnv(overrides: Partial<Env>, path: string, init: RequestInit = {}) {
  const ctx = createExecutionContext();
  const res = await worker.fetch(new Request(new URL(path, BASE), init), { ...env, ...overrides }, ctx);
  await waitOnExecutionContext(ctx);
  return res;
}

function withJson(init: RequestInit & { json?: unknown }): RequestInit {
  const { json, ...rest } = init;
  if (json === undefined) return rest;
  const headers = new Headers(rest.headers);
  if (!headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  return { ...rest, headers, body: JSON.stringify(json) };
}

/** A publisher request, with the admin token. */
export function admin(path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${env.ADMIN_TOKEN}`);
  return call(path, withJson({ ...init, headers }));
}

/** A client request for `userId` (token claims may add a region). */
export async function client(
  userId: string,
  path: string,
  init: RequestInit & { json?: unknown; region?: string } = {},
) {
  const { region, ...rest } = init;
  const headers = new Headers(rest.headers);
  headers.set("Authorization", `Bearer ${await clientToken({ sub: userId, ...(region && { region }) })}`);
  return call(path, withJson({ ...rest, headers }));
}

export async function publish(userId: string, message: Record<string, unknown> = { body: "hello" }) {
  const res = await admin(`/admin/v1/users/${encodeURIComponent(userId)}/messages`, { method: "POST", json: message });
  if (res.status !== 201) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as PublishAnswer;
}

export async function announce(regions: string[], message: Record<string, unknown> = { body: "news" }) {
  const res = await admin("/admin/v1/announcements", { method: "POST", json: { regions, ...message } });
  if (res.status !== 201) throw new Error(`announce answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as AnnounceAnswer;
}

/** The answer to a user with nothing pending and no region: every field present. */
export const EMPTY_ANSWER: InboxAnswer = {
  personal: [],
  announcements: [],
  region: null,
  cursor: null,
  epoch: null,
  ack: null,
  dropped: 0,
  gap: false,
  reset: false,
  more: false,
};

export async function poll(userId: string, query = "", init: { region?: string } = {}) {
  const res = await client(userId, `/v1/inbox${query}`, init);
  if (res.status !== 200) throw new Error(`poll answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as InboxAnswer;
}

export async function userView(userId: string) {
  const res = await admin(`/admin/v1/users/${encodeURIComponent(userId)}`);
  return (await res.json()) as UserView;
}

/** Checks a problem+json answer and returns its body. */
export async function problemOf(res: Response) {
  const type = res.headers.get("Content-Type") ?? "";
  if (!type.startsWith("application/problem+json")) throw new Error(`expected problem+json, got ${type}: ${await res.text()}`);
  return (await res.json()) as Problem;
}
