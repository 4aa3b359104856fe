// Errors: every one is application/problem+json (type, title, status, detail,
// plus errors[{path, message}] for validation), never a stack trace; the order
// 415 before 413 before 400; and a rejected request changes nothing.
import { describe, expect, it } from "vitest";
import {
  ackUpTo,
  admin,
  announce,
  call,
  client,
  clientText,
  clientToken,
  expectInvalid,
  expectProblem,
  markRead,
  messagesPath,
  poll,
  publish,
  regionLog,
  setRegion,
  unique,
  userView,
  userWithMessages,
} from "./helpers";

function postMessage(user: string, body: BodyInit, contentType?: string) {
  return admin(messagesPath(user), {
    method: "POST",
    body,
    headers: contentType === undefined ? {} : { "Content-Type": contentType },
  });
}

/** A message body of exactly `bytes` UTF-8 bytes, made of `unit` repeated then ASCII padding. */
function messageOfBytes(bytes: number, unit = "a") {
  const frame = JSON.stringify({ body: "" }); // {"body":""}
  const unitBytes = new TextEncoder().encode(unit).length;
  const room = bytes - frame.length;
  const units = Math.floor(room / unitBytes);
  const text = JSON.stringify({ body: unit.repeat(units) + "a".repeat(room - units * unitBytes) });
  expect(new TextEncoder().encode(text).length).toBe(bytes);
  return text;
}

describe("404 and 405", () => {
  it.each(["/nope", "/v1/nope", "/v1/inbox/nope", "/admin/v1/nope", "/admin/v1/users/u/nope", "/v2/inbox"])(
    "answers 404 problem+json to GET %s",
    async (path) => {
      const body = await expectProblem(await call(path), 404);
      expect(body.title).toBe("Not Found");
    },
  );

  it("answers 404 on an unknown publisher path without asking for the admin token", async () => {
    const res = await call("/admin/v1/does-not-exist", { method: "POST" });
    await expectProblem(res, 404);
  });

  it.each([
    ["DELETE", "/v1/inbox", ["GET", "HEAD"]],
    ["POST", "/v1/inbox", ["GET", "HEAD"]],
    ["GET", "/v1/inbox/ack", ["POST"]],
    ["PUT", "/v1/inbox/read", ["POST"]],
    ["POST", "/v1/inbox/unread", ["GET", "HEAD"]],
    ["POST", "/health", ["GET", "HEAD"]],
    ["GET", "/admin/v1/announcements", ["POST"]],
    ["GET", "/admin/v1/users/someone/messages", ["POST"]],
    ["DELETE", "/admin/v1/users/someone", ["GET", "HEAD"]],
    ["POST", "/admin/v1/users/someone/region", ["PUT"]],
    ["PATCH", "/admin/v1/regions/bj/announcements", ["GET", "HEAD"]],
  ] as const)("answers 405 to %s %s with Allow listing the route's methods", async (method, path, allowed) => {
    const res = await call(path, { method });
    const body = await expectProblem(res, 405);
    expect(body.title).toBe("Method Not Allowed");
    const allow = (res.headers.get("Allow") ?? "").split(",").map((m) => m.trim()).filter(Boolean);
    expect(allow.sort()).toEqual([...allowed].sort());
  });

  it("answers 405 before authentication (no token, wrong method)", async () => {
    const res = await call("/admin/v1/announcements", { method: "DELETE" });
    await expectProblem(res, 405);
    expect(res.headers.get("Allow")).toBe("POST");
  });
});

describe("415 Content-Type", () => {
  it("answers 415 to a publish without Content-Type", async () => {
    const res = await postMessage(unique("ct-none"), new TextEncoder().encode('{"body":"x"}'));
    expect(res.headers.get("Content-Type")).toMatch(/^application\/problem\+json/);
    const body = await expectProblem(res, 415);
    expect(body.title).toBe("Unsupported Media Type");
  });

  it.each(["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonp", "json"])(
    "answers 415 to a publish with Content-Type %s",
    async (type) => {
      await expectProblem(await postMessage(unique("ct-wrong"), '{"body":"x"}', type), 415);
    },
  );

  it.each(["application/json", "application/json; charset=utf-8", "application/json;charset=UTF-8", "Application/JSON"])(
    "accepts a publish with Content-Type %s",
    async (type) => {
      const res = await postMessage(unique("ct-ok"), '{"body":"x"}', type);
      expect(res.status).toBe(201);
      expect(((await res.json()) as { seq: number }).seq).toBe(1);
    },
  );

  it("answers 415 on a client route (POST /v1/inbox/ack with text/plain)", async () => {
    const res = await clientText(unique("ct-client"), "/v1/inbox/ack", "POST", '{"upTo":1}', { "Content-Type": "text/plain" });
    await expectProblem(res, 415);
  });

  it("answers 415 on PUT /admin/v1/users/{userId}/region without Content-Type", async () => {
    const res = await admin(`/admin/v1/users/${unique("ct-put")}/region`, {
      method: "PUT",
      body: new TextEncoder().encode('{"region":"bj"}'),
    });
    await expectProblem(res, 415);
  });

  it("answers 415, not 413, to an oversized body with the wrong Content-Type", async () => {
    const res = await postMessage(unique("ct-big"), messageOfBytes(20_000), "text/plain");
    await expectProblem(res, 415);
  });

  it("answers 415, not 413, to an oversized body without Content-Type", async () => {
    const res = await postMessage(unique("ct-big2"), new TextEncoder().encode(messageOfBytes(20_000)));
    await expectProblem(res, 415);
  });
});

describe("413 body size", () => {
  it("accepts a body of exactly MESSAGE_MAX_BYTES (8192) bytes", async () => {
    const res = await postMessage(unique("size-max"), messageOfBytes(8192), "application/json");
    expect(res.status).toBe(201);
  });

  it("answers 413 to a body of 8193 bytes", async () => {
    const body = await expectProblem(await postMessage(unique("size-over"), messageOfBytes(8193), "application/json"), 413);
    expect(body.title).toBe("Content Too Large");
  });

  it("counts UTF-8 bytes, not characters: 8193 bytes in fewer than 5000 characters is 413", async () => {
    const text = messageOfBytes(8193, "é");
    expect(text.length).toBeLessThan(5000);
    await expectProblem(await postMessage(unique("size-utf8"), text, "application/json"), 413);
  });

  it("counts UTF-8 bytes: 8192 bytes of multi-byte characters is accepted", async () => {
    const text = messageOfBytes(8192, "😀");
    const res = await postMessage(unique("size-utf8-ok"), text, "application/json");
    expect(res.status).toBe(201);
  });

  it("answers 413 to an oversized body sent as a stream without Content-Length", async () => {
    const bytes = new TextEncoder().encode(messageOfBytes(9000));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 4000));
        controller.enqueue(bytes.slice(4000));
        controller.close();
      },
    });
    await expectProblem(await postMessage(unique("size-stream"), stream, "application/json"), 413);
  });

  it("accepts a body within the limit sent as a stream without Content-Length", async () => {
    const bytes = new TextEncoder().encode(JSON.stringify({ body: "streamed" }));
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 5));
        controller.enqueue(bytes.slice(5));
        controller.close();
      },
    });
    const user = unique("size-stream-ok");
    const res = await postMessage(user, stream, "application/json");
    expect(res.status).toBe(201);
    expect((await userView(user)).pending.count).toBe(1);
  });

  it("answers 413 on a client route (POST /v1/inbox/ack)", async () => {
    const res = await clientText(unique("size-client"), "/v1/inbox/ack", "POST", JSON.stringify({ upTo: 1, pad: "x".repeat(9000) }));
    await expectProblem(res, 413);
  });

  it("answers 413 to an oversized announcement", async () => {
    const res = await admin("/admin/v1/announcements", {
      method: "POST",
      json: { regions: [unique("r")], body: "x".repeat(9000) },
    });
    await expectProblem(res, 413);
  });

  it("answers 413, not 400, to an oversized body that is also malformed JSON", async () => {
    const res = await postMessage(unique("size-bad"), `{${"x".repeat(9000)}`, "application/json");
    await expectProblem(res, 413);
  });
});

describe("400 malformed JSON", () => {
  it.each([
    ["a truncated object", '{"body": '],
    ["single quotes", "{'body': 'x'}"],
    ["a trailing comma", '{"body":"x",}'],
    ["an empty body", ""],
  ])("answers 400 to %s", async (_what, text) => {
    const body = await expectProblem(await postMessage(unique("json-bad"), text, "application/json"), 400);
    expect(body.title).toBe("Bad Request");
  });

  it("answers 400 to malformed JSON on a client route", async () => {
    const res = await clientText(unique("json-client"), "/v1/inbox/read", "POST", "{upTo:1}");
    await expectProblem(res, 400);
  });

  it.each([
    ["an array", "[]"],
    ["a string", '"hello"'],
    ["null", "null"],
    ["a number", "3"],
  ])("answers 400 to a publish whose JSON is %s, not an object", async (_what, text) => {
    const res = await postMessage(unique("json-shape"), text, "application/json");
    const body = await expectProblem(res, 400);
    expect(body.errors?.length).toBeGreaterThan(0);
  });
});

describe("400 validation: body fields", () => {
  it('answers 400 naming upTo when "upTo" is the string "3"', async () => {
    const res = await ackUpTo(unique("v-ack"), "3");
    await expectInvalid(res, "upTo");
  });

  it.each([
    ["negative", -1],
    ["fractional", 1.5],
    ["null", null],
    ["a boolean", true],
  ])("answers 400 naming upTo when it is %s", async (_what, upTo) => {
    const res = await ackUpTo(unique("v-ack2"), upTo);
    await expectInvalid(res, "upTo");
  });

  it("answers 400 naming upTo when an ack body lacks it", async () => {
    const res = await client(unique("v-ack3"), "/v1/inbox/ack", { method: "POST", json: {} });
    await expectInvalid(res, "upTo");
  });

  it("rejects an unknown field in an ack body, naming it", async () => {
    const res = await client(unique("v-ack4"), "/v1/inbox/ack", { method: "POST", json: { upTo: 1, extra: true } });
    await expectInvalid(res, "extra");
  });

  it("rejects an unknown field in a publish body, naming it", async () => {
    const res = await admin(messagesPath(unique("v-pub")), { method: "POST", json: { body: "x", urgency: "high" } });
    await expectInvalid(res, "urgency");
  });

  it("rejects an unknown field in an announcement body, naming it", async () => {
    const res = await admin("/admin/v1/announcements", { method: "POST", json: { regions: [unique("r")], body: "x", ttl: 5 } });
    await expectInvalid(res, "ttl");
  });

  it("rejects an unknown field in a region body, naming it", async () => {
    const res = await admin(`/admin/v1/users/${unique("v-reg")}/region`, { method: "PUT", json: { region: "bj", user: "x" } });
    await expectInvalid(res, "user");
  });

  it("accepts a title of exactly 256 characters", async () => {
    const res = await admin(messagesPath(unique("v-title-ok")), { method: "POST", json: { title: "t".repeat(256), body: "x" } });
    expect(res.status).toBe(201);
  });

  it("answers 400 naming title when it has 257 characters", async () => {
    const res = await admin(messagesPath(unique("v-title")), { method: "POST", json: { title: "t".repeat(257), body: "x" } });
    await expectInvalid(res, "title");
  });

  it("counts title length in JavaScript string length (UTF-16 units): 129 emoji are 258 units, 400", async () => {
    const res = await admin(messagesPath(unique("v-title-emoji")), { method: "POST", json: { title: "😀".repeat(129), body: "x" } });
    await expectInvalid(res, "title");
  });

  it("answers 400 naming title when it is not a string", async () => {
    const res = await admin(messagesPath(unique("v-title2")), { method: "POST", json: { title: 5, body: "x" } });
    await expectInvalid(res, "title");
  });

  it("answers 400 naming body when it is an empty string", async () => {
    const res = await admin(messagesPath(unique("v-body")), { method: "POST", json: { body: "" } });
    await expectInvalid(res, "body");
  });

  it("answers 400 naming body when it is missing", async () => {
    const res = await admin(messagesPath(unique("v-body2")), { method: "POST", json: { title: "only a title" } });
    await expectInvalid(res, "body");
  });

  it("answers 400 naming body when it is not a string", async () => {
    const res = await admin(messagesPath(unique("v-body3")), { method: "POST", json: { body: { text: "x" } } });
    await expectInvalid(res, "body");
  });

  it.each([
    ["an array", [1, 2]],
    ["an empty array", []],
    ["a string", "x"],
    ["a number", 1],
    ["true", true],
  ])("answers 400 naming data when it is %s, not an object", async (_what, data) => {
    const res = await admin(messagesPath(unique("v-data")), { method: "POST", json: { body: "x", data } });
    await expectInvalid(res, "data");
  });

  it("answers 400 naming data when an announcement's data is an array", async () => {
    const res = await admin("/admin/v1/announcements", { method: "POST", json: { regions: [unique("r")], body: "x", data: ["a"] } });
    await expectInvalid(res, "data");
  });

  it("accepts data as a nested JSON object", async () => {
    const res = await admin(messagesPath(unique("v-data-ok")), {
      method: "POST",
      json: { body: "x", data: { a: [1, { b: null }], c: "d" } },
    });
    expect(res.status).toBe(201);
  });

  it("lists every invalid field of one body", async () => {
    const res = await admin(messagesPath(unique("v-many")), { method: "POST", json: { title: 1, body: "", data: "x" } });
    await expectInvalid(res, "title", "body", "data");
  });

  it("answers 400 naming region in PUT .../region when it is not a valid regionId", async () => {
    const res = await admin(`/admin/v1/users/${unique("v-reg2")}/region`, { method: "PUT", json: { region: "bad region" } });
    await expectInvalid(res, "region");
  });

  it("answers 400 naming region in PUT .../region when it is missing", async () => {
    const res = await admin(`/admin/v1/users/${unique("v-reg3")}/region`, { method: "PUT", json: {} });
    await expectInvalid(res, "region");
  });
});

describe("400 validation: read receipts", () => {
  it("answers 400 to a read body with both seqs and upTo", async () => {
    const res = await markRead(unique("v-read"), { seqs: [1], upTo: 1 });
    const body = await expectProblem(res, 400);
    expect(body.errors?.length).toBeGreaterThan(0);
  });

  it("answers 400 to a read body with neither seqs nor upTo", async () => {
    const res = await markRead(unique("v-read2"), {});
    const body = await expectProblem(res, 400);
    expect(body.errors?.length).toBeGreaterThan(0);
  });

  it("answers 400 naming seqs when it is empty", async () => {
    const res = await markRead(unique("v-read3"), { seqs: [] });
    await expectInvalid(res, "seqs");
  });

  it("answers 400 naming seqs when it has 501 entries", async () => {
    const seqs = Array.from({ length: 501 }, (_, i) => i + 1);
    const res = await markRead(unique("v-read4"), { seqs });
    await expectInvalid(res, "seqs");
  });

  it("accepts 500 seqs", async () => {
    const seqs = Array.from({ length: 500 }, (_, i) => i + 1);
    const res = await markRead(unique("v-read5"), { seqs });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ unread: 0 });
  });

  it("answers 400 naming the entry when a seq is not a positive integer", async () => {
    const res = await markRead(unique("v-read6"), { seqs: [1, "2"] });
    await expectInvalid(res, "seqs.1");
  });

  it('answers 400 naming upTo when "upTo" is the string "3"', async () => {
    const res = await markRead(unique("v-read7"), { upTo: "3" });
    await expectInvalid(res, "upTo");
  });
});

describe("400 validation: query parameters", () => {
  it.each([
    ["limit=0", "limit"],
    ["limit=501", "limit"],
    ["limit=abc", "limit"],
    ["limit=1.5", "limit"],
    ["limit=", "limit"],
    ["since=-1", "since"],
    ["since=x", "since"],
    ["ack=-1", "ack"],
    ["ack=1e3", "ack"],
    ["consume=yes", "consume"],
    ["region=bad%20region", "region"],
    [`region=${"r".repeat(65)}`, "region"],
  ])("GET /v1/inbox?%s answers 400 naming %s", async (query, path) => {
    await expectInvalid(await client(unique("v-q"), `/v1/inbox?${query}`), path);
  });

  it("names the parameter when it is given twice", async () => {
    await expectInvalid(await client(unique("v-q2"), "/v1/inbox?limit=1&limit=2"), "limit");
  });

  // The edge remembers each valid poll query string; a refused one must stay refused,
  // and a remembered one must still mean what it says for the next user.
  it("refuses the same bad query again, and a repeated good query keeps its meaning", async () => {
    await expectInvalid(await client(unique("v-rep"), "/v1/inbox?limit=0"), "limit");
    await expectInvalid(await client(unique("v-rep"), "/v1/inbox?limit=0"), "limit");
    const user = unique("v-rep");
    for (let n = 0; n < 3; n++) await publish(user, { body: `m${n}` });
    expect((await poll(user, "?limit=2")).personal.map((m) => m.body)).toEqual(["m0", "m1"]);
    expect((await poll(user, "?limit=2&consume=true")).personal.map((m) => m.body)).toEqual(["m0", "m1"]);
    expect((await poll(user, "?limit=2&consume=true")).personal.map((m) => m.body)).toEqual(["m2"]);
    expect((await poll(unique("v-rep"), "?limit=2")).personal).toEqual([]);
  });

  it("accepts limit=1 and limit=500", async () => {
    const user = unique("v-q3");
    expect((await client(user, "/v1/inbox?limit=1")).status).toBe(200);
    expect((await client(user, "/v1/inbox?limit=500")).status).toBe(200);
  });

  it("GET /v1/inbox/unread?limit=0 answers 400 naming limit", async () => {
    await expectInvalid(await client(unique("v-q4"), "/v1/inbox/unread?limit=0"), "limit");
  });

  it.each([
    ["since=-1", "since"],
    ["limit=501", "limit"],
  ])("GET /admin/v1/regions/{regionId}/announcements?%s answers 400 naming %s", async (query, path) => {
    await expectInvalid(await admin(`/admin/v1/regions/${unique("r")}/announcements?${query}`), path);
  });
});

describe("400 validation: path ids and headers", () => {
  it.each([
    ["a space", "bad%20user"],
    ["a slash-free invalid character", "bad!user"],
    ["129 characters", "u".repeat(129)],
  ])("answers 400 naming userId when the path's userId has %s", async (_what, segment) => {
    await expectInvalid(await admin(`/admin/v1/users/${segment}`), "userId");
  });

  it("answers 400 naming userId on a publish to an invalid userId", async () => {
    const res = await admin(`/admin/v1/users/bad%20user/messages`, { method: "POST", json: { body: "x" } });
    await expectInvalid(res, "userId");
  });

  it("answers 400 naming userId on PUT .../region for an invalid userId", async () => {
    const res = await admin(`/admin/v1/users/bad%20user/region`, { method: "PUT", json: { region: "bj" } });
    await expectInvalid(res, "userId");
  });

  it("answers 400 naming regionId when the path's regionId is invalid", async () => {
    await expectInvalid(await admin(`/admin/v1/regions/a:b/announcements`), "regionId");
  });

  it("answers 400 to an empty Idempotency-Key", async () => {
    const res = await admin(messagesPath(unique("v-idem")), {
      method: "POST",
      json: { body: "x" },
      headers: { "Idempotency-Key": "" },
    });
    const body = await expectProblem(res, 400);
    expect(body.errors?.length).toBe(1);
  });

  it("answers 400 to an Idempotency-Key of 256 characters", async () => {
    const res = await admin(messagesPath(unique("v-idem2")), {
      method: "POST",
      json: { body: "x" },
      headers: { "Idempotency-Key": "k".repeat(256) },
    });
    await expectProblem(res, 400);
  });

  it("accepts an Idempotency-Key of 255 characters", async () => {
    const res = await admin(messagesPath(unique("v-idem3")), {
      method: "POST",
      json: { body: "x" },
      headers: { "Idempotency-Key": "k".repeat(255) },
    });
    expect(res.status).toBe(201);
  });
});

describe("400 validation: announcement regions", () => {
  it("answers 400 naming regions when it is empty", async () => {
    const res = await admin("/admin/v1/announcements", { method: "POST", json: { regions: [], body: "x" } });
    await expectInvalid(res, "regions");
  });

  it("answers 400 naming regions when it has 101 regions", async () => {
    const regions = Array.from({ length: 101 }, (_, i) => `${unique("r")}-${i}`);
    const res = await admin("/admin/v1/announcements", { method: "POST", json: { regions, body: "x" } });
    await expectInvalid(res, "regions");
  });

  it("accepts 100 regions and assigns id 1 in each", async () => {
    const regions = Array.from({ length: 100 }, (_, i) => `${unique("r")}-${i}`);
    const { ids } = await announce(regions);
    expect(Object.keys(ids).sort()).toEqual([...regions].sort());
    expect(new Set(Object.values(ids))).toEqual(new Set([1]));
  });

  it("answers 400 naming regions when it is a string, not a list", async () => {
    const res = await admin("/admin/v1/announcements", { method: "POST", json: { regions: "bj", body: "x" } });
    await expectInvalid(res, "regions");
  });

  it("answers 400 naming the invalid entry of regions", async () => {
    const res = await admin("/admin/v1/announcements", {
      method: "POST",
      json: { regions: [unique("r"), "bad region"], body: "x" },
    });
    await expectInvalid(res, "regions.1");
  });

  it("answers 400 naming regions when it is missing", async () => {
    const res = await admin("/admin/v1/announcements", { method: "POST", json: { body: "x" } });
    await expectInvalid(res, "regions");
  });
});

describe("a rejected request changes nothing", () => {
  it("a 400 publish consumes no seq and stores nothing", async () => {
    const user = await userWithMessages(1, "nc-400");
    const before = await userView(user);
    await expectInvalid(await admin(messagesPath(user), { method: "POST", json: { body: "" } }), "body");
    expect(await userView(user)).toEqual(before);
    expect((await publish(user)).seq).toBe(2);
  });

  it("a 413 publish consumes no seq and stores nothing", async () => {
    const user = await userWithMessages(1, "nc-413");
    const before = await userView(user);
    await expectProblem(await postMessage(user, messageOfBytes(8193), "application/json"), 413);
    expect(await userView(user)).toEqual(before);
    expect((await publish(user)).seq).toBe(2);
  });

  it("a 415 publish consumes no seq and stores nothing", async () => {
    const user = await userWithMessages(1, "nc-415");
    const before = await userView(user);
    await expectProblem(await postMessage(user, '{"body":"x"}', "text/plain"), 415);
    expect(await userView(user)).toEqual(before);
    expect((await publish(user)).seq).toBe(2);
  });

  it("a publish with malformed JSON consumes no seq", async () => {
    const user = await userWithMessages(1, "nc-json");
    await expectProblem(await postMessage(user, '{"body":', "application/json"), 400);
    expect((await publish(user)).seq).toBe(2);
  });

  it("a publish with an empty Idempotency-Key consumes no seq", async () => {
    const user = await userWithMessages(1, "nc-idem");
    const res = await admin(messagesPath(user), { method: "POST", json: { body: "x" }, headers: { "Idempotency-Key": "" } });
    await expectProblem(res, 400);
    expect((await publish(user)).seq).toBe(2);
  });

  it("a 422 Idempotency-Key conflict consumes no seq and stores nothing", async () => {
    const user = unique("nc-422");
    const key = unique("key");
    const first = await admin(messagesPath(user), { method: "POST", json: { body: "a" }, headers: { "Idempotency-Key": key } });
    expect(first.status).toBe(201);
    const before = await userView(user);
    const again = await admin(messagesPath(user), { method: "POST", json: { body: "b" }, headers: { "Idempotency-Key": key } });
    await expectProblem(again, 422);
    expect(await userView(user)).toEqual(before);
    expect((await publish(user)).seq).toBe(2);
  });

  it("a 400 ack removes no pending message", async () => {
    const user = await userWithMessages(2, "nc-ack");
    const res = await ackUpTo(user, "3");
    await expectInvalid(res, "upTo");
    const view = await userView(user);
    expect(view.pending).toMatchObject({ count: 2, oldestSeq: 1, newestSeq: 2 });
  });

  it("a 400 read receipt (both seqs and upTo) removes nothing from unread or pending", async () => {
    const user = await userWithMessages(2, "nc-read");
    const res = await markRead(user, { seqs: [1, 2], upTo: 2 });
    await expectProblem(res, 400);
    const view = await userView(user);
    expect(view.pending.count).toBe(2);
    expect(view.unread.count).toBe(2);
  });

  it("a 400 read receipt with one invalid seq removes none of the valid ones", async () => {
    const user = await userWithMessages(2, "nc-read2");
    const res = await markRead(user, { seqs: [1, 0] });
    await expectInvalid(res, "seqs.1");
    const view = await userView(user);
    expect(view.pending.count).toBe(2);
    expect(view.unread.count).toBe(2);
  });

  it("a 400 poll applies no ack= and consumes nothing", async () => {
    const user = await userWithMessages(2, "nc-poll");
    await expectInvalid(await client(user, "/v1/inbox?ack=2&consume=true&limit=0"), "limit");
    expect((await userView(user)).pending).toMatchObject({ count: 2, oldestSeq: 1, newestSeq: 2 });
  });

  it("a 400 poll with a region stores no cursor", async () => {
    const user = unique("nc-cursor");
    const region = unique("r");
    await announce([region]);
    await expectInvalid(await client(user, `/v1/inbox?region=${region}&since=-1`), "since");
    expect((await userView(user)).cursors).toEqual({});
  });

  it("a 400 PUT .../region keeps the stored region", async () => {
    const user = unique("nc-region");
    const region = unique("r");
    await setRegion(user, region);
    const res = await admin(`/admin/v1/users/${user}/region`, { method: "PUT", json: { region: "bad region" } });
    await expectInvalid(res, "region");
    expect((await userView(user)).region).toBe(region);
  });

  it("an announcement with one invalid region assigns no id in the valid ones", async () => {
    const good = unique("r");
    const other = unique("r");
    const res = await admin("/admin/v1/announcements", {
      method: "POST",
      json: { regions: [good, "bad region", other], body: "x" },
    });
    await expectInvalid(res, "regions.1");
    for (const region of [good, other]) {
      expect(await regionLog(region)).toMatchObject({ region, head: 0, oldest: null, announcements: [] });
    }
    const { ids } = await announce([good, other]);
    expect(ids).toEqual({ [good]: 1, [other]: 1 });
  });

  it("an oversized announcement assigns no id", async () => {
    const region = unique("r");
    const res = await admin("/admin/v1/announcements", { method: "POST", json: { regions: [region], body: "x".repeat(9000) } });
    await expectProblem(res, 413);
    expect((await announce([region])).ids).toEqual({ [region]: 1 });
  });

  it("a 401 client request with a valid-looking but wrongly signed token acks nothing", async () => {
    const user = await userWithMessages(1, "nc-401");
    const token = await clientToken({ sub: user }, { secret: "wrong" });
    const res = await call("/v1/inbox?ack=1", { headers: { Authorization: `Bearer ${token}` } });
    await expectProblem(res, 401);
    expect((await userView(user)).pending.count).toBe(1);
  });
});
