// Shared by every test file: requests to the real Worker (exports.default),
// signed the way a publisher's backend would sign them (jose).
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { expect, vi } from "vitest";
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

/**
 * Runs `fn` with console.error captured instead of printed, and expects it to log
 * at least one line and only lines matching `pattern`: a failure a test provokes
 * stays out of the test output, and what postbox logs for it is checked.
 */
export async function expectLogged<T>(pattern: RegExp, fn: () => Promise<T>): Promise<T> {
  const logged = vi.spyOn(console, "error").mockImplementation(() => {});
  try {
    const result = await fn();
    const lines = logged.mock.calls.map((args) => args.map(String).join(" "));
    expect(lines, "console.error lines").not.toEqual([]);
    for (const line of lines) expect(line, "console.error line").toMatch(pattern);
    return result;
  } finally {
    logged.mockRestore();
  }
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

/** Where a user's personal messages are published. */
export const messagesPath = (userId: string) => `/admin/v1/users/${encodeURIComponent(userId)}/messages`;

/** A publisher request whose JSON body is exactly `text`, spellings JSON.stringify would change included. */
export function adminText(path: string, method: string, text: string, headers: Record<string, string> = {}) {
  return admin(path, { method, body: text, headers: { "Content-Type": "application/json", ...headers } });
}

/** A client request for `userId` (token claims may add a region). */
export async function client(
  userId: string,
  path: string,
  init: RequestInit & { json?: unknown; region?: string } = {},
) {
  return call(path, await asClientOf(userId, init));
}

/** A client request for `userId`, to the real Worker run with another environment. */
export async function clientWithEnv(
  overrides: Partial<Env>,
  userId: string,
  path: string,
  init: RequestInit & { json?: unknown; region?: string } = {},
) {
  return fetchWithEnv(overrides, path, await asClientOf(userId, init));
}

async function asClientOf(userId: string, { region, ...init }: RequestInit & { json?: unknown; region?: string }) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${await clientToken({ sub: userId, ...(region && { region }) })}`);
  return withJson({ ...init, headers });
}

export async function publish(userId: string, message: Record<string, unknown> = { body: "hello" }) {
  const res = await admin(messagesPath(userId), { method: "POST", json: message });
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

/** Empties an object's storage, its alarm included, as if it had never run. */
export async function wipeStorage(storage: DurableObjectStorage) {
  await storage.deleteAlarm();
  await storage.deleteAll();
}

/** A problem answer with the given status, the contract's fields and no stack trace. */
export async function expectProblem(res: Response, status: number): Promise<Problem> {
  expect(res.status).toBe(status);
  const text = await res.clone().text();
  expect(text).not.toMatch(/\n\s+at\s/);
  expect(text).not.toMatch(/\.(ts|js):\d+/);
  const body = await problemOf(res);
  const keys = Object.keys(body).sort();
  expect(keys).toEqual(
    body.errors === undefined ? ["detail", "status", "title", "type"] : ["detail", "errors", "status", "title", "type"],
  );
  expect(body.status).toBe(status);
  expect(typeof body.type).toBe("string");
  expect(body.type.length).toBeGreaterThan(0);
  expect(typeof body.title).toBe("string");
  expect(body.title.length).toBeGreaterThan(0);
  expect(typeof body.detail).toBe("string");
  expect(body.detail.length).toBeGreaterThan(0);
  return body;
}

/** A 400 whose errors name exactly the given paths (each with a message). */
export async function expectInvalid(res: Response, ...paths: string[]) {
  const body = await expectProblem(res, 400);
  expect(Array.isArray(body.errors)).toBe(true);
  for (const error of body.errors!) {
    expect(Object.keys(error).sort()).toEqual(["message", "path"]);
    expect(typeof error.message).toBe("string");
    expect(error.message.length).toBeGreaterThan(0);
  }
  expect(body.errors!.map((error) => error.path).sort()).toEqual([...paths].sort());
  return body;
}
