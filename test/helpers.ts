// Shared by every test file: requests to the real Worker (exports.default),
// signed the way a publisher's backend would sign them (jose); publishing and
// polling through it; problem answers; the objects' storage; the clock.
import {
  createExecutionContext,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
  type DurableObjectEvictionOptions,
} from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { SignJWT } from "jose";
import { expect, vi } from "vitest";
import type { Env } from "../src/config";
import worker from "../src/index";
import type {
  AnnounceAnswer,
  InboxAnswer,
  MessageDelivery,
  Problem,
  PublishAnswer,
  RegionListing,
  ScheduledAnswer,
  ScheduledEntry,
  StatsAnswer,
  UnreadAnswer,
  UserView,
} from "../src/shared/responses";
import { StatsBuffer } from "../src/stats/buffer";
import { flushStats } from "../src/stats/flush";
import type { StatsRecorder } from "../src/stats/recorder";
import { shardOf } from "../src/stats/shards";

export type { InboxAnswer, PublishAnswer, RegionListing, ScheduledAnswer, ScheduledEntry, UnreadAnswer };

/** A name no other test uses: storage is shared by the tests of one file. */
export function unique(prefix: string) {
  return `${prefix}-${crypto.randomUUID().slice(0, 8)}`;
}

/** from, from + 1, … to: the ids or seqs a test expects, with no gap. */
/** mulberry32: a small seeded generator of numbers in [0, 1), so a failing draw can be replayed. */
export function seededRandom(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

// ---- HTTP ---------------------------------------------------------------------------

const BASE = "http://postbox.test";

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

/**
 * Who a client token says is calling, beyond its `sub`: the `region` and
 * `device` claims (each left out when undefined; "" is sent, so that an empty
 * claim can be refused).
 */
export type ClientClaims = { region?: string; device?: string };

/** A client token for `userId` with these claims. */
export function clientTokenFor(userId: string, { region, device }: ClientClaims = {}) {
  return clientToken({ sub: userId, ...(region !== undefined && { region }), ...(device !== undefined && { device }) });
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

/** The publisher's path of a user. */
const userPath = (userId: string) => `/admin/v1/users/${encodeURIComponent(userId)}`;

/** Where a user's personal messages are published. */
export const messagesPath = (userId: string) => `${userPath(userId)}/messages`;

/** Where one personal message of a user is viewed (GET) and retracted (DELETE). */
export const messagePath = (userId: string, seq: number) => `${messagesPath(userId)}/${seq}`;

/** DELETE /admin/v1/users/{userId}/messages/{seq}; the raw answer. */
export function retract(userId: string, seq: number) {
  return admin(messagePath(userId, seq), { method: "DELETE" });
}

/** A publisher request whose JSON body is exactly `text`, spellings JSON.stringify would change included. */
export function adminText(path: string, method: string, text: string, headers: Record<string, string> = {}) {
  return admin(path, { method, body: text, headers: { "Content-Type": "application/json", ...headers } });
}

/** A client request's init: the request's, a JSON body, and the token's claims. */
export type ClientInit = RequestInit & { json?: unknown } & ClientClaims;

/** A client request for `userId` (token claims may add a region and a device). */
export async function client(userId: string, path: string, init: ClientInit = {}) {
  return call(path, await asClientOf(userId, init));
}

/** A client request for `userId`, to the real Worker run with another environment. */
export async function clientWithEnv(overrides: Partial<Env>, userId: string, path: string, init: ClientInit = {}) {
  return fetchWithEnv(overrides, path, await asClientOf(userId, init));
}

async function asClientOf(userId: string, { region, device, ...init }: ClientInit) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${await clientTokenFor(userId, { region, device })}`);
  return withJson({ ...init, headers });
}

/** A client request whose body is exactly `text` (sent as JSON unless `headers` name another Content-Type). */
export function clientText(userId: string, path: string, method: string, text: string, headers: Record<string, string> = {}) {
  return client(userId, path, { method, body: text, headers: { "Content-Type": "application/json", ...headers } });
}

// ---- publishing ---------------------------------------------------------------------

export async function publish(userId: string, message: Record<string, unknown> = { body: "hello" }) {
  const res = await admin(messagesPath(userId), { method: "POST", json: message });
  if (res.status !== 201) throw new Error(`publish answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as PublishAnswer;
}

/** Publishes `count` messages (bodies m1, m2, …) one after the other; the answers in order. */
export async function publishMany(userId: string, count: number) {
  const answers: PublishAnswer[] = [];
  for (let i = 1; i <= count; i++) answers.push(await publish(userId, { body: `m${i}` }));
  return answers;
}

/** A new user with `count` messages published (bodies m1 … m<count>). */
export async function userWithMessages(count: number, prefix = "u") {
  const userId = unique(prefix);
  await publishMany(userId, count);
  return userId;
}

export async function announce(regions: string[], message: Record<string, unknown> = { body: "news" }) {
  const res = await admin("/admin/v1/announcements", { method: "POST", json: { regions, ...message } });
  if (res.status !== 201) throw new Error(`announce answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as AnnounceAnswer;
}

/** Announces `count` times in one region (bodies news 1, news 2, …) one after the other; the ids in order. */
export async function announceMany(region: string, count: number) {
  const ids: number[] = [];
  for (let i = 1; i <= count; i++) ids.push((await announce([region], { body: `news ${i}` })).ids[region]!);
  return ids;
}

/** A new region with `count` announcements (ids 1 … count). */
export async function regionWithAnnouncements(count: number, prefix = "r") {
  const regionId = unique(prefix);
  await announceMany(regionId, count);
  return regionId;
}

/** Publishes `count` announcements straight through the region object's RPC method, 200 at a time (fast seeding). */
export async function seedAnnouncements(region: string, count: number, createdAt = new Date().toISOString()) {
  const stub = regionStub(region);
  const ids: number[] = [];
  for (let start = 0; start < count; start += 200) {
    const batch = Array.from({ length: Math.min(200, count - start) }, (_, i) =>
      stub.publish(region, { body: `seed ${start + i + 1}` }, createdAt),
    );
    ids.push(...(await Promise.all(batch)));
  }
  return ids;
}

/** DELETE /admin/v1/regions/{regionId}/announcements/{id}; the raw answer. */
export function retractAnnouncement(region: string, id: number | string) {
  return admin(`/admin/v1/regions/${encodeURIComponent(region)}/announcements/${id}`, { method: "DELETE" });
}

/** Retracts the announcement; whether it was retracted now (`retracted` of the 200 answer). */
export async function retracted(region: string, id: number) {
  const res = await retractAnnouncement(region, id);
  if (res.status !== 200) throw new Error(`retract answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { retracted: boolean }).retracted;
}

// ---- scheduled delivery -------------------------------------------------------------

/** A publish at `deliverAt` (ms): a personal message to `target.user`, or an announcement to `target.regions`; the raw answer. */
export function publishAt(
  target: { user: string } | { regions: string[] },
  deliverAt: number | string,
  message: Record<string, unknown> = { body: "later" },
  headers: Record<string, string> = {},
) {
  const at = typeof deliverAt === "number" ? new Date(deliverAt).toISOString() : deliverAt;
  return "user" in target
    ? admin(messagesPath(target.user), { method: "POST", headers, json: { ...message, deliverAt: at } })
    : admin("/admin/v1/announcements", { method: "POST", headers, json: { regions: target.regions, ...message, deliverAt: at } });
}

/** publishAt, expecting it held (202); its answer. */
export async function scheduleAt(...args: Parameters<typeof publishAt>) {
  const res = await publishAt(...args);
  if (res.status !== 202) throw new Error(`a scheduled publish answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as ScheduledAnswer;
}

/** What the user's (`{ user }`) or the region's (`{ region }`) object holds, soonest first. */
export async function scheduledOf(holder: { user: string } | { region: string }) {
  const path = "user" in holder ? `users/${encodeURIComponent(holder.user)}` : `regions/${encodeURIComponent(holder.region)}`;
  const res = await admin(`/admin/v1/${path}/scheduled`);
  if (res.status !== 200) throw new Error(`the scheduled listing answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { scheduled: ScheduledEntry[] }).scheduled;
}

/** DELETE /admin/v1/scheduled/{id}; the raw answer. */
export function cancelScheduled(id: string) {
  return admin(`/admin/v1/scheduled/${encodeURIComponent(id)}`, { method: "DELETE" });
}

/** Cancels; `cancelled` of the 200 answer. */
export async function cancelled(id: string) {
  const res = await cancelScheduled(id);
  if (res.status !== 200) throw new Error(`cancel answered ${res.status}: ${await res.text()}`);
  return ((await res.json()) as { cancelled: boolean }).cancelled;
}

/** Stores the user's region (null clears it) with PUT /admin/v1/users/{userId}/region. */
export async function setRegion(userId: string, region: string | null) {
  const res = await admin(`/admin/v1/users/${encodeURIComponent(userId)}/region`, { method: "PUT", json: { region } });
  if (res.status !== 200) throw new Error(`PUT region answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { userId: string; region: string | null };
}

/** The region's log as the publisher reads it (`query` with its leading "?"). */
export async function regionLog(region: string, query = "") {
  const res = await admin(`/admin/v1/regions/${encodeURIComponent(region)}/announcements${query}`);
  if (res.status !== 200) throw new Error(`region log answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as RegionListing;
}

// ---- polling ------------------------------------------------------------------------

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

export async function poll(userId: string, query = "", claims: ClientClaims = {}) {
  const res = await client(userId, `/v1/inbox${query}`, claims);
  if (res.status !== 200) throw new Error(`poll answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as InboxAnswer;
}

/** The seqs pending for the device (the first 500), as its poll returns them: the poll is an answer to it. */
export async function pendingSeqs(userId: string, claims: ClientClaims = {}) {
  return (await poll(userId, "?limit=500", claims)).personal.map((m) => m.seq);
}

/** Two devices of one user (the token's `device` claim). */
export const PHONE: ClientClaims = { device: "phone" };
export const LAPTOP: ClientClaims = { device: "laptop" };
export const TABLET: ClientClaims = { device: "tablet" };
export const DESK: ClientClaims = { device: "desk" };

/** Makes each device known, in this order, with one poll each. */
export async function makeKnown(userId: string, ...devices: ClientClaims[]) {
  for (const claims of devices) await poll(userId, "", claims);
}

/** GET /v1/inbox/unread (`query` with its leading "?"). */
export async function unreadOf(userId: string, query = "", claims: ClientClaims = {}) {
  const res = await client(userId, `/v1/inbox/unread${query}`, claims);
  if (res.status !== 200) throw new Error(`unread answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as UnreadAnswer;
}

/** The seqs of the user's unread messages, oldest first (the first 100). */
export async function unreadSeqs(userId: string) {
  return (await unreadOf(userId)).messages.map((m) => m.seq);
}

/** POST /v1/inbox/ack {upTo}; the raw answer, so that invalid values can be sent and checked. */
export function ackUpTo(userId: string, upTo: unknown, claims: ClientClaims = {}) {
  return client(userId, "/v1/inbox/ack", { ...claims, method: "POST", json: { upTo } });
}

/** POST /v1/inbox/read with the receipt as given ({seqs} or {upTo}); the raw answer. */
export function markRead(userId: string, receipt: unknown, claims: ClientClaims = {}) {
  return client(userId, "/v1/inbox/read", { ...claims, method: "POST", json: receipt });
}

/** POST /v1/inbox/arrived {seqs, via: "push"}; the raw answer. */
export function reportArrived(userId: string, seqs: unknown, claims: ClientClaims = {}, via: unknown = "push") {
  return client(userId, "/v1/inbox/arrived", { ...claims, method: "POST", json: { seqs, via } });
}

/** GET /admin/v1/users/{userId}/messages/{seq}'s devices, each as [outcome, at in ms or null]. */
export async function outcomesOf(userId: string, seq: number) {
  const res = await admin(messagePath(userId, seq));
  if (res.status !== 200) throw new Error(`the message view answered ${res.status}: ${await res.text()}`);
  const { devices } = (await res.json()) as MessageDelivery;
  return Object.fromEntries(
    Object.entries(devices).map(([device, { outcome, at }]) => [device, [outcome, at === null ? null : Date.parse(at)]]),
  );
}

/** The rows the user's object read while `run` ran (GET /admin/v1/users/{userId}/storage before and after). */
export async function rowsReadBy(userId: string, run: () => Promise<unknown>) {
  const rowsRead = async () => ((await (await admin(`${userPath(userId)}/storage`)).json()) as { rowsRead: number }).rowsRead;
  const before = await rowsRead();
  await run();
  return (await rowsRead()) - before;
}

/** GET /admin/v1/users/{userId}: what postbox holds for the user, its known devices included. */
export async function userView(userId: string) {
  const res = await admin(userPath(userId));
  return (await res.json()) as UserView;
}

// ---- stats --------------------------------------------------------------------------

/** GET /admin/v1/stats (`query` with its leading "?"). */
export async function statsOf(query = "") {
  const res = await admin(`/admin/v1/stats${query}`);
  if (res.status !== 200) throw new Error(`stats answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as StatsAnswer;
}

/** The query of the stats window [from, to) (ms). */
export const windowQuery = (from: number, to: number) =>
  `?from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}`;

/** Records what `record` says into a new buffer and flushes it to the source's shard, as an object's alarm does. */
export async function sendStats(source: string, record: (stats: StatsRecorder) => void) {
  const buffer = StatsBuffer.from();
  record(buffer);
  if (!(await flushStats(env, source, buffer))) throw new Error(`the stats of ${source} were not flushed`);
  return buffer;
}

/** A source name (a user's object) whose stats go to shard number `shard`. */
export function sourceOnShard(shard: number) {
  for (;;) {
    const source = unique("user:s");
    if (shardOf(source) === shard) return source;
  }
}

let statsTimeUsed = 0;
/**
 * The start of `ms` of publish time in which no other test of this file records
 * stats (the shards are the file's, and every stats request reads all of them).
 * Ahead of the real clock, so that an alarm aimed from it never fires by itself.
 */
export function unusedStatsTime(ms = HOUR) {
  const start = Math.max(statsTimeUsed, aheadOfNow(HOUR));
  statsTimeUsed = start + ms + HOUR;
  return start;
}

// ---- problems -----------------------------------------------------------------------

/** Checks a problem+json answer and returns its body. */
export async function problemOf(res: Response) {
  const type = res.headers.get("Content-Type") ?? "";
  if (!type.startsWith("application/problem+json")) throw new Error(`expected problem+json, got ${type}: ${await res.text()}`);
  return (await res.json()) as Problem;
}

/**
 * A problem answer with the given status, the contract's fields and no stack trace;
 * `errors` only on a 400 (the contract has it for validation failures alone).
 */
export async function expectProblem(res: Response, status: number): Promise<Problem> {
  expect(res.status).toBe(status);
  const text = await res.clone().text();
  expect(text).not.toMatch(/\n\s+at\s/);
  expect(text).not.toMatch(/\.(ts|js):\d+/);
  const body = await problemOf(res);
  if (status !== 400) expect(body.errors, "errors on a non-validation problem").toBeUndefined();
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

// ---- storage ------------------------------------------------------------------------

export const userStub = (userId: string) => env.USERS.getByName(userId);
export const regionStub = (regionId: string) => env.REGIONS.getByName(regionId);

/** Tears down the user's object (its memory lost, its storage kept); `{ webSockets: "hibernate" }` keeps its sockets. */
export function evictUser(userId: string, options?: DurableObjectEvictionOptions) {
  return evictDurableObject(userStub(userId), options);
}

export function evictRegion(regionId: string) {
  return evictDurableObject(regionStub(regionId));
}

/** Runs the region's object's alarm now, if one is set (false when none is). */
export function runRegionAlarm(regionId: string) {
  return runDurableObjectAlarm(regionStub(regionId));
}

/** Runs the user's object's alarm now, if one is set (false when none is). */
export function runUserAlarm(userId: string) {
  return runDurableObjectAlarm(userStub(userId));
}

/** Moves the clock on by `ms` and runs the user's alarm, as the runtime would at that time. */
export async function alarmAfter(userId: string, ms: number) {
  travel(ms);
  await runUserAlarm(userId);
}

/**
 * In a deployment the Worker and its Durable Objects read the same [vars]. In the
 * test runtime an object keeps the environment it was created with, so an
 * override given to worker.fetch is also given to the one object it will reach.
 */
export async function sameVarsInObject<O extends Rpc.DurableObjectBranded>(stub: DurableObjectStub<O>, overrides: Partial<Env>) {
  await runInDurableObject(stub, (instance) => {
    Object.assign(instance, { env: { ...env, ...overrides } });
  });
}

/** What the user's object holds, read straight from its storage: no request's own expiry check runs. */
export function storedInUser(userId: string) {
  return runInDurableObject(userStub(userId), async (_instance, state) => {
    const sql = state.storage.sql;
    const seqs = (table: string) =>
      sql.exec<{ seq: number }>(`SELECT seq FROM ${table} ORDER BY seq`).toArray().map((row) => row.seq);
    return {
      pending: seqs("pending"),
      unread: seqs("unread"),
      idempotencyKeys: sql.exec<{ n: number }>("SELECT count(*) AS n FROM idempotency").one().n,
      alarm: await state.storage.getAlarm(),
    };
  });
}

/** Empties an object's storage, its alarm included, as if it had never run. */
export async function wipeStorage(storage: DurableObjectStorage) {
  await storage.deleteAlarm();
  await storage.deleteAll();
}

// ---- the contract's defaults (wrangler.toml sets none: the tests run with them) -----

// Durations in milliseconds, as Date counts them.
export const SECOND = 1000;
export const HOUR = 60 * 60 * SECOND;
export const DAY = 24 * HOUR;
export const PENDING_TTL = 7 * DAY;
export const PENDING_TTL_SECONDS = PENDING_TTL / SECOND;
export const UNREAD_TTL = 30 * DAY;
export const ANNOUNCEMENT_TTL = 30 * DAY;
export const ANNOUNCEMENT_LIMIT = 1000;
export const DEVICE_LIMIT = 10;
export const DEVICE_TTL = 7 * DAY;

// ---- clock --------------------------------------------------------------------------

/**
 * Fakes Date, inside the Durable Objects too (they run in this isolate), and stops
 * it at `at`; returns `at`. A file that uses it restores the clock in afterEach.
 */
export function freezeTime(at = Date.now()) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(at);
  return at;
}

/** Moves the clock forward by `ms` and stops it there. */
export const travel = (ms: number) => freezeTime(Date.now() + ms);

/** A whole second `ms` ahead of the real clock: an alarm aimed from it never lands in the real past (where it would fire by itself). */
export const aheadOfNow = (ms = 60_000) => Math.ceil(Date.now() / 1000) * 1000 + ms;
