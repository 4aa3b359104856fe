// GET /openapi.json: a valid OpenAPI 3.1 document of exactly the app's routes,
// whose schemas real answers conform to (what an external checker does).
import { Validator } from "@cfworker/json-schema";
import { validate, compileErrors } from "@readme/openapi-parser";
import Ajv2020 from "ajv/dist/2020.js";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { app } from "../src/edge/app";
import { DEMO_PATH } from "../src/edge/demo";
import {
  admin,
  announce,
  call,
  client,
  clientWithEnv,
  expectLogged,
  fetchWithEnv,
  publish,
  publishMany,
  scheduleAt,
  sendStats,
  unique,
  unusedStatsTime,
  windowQuery,
} from "./helpers";
import { closeAllLive, liveEventStreamRequest, liveUpgrade, adoptEventStream, adoptSocket } from "./live-helpers";

type Operation = { responses: Record<string, { content?: Record<string, { schema: object }> }> };
type Document = {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object> };
};

/** The base URI the document is registered under, so its internal $refs resolve. */
const DOCUMENT_ID = "https://postbox.test/openapi.json";
let document: Document;

beforeAll(async () => {
  const res = await call("/openapi.json");
  expect(res.status).toBe(200);
  document = await res.json();
});
afterEach(closeAllLive);

/**
 * "GET /admin/v1/users/{userId}" for each route of the app, middleware left out,
 * and the demo's routes too: a local tool (off unless DEMO is on) that the
 * document leaves out on purpose (src/edge/demo.ts), as a test below checks.
 */
function appRoutes() {
  const routes = app.routes
    .filter((route) => route.method !== "ALL" && !isDemo(route.path))
    .map((route) => `${route.method} ${route.path.replace(/:(\w+)/g, "{$1}")}`);
  return [...new Set(routes)].sort();
}

const isDemo = (path: string) => path === DEMO_PATH || path.startsWith(`${DEMO_PATH}/`);

function documentedRoutes() {
  return Object.entries(document.paths)
    .flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`))
    .sort();
}

/** Every JSON Schema in the document, with where it is: the components' and those of parameters, headers and bodies. */
function schemasIn(value: unknown, at: string): [string, object][] {
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([key, item]): [string, object][] =>
    key === "schema" ? [[`${at}/${key}`, item]] : schemasIn(item, `${at}/${key}`),
  );
}

function allSchemas(): [string, object][] {
  return [
    ...Object.entries(document.components.schemas).map(([name, schema]): [string, object] => [`#/components/schemas/${name}`, schema]),
    ...schemasIn(document.paths, "#/paths"),
  ];
}

describe("the document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    expect(document.openapi).toBe("3.1.0");
    // The parser dereferences what it is given.
    const result = await validate(structuredClone(document) as never);
    expect(result.valid, result.valid ? "" : compileErrors(result)).toBe(true);
    expect(result.warnings).toEqual([]);
  });

  // The OpenAPI validator takes any object for a schema.
  it("states every schema in JSON Schema 2020-12, OpenAPI 3.1's dialect", () => {
    const ajv = new Ajv2020();
    const schemas = allSchemas();
    expect(schemas.length).toBeGreaterThan(50);
    const invalid = schemas.filter(([, schema]) => !ajv.validateSchema(schema)).map(([where]) => where);
    expect(invalid).toEqual([]);
  });

  // A valibot schema with no JSON Schema form (a custom check without metadata) is converted to {}, "anything".
  it("leaves no schema empty", () => {
    const empty = (value: unknown, at: string): string[] =>
      typeof value !== "object" || value === null
        ? []
        : Object.keys(value).length === 0 && !Array.isArray(value) && !at.endsWith("/properties")
          ? [at]
          : Object.entries(value).flatMap(([key, item]) => empty(item, `${at}/${key}`));
    expect(allSchemas().flatMap(([where, schema]) => empty(schema, where))).toEqual([]);
  });

  it("lists every route of the app with its method, and no other", () => {
    expect(documentedRoutes()).toEqual(appRoutes());
  });

  it("leaves out the demo's routes, which the app has (DEMO off or on)", async () => {
    expect(app.routes.filter((route) => route.method !== "ALL" && isDemo(route.path))).not.toEqual([]);
    expect(Object.keys(document.paths).filter(isDemo)).toEqual([]);
    const withDemo = (await (await fetchWithEnv({ DEMO: "on" }, "/openapi.json")).json()) as Document;
    expect(Object.keys(withDemo.paths).filter(isDemo)).toEqual([]);
  });

  it("needs no authentication", async () => {
    const res = await fetchWithEnv({ ADMIN_TOKEN: undefined, CLIENT_JWT_SECRET: undefined }, "/openapi.json");
    expect(res.status).toBe(200);
  });
});

// ---- real answers ---------------------------------------------------------------------

const pointer = (...segments: string[]) =>
  segments.map((segment) => encodeURI(segment.replaceAll("~", "~0").replaceAll("/", "~1"))).join("/");

/**
 * Checks `res` against the document: its status is documented for the route,
 * with its content type, and its body validates against that schema. Returns
 * the violations (none when it conforms).
 */
async function violations(route: string, res: Response): Promise<string[]> {
  const [method, path] = route.split(" ") as [string, string];
  const response = document.paths[path]?.[method.toLowerCase()]?.responses[String(res.status)];
  if (!response) return [`${res.status} is not documented for ${route}`];
  if (!response.content) return res.body === null ? [] : [`${route} ${res.status} has a body the document does not describe`];
  const mediaType = res.headers.get("Content-Type")?.split(";")[0] ?? "";
  if (!response.content[mediaType]) return [`${route} ${res.status} is not documented as ${mediaType}`];
  // An event stream does not end; its type is what the document can state.
  if (mediaType === "text/event-stream") return [];
  const schema = `${DOCUMENT_ID}#/${pointer("paths", path, method.toLowerCase(), "responses", String(res.status), "content", mediaType, "schema")}`;
  const validator = new Validator({ $ref: schema }, "2020-12", false);
  validator.addSchema(document as never, DOCUMENT_ID);
  const body = /[/+]json$/.test(mediaType) ? await res.json() : await res.text();
  const { errors } = validator.validate(body);
  return errors.map((error) => `${error.instanceLocation}: ${error.error} (${JSON.stringify(body)})`);
}

const json = (value: unknown, method = "POST"): RequestInit => ({
  method,
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(value),
});
const withMessages = async (user = unique("oa-user")) => {
  await publish(user, { title: "Shipped", body: "Order 42", data: { orderId: 42 } });
  await publish(user, { body: "no title, no data" });
  return user;
};
const withAnnouncements = async (region = unique("oa-region")) => {
  await announce([region], { title: "Tonight", body: "Maintenance", data: { window: "01-02" } });
  await announce([region], { body: "plain" });
  return region;
};
const tooLarge = JSON.stringify({ body: "x".repeat(9000) });
const inAnHour = () => new Date(Date.now() + 3_600_000).toISOString();

/** Route, expected status, what the case shows, and the request (with any setup it needs). */
type Case = [route: string, status: number, what: string, request: () => Promise<Response>];

const cases: Case[] = [
  ["GET /health", 200, "alive", () => call("/health")],
  ["GET /health", 500, "invalid configuration", () =>
    expectLogged(/PENDING_LIMIT must be a positive integer/, () => fetchWithEnv({ PENDING_LIMIT: "many" }, "/health"))],
  ["GET /openapi.json", 200, "the document", () => call("/openapi.json")],
  ["GET /docs", 200, "the reference page", () => call("/docs")],

  ["GET /v1/inbox", 200, "no region: nulls", () => client(unique("oa-empty"), "/v1/inbox")],
  ["GET /v1/inbox", 200, "messages and announcements, with and without title and data", async () => {
    const region = unique("oa-region");
    const user = await withMessages();
    await client(user, `/v1/inbox?region=${region}`);
    await withAnnouncements(region);
    return client(user, `/v1/inbox?region=${region}&limit=1`);
  }],
  ["GET /v1/inbox", 200, "a reset cursor", async () => {
    const region = await withAnnouncements();
    return client(unique("oa-reset"), `/v1/inbox?region=${region}&since=7&epoch=old`);
  }],
  ["GET /v1/inbox", 400, "an invalid limit", () => client(unique("oa-user"), "/v1/inbox?limit=0&since=x")],
  ["GET /v1/inbox", 401, "no token", () => call("/v1/inbox")],
  ["GET /v1/inbox", 403, "another region than the token's", () => client(unique("oa-user"), "/v1/inbox?region=sh", { region: "bj" })],
  ["GET /v1/inbox", 429, "over the rate limit", async () => {
    const user = unique("oa-limited");
    await clientWithEnv({ CLIENT_RATE_LIMIT: 1 }, user, "/v1/inbox");
    return clientWithEnv({ CLIENT_RATE_LIMIT: 1 }, user, "/v1/inbox");
  }],
  ["GET /v1/inbox", 503, "no CLIENT_JWT_SECRET", () => fetchWithEnv({ CLIENT_JWT_SECRET: undefined }, "/v1/inbox")],

  ["GET /v1/inbox/live", 101, "a WebSocket", async () => {
    const res = await liveUpgrade(unique("oa-live"));
    adoptSocket(res);
    return res;
  }],
  ["GET /v1/inbox/live", 200, "Server-Sent Events", async () => {
    const res = await liveEventStreamRequest(unique("oa-live"));
    adoptEventStream(res);
    return res;
  }],
  ["GET /v1/inbox/live", 401, "a bad token in the query", () => call("/v1/inbox/live?token=nope", { headers: { Upgrade: "websocket" } })],
  ["GET /v1/inbox/live", 406, "neither WebSocket nor event stream", () => client(unique("oa-live"), "/v1/inbox/live")],

  ["POST /v1/inbox/ack", 200, "acknowledged", async () => client(await withMessages(), "/v1/inbox/ack", json({ upTo: 1 }))],
  ["POST /v1/inbox/ack", 400, "a string for upTo", () => client(unique("oa-user"), "/v1/inbox/ack", json({ upTo: "3" }))],
  ["POST /v1/inbox/ack", 400, "malformed JSON", () =>
    client(unique("oa-user"), "/v1/inbox/ack", { method: "POST", headers: { "Content-Type": "application/json" }, body: "{" })],
  ["POST /v1/inbox/ack", 413, "too large", () =>
    client(unique("oa-user"), "/v1/inbox/ack", { method: "POST", headers: { "Content-Type": "application/json" }, body: tooLarge })],
  ["POST /v1/inbox/ack", 415, "not JSON", () => client(unique("oa-user"), "/v1/inbox/ack", { method: "POST", body: "upTo=1" })],

  ["POST /v1/inbox/read", 200, "by seqs", async () => client(await withMessages(), "/v1/inbox/read", json({ seqs: [1, 9] }))],
  ["POST /v1/inbox/read", 200, "up to a seq", async () => client(await withMessages(), "/v1/inbox/read", json({ upTo: 2 }))],
  ["POST /v1/inbox/read", 400, "seqs and upTo", () => client(unique("oa-user"), "/v1/inbox/read", json({ seqs: [1], upTo: 1 }))],

  ["POST /v1/inbox/arrived", 200, "arrived by push", async () => {
    const user = unique("oa-user");
    await client(user, "/v1/inbox");
    await publishMany(user, 2);
    return client(user, "/v1/inbox/arrived", json({ seqs: [1, 2, 9], via: "push" }));
  }],
  ["POST /v1/inbox/arrived", 400, "another via", () => client(unique("oa-user"), "/v1/inbox/arrived", json({ seqs: [1], via: "sms" }))],

  ["GET /v1/inbox/unread", 200, "unread messages", async () => client(await withMessages(), "/v1/inbox/unread")],
  ["GET /v1/inbox/unread", 400, "an invalid limit", () => client(unique("oa-user"), "/v1/inbox/unread?limit=501")],

  ["PUT /v1/push", 200, "a browser's subscription", async () => {
    const pair = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, true, ["deriveBits"])) as CryptoKeyPair;
    const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
    const b64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    const webpush = { endpoint: "https://fcm.googleapis.com/fcm/send/x", keys: { p256dh: b64(raw), auth: b64(new Uint8Array(16)) } };
    return client(unique("oa-push"), "/v1/push", json({ webpush }, "PUT"));
  }],
  ["PUT /v1/push", 400, "no channel", () => client(unique("oa-push"), "/v1/push", json({}, "PUT"))],
  ["PUT /v1/push", 503, "an unconfigured channel", () =>
    clientWithEnv({ FCM_SERVICE_ACCOUNT: "" }, unique("oa-push"), "/v1/push", json({ fcm: { token: "t" } }, "PUT"))],
  ["GET /v1/push", 200, "no channel yet", () => client(unique("oa-push"), "/v1/push")],
  ["DELETE /v1/push", 200, "removed", () => client(unique("oa-push"), "/v1/push", { method: "DELETE" })],

  ["POST /admin/v1/users/{userId}/messages", 201, "published", () =>
    admin(`/admin/v1/users/${unique("oa-user")}/messages`, { method: "POST", json: { body: "hi", title: null } })],
  ["POST /admin/v1/users/{userId}/messages", 201, "with collapseKey, ttlSeconds and priority, replacing one", async () => {
    const path = `/admin/v1/users/${unique("oa-user")}/messages`;
    await admin(path, { method: "POST", json: { body: "first", collapseKey: "order:42" } });
    return admin(path, { method: "POST", json: { body: "second", collapseKey: "order:42", ttlSeconds: 60, priority: "high" } });
  }],
  ["POST /admin/v1/users/{userId}/messages", 400, "a ttlSeconds beyond PENDING_TTL_SECONDS", () =>
    admin(`/admin/v1/users/${unique("oa-user")}/messages`, { method: "POST", json: { body: "x", ttlSeconds: 604_801 } })],
  ["POST /admin/v1/users/{userId}/messages", 202, "held until deliverAt", () =>
    admin(`/admin/v1/users/${unique("oa-user")}/messages`, { method: "POST", json: { body: "later", deliverAt: inAnHour() } })],
  ["POST /admin/v1/users/{userId}/messages", 400, "a deliverAt too far ahead", () =>
    admin(`/admin/v1/users/${unique("oa-user")}/messages`, { method: "POST", json: { body: "later", deliverAt: "2999-01-01T00:00:00Z" } })],
  ["POST /admin/v1/users/{userId}/messages", 422, "an Idempotency-Key reused with another body", async () => {
    const path = `/admin/v1/users/${unique("oa-user")}/messages`;
    const headers = { "Idempotency-Key": "k1" };
    await admin(path, { method: "POST", headers, json: { body: "first" } });
    return admin(path, { method: "POST", headers, json: { body: "second" } });
  }],
  ["POST /admin/v1/users/{userId}/messages", 400, "an empty Idempotency-Key and an invalid userId", () =>
    admin("/admin/v1/users/no%20spaces/messages", { method: "POST", headers: { "Idempotency-Key": "" }, json: { body: "" } })],
  ["POST /admin/v1/users/{userId}/messages", 401, "a wrong admin token", () =>
    call(`/admin/v1/users/${unique("oa-user")}/messages`, { ...json({ body: "x" }), headers: { Authorization: "Bearer wrong" } })],
  ["POST /admin/v1/users/{userId}/messages", 503, "no ADMIN_TOKEN", () =>
    fetchWithEnv({ ADMIN_TOKEN: undefined }, `/admin/v1/users/${unique("oa-user")}/messages`, json({ body: "x" }))],

  ["POST /admin/v1/announcements", 201, "published in two regions", () =>
    admin("/admin/v1/announcements", { method: "POST", json: { regions: [unique("oa-a"), unique("oa-b")], body: "news" } })],
  ["POST /admin/v1/announcements", 202, "held in two regions until deliverAt", () =>
    admin("/admin/v1/announcements", { method: "POST", json: { regions: [unique("oa-a"), unique("oa-b")], body: "news", deliverAt: inAnHour() } })],
  ["POST /admin/v1/announcements", 400, "an invalid region", () =>
    admin("/admin/v1/announcements", { method: "POST", json: { regions: ["bad region"], body: "news" } })],
  ["POST /admin/v1/announcements", 201, "an Idempotency-Key repeated with the same body", async () => {
    const init = { method: "POST", headers: { "Idempotency-Key": "k1" }, json: { regions: [unique("oa-a")], body: "news" } };
    await admin("/admin/v1/announcements", init);
    return admin("/admin/v1/announcements", init);
  }],
  ["POST /admin/v1/announcements", 422, "an Idempotency-Key reused with another body", async () => {
    const headers = { "Idempotency-Key": "k1" };
    const regions = [unique("oa-a")];
    await admin("/admin/v1/announcements", { method: "POST", headers, json: { regions, body: "first" } });
    return admin("/admin/v1/announcements", { method: "POST", headers, json: { regions, body: "second" } });
  }],
  ["POST /admin/v1/announcements", 400, "an empty Idempotency-Key", () =>
    admin("/admin/v1/announcements", { method: "POST", headers: { "Idempotency-Key": "" }, json: { regions: [unique("oa-a")], body: "x" } })],

  ["DELETE /admin/v1/regions/{regionId}/announcements/{id}", 200, "retracted", async () =>
    admin(`/admin/v1/regions/${await withAnnouncements()}/announcements/2`, { method: "DELETE" })],
  ["DELETE /admin/v1/regions/{regionId}/announcements/{id}", 200, "not retained", () =>
    admin(`/admin/v1/regions/${unique("oa-region")}/announcements/7`, { method: "DELETE" })],
  ["DELETE /admin/v1/regions/{regionId}/announcements/{id}", 400, "id 0", () =>
    admin(`/admin/v1/regions/${unique("oa-region")}/announcements/0`, { method: "DELETE" })],
  ["DELETE /admin/v1/regions/{regionId}/announcements/{id}", 401, "no admin token", () =>
    call(`/admin/v1/regions/${unique("oa-region")}/announcements/1`, { method: "DELETE" })],

  ["GET /admin/v1/users/{userId}/scheduled", 200, "held messages, with and without title and data", async () => {
    const user = unique("oa-user");
    await scheduleAt({ user }, Date.now() + 3_600_000, { title: "Later", body: "held", data: { n: 1 } });
    await scheduleAt({ user }, Date.now() + 60_000, { body: "sooner" });
    return admin(`/admin/v1/users/${user}/scheduled`);
  }],
  ["GET /admin/v1/users/{userId}/scheduled", 400, "an invalid userId", () => admin("/admin/v1/users/no%20spaces/scheduled")],
  ["GET /admin/v1/regions/{regionId}/scheduled", 200, "a held announcement", async () => {
    const region = unique("oa-region");
    await scheduleAt({ regions: [region] }, Date.now() + 3_600_000, { title: "Tonight", body: "Maintenance" });
    return admin(`/admin/v1/regions/${region}/scheduled`);
  }],
  ["GET /admin/v1/regions/{regionId}/scheduled", 200, "an unused region", () => admin(`/admin/v1/regions/${unique("oa-region")}/scheduled`)],
  ["DELETE /admin/v1/scheduled/{id}", 200, "cancelled", async () => {
    const { scheduled } = await scheduleAt({ user: unique("oa-user") }, Date.now() + 3_600_000);
    return admin(`/admin/v1/scheduled/${scheduled}`, { method: "DELETE" });
  }],
  ["DELETE /admin/v1/scheduled/{id}", 400, "a malformed id", () => admin("/admin/v1/scheduled/nope", { method: "DELETE" })],
  ["DELETE /admin/v1/scheduled/{id}", 401, "no admin token", () => call("/admin/v1/scheduled/nope", { method: "DELETE" })],

  ["POST /admin/v1/messages", 201, "to two users", () =>
    admin("/admin/v1/messages", { method: "POST", json: { users: [unique("oa-user"), unique("oa-user")], body: "hi" } })],
  ["POST /admin/v1/messages", 400, "no users", () => admin("/admin/v1/messages", { method: "POST", json: { users: [], body: "hi" } })],
  ["POST /admin/v1/messages", 413, "a message over MESSAGE_MAX_BYTES", () =>
    admin("/admin/v1/messages", { method: "POST", json: { users: [unique("oa-user")], body: "b".repeat(9_000) } })],
  ["POST /admin/v1/messages", 422, "a key used with another body", async () => {
    const users = [unique("oa-user")];
    const headers = { "Idempotency-Key": unique("k") };
    await admin("/admin/v1/messages", { method: "POST", json: { users, body: "one" }, headers });
    return admin("/admin/v1/messages", { method: "POST", json: { users, body: "two" }, headers });
  }],

  ["PUT /admin/v1/users/{userId}/region", 200, "a region", () =>
    admin(`/admin/v1/users/${unique("oa-user")}/region`, { method: "PUT", json: { region: "bj" } })],
  ["PUT /admin/v1/users/{userId}/region", 200, "no region", () =>
    admin(`/admin/v1/users/${unique("oa-user")}/region`, { method: "PUT", json: { region: null } })],
  ["PUT /admin/v1/users/{userId}/region", 400, "a missing region", () =>
    admin(`/admin/v1/users/${unique("oa-user")}/region`, { method: "PUT", json: {} })],

  ["GET /admin/v1/users/{userId}", 200, "an unused user: nulls", () => admin(`/admin/v1/users/${unique("oa-user")}`)],
  ["GET /admin/v1/users/{userId}", 200, "a user with messages and a cursor", async () => {
    const user = await withMessages();
    await client(user, `/v1/inbox?region=${await withAnnouncements()}`);
    return admin(`/admin/v1/users/${user}`);
  }],
  ["GET /admin/v1/users/{userId}", 400, "an invalid userId", () => admin(`/admin/v1/users/${"u".repeat(129)}`)],

  ["GET /admin/v1/users/{userId}/messages/{seq}", 200, "outcomes on two devices", async () => {
    const user = unique("oa-user");
    await client(user, "/v1/inbox?device=phone");
    await client(user, "/v1/inbox?device=laptop");
    await publishMany(user, 1);
    await client(user, "/v1/inbox?device=phone&ack=1");
    return admin(`/admin/v1/users/${user}/messages/1`);
  }],
  ["GET /admin/v1/users/{userId}/messages/{seq}", 404, "an unknown seq", () => admin(`/admin/v1/users/${unique("oa-user")}/messages/7`)],
  ["GET /admin/v1/users/{userId}/messages/{seq}", 400, "seq 0", () => admin(`/admin/v1/users/${unique("oa-user")}/messages/0`)],

  ["DELETE /admin/v1/users/{userId}/messages/{seq}", 200, "retracted", async () =>
    admin(`/admin/v1/users/${await withMessages()}/messages/2`, { method: "DELETE" })],
  ["DELETE /admin/v1/users/{userId}/messages/{seq}", 200, "in neither set", () =>
    admin(`/admin/v1/users/${unique("oa-user")}/messages/7`, { method: "DELETE" })],
  ["DELETE /admin/v1/users/{userId}/messages/{seq}", 400, "seq 0", () =>
    admin(`/admin/v1/users/${unique("oa-user")}/messages/0`, { method: "DELETE" })],

  ["GET /admin/v1/users/{userId}/storage", 200, "its cost", async () => admin(`/admin/v1/users/${await withMessages()}/storage`)],
  ["GET /admin/v1/regions/{regionId}/storage", 200, "its cost", async () =>
    admin(`/admin/v1/regions/${await withAnnouncements()}/storage`)],

  ["GET /admin/v1/regions/{regionId}/announcements", 200, "an unused region", () =>
    admin(`/admin/v1/regions/${unique("oa-region")}/announcements`)],
  ["GET /admin/v1/regions/{regionId}/announcements", 200, "announcements", async () =>
    admin(`/admin/v1/regions/${await withAnnouncements()}/announcements?since=1`)],
  ["GET /admin/v1/regions/{regionId}/announcements", 400, "an invalid since", () =>
    admin(`/admin/v1/regions/${unique("oa-region")}/announcements?since=-1`)],

  ["GET /admin/v1/stats", 200, "the last 24 hours", () => admin("/admin/v1/stats")],
  ["GET /admin/v1/stats", 200, "counts, rates and percentiles", async () => {
    const t = unusedStatsTime();
    await sendStats(unique("user:oa"), (stats) => {
      stats.message(t);
      stats.pair(t, null, { outcome: "push", at: t + 900 });
      stats.pair(t, null, { outcome: "expired", at: t + 60_000 });
      stats.push(t, "apns", "sent");
      stats.announcements(t, 2);
    });
    return admin(`/admin/v1/stats${windowQuery(t, t + 1000)}`);
  }],
  ["GET /admin/v1/stats", 400, "from after to", () => admin("/admin/v1/stats?from=2020-01-02T00:00:00Z&to=2020-01-01T00:00:00Z")],
];

describe("real answers conform to the document", () => {
  it.each(cases)("%s %i: %s", async (route, status, _what, request) => {
    const res = await request();
    expect(res.status).toBe(status);
    expect(await violations(route, res)).toEqual([]);
  });

  it("covers a success of every documented route", () => {
    const succeeding = new Set(cases.filter(([, status]) => status < 300).map(([route]) => route));
    expect([...succeeding].sort()).toEqual(documentedRoutes());
  });
});
