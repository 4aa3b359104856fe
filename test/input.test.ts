// What a request body or live frame may hold so that it comes back exactly: nesting at most 32 levels
// per field, numbers that survive the trip through a double, UTF-8 text, and a body that arrives whole.
// Each refusal is the client's 400, changes nothing and logs nothing.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  admin,
  adminText,
  announce,
  client,
  clientText,
  expectInvalid,
  expectProblem,
  fetchWithEnv,
  messagesPath,
  poll,
  publish,
  regionLog,
  unique,
  userView,
  userWithMessages,
} from "./helpers";
import { closeAllLive, openSocket } from "./live-helpers";

afterEach(async () => {
  vi.restoreAllMocks();
  await closeAllLive();
});

/** JSON text of objects nested `levels` deep ({"a":{"a":…"x"…}}): `levels` levels of nesting. */
const nestedObjects = (levels: number) => `${'{"a":'.repeat(levels)}"x"${"}".repeat(levels)}`;
/** JSON text of arrays nested `levels` deep: the deepest that fits in the fewest bytes. */
const nestedArrays = (levels: number) => `${"[".repeat(levels)}${"]".repeat(levels)}`;

const publishText = (user: string, text: string, headers?: Record<string, string>) =>
  adminText(messagesPath(user), "POST", text, headers);

/** Asserts the user has nothing stored: no message, no seq used up. */
async function expectNothingStored(user: string) {
  expect((await userView(user)).pending).toMatchObject({ count: 0, newestSeq: null });
  expect((await publish(user)).seq).toBe(1);
}

describe("nesting: a field nests at most 32 levels of objects and arrays", () => {
  it("data nested 1100 levels deep (a 6.7 KB body) is a 400 naming data, and stores nothing", async () => {
    const user = unique("deep");
    const text = `{"body":"x","data":${nestedObjects(1100)}}`;
    expect(text.length).toBeGreaterThan(6_600);
    const problem = await expectInvalid(await publishText(user, text), "data");
    expect(problem.errors![0]!.message).toMatch(/32 levels/);
    await expectNothingStored(user);
  });

  it("data of arrays nested 4000 levels deep, with an Idempotency-Key, is a 400 naming data", async () => {
    const user = unique("deep-arrays");
    const text = `{"body":"x","data":{"a":${nestedArrays(4000)}}}`;
    expect(text.length).toBeLessThanOrEqual(8192);
    await expectInvalid(await publishText(user, text, { "Idempotency-Key": "k" }), "data");
    await expectNothingStored(user);
  });

  it("an announcement whose data nests too deep is a 400 naming data, and assigns no id", async () => {
    const region = unique("r");
    const text = `{"regions":["${region}"],"body":"x","data":${nestedObjects(1000)}}`;
    await expectInvalid(await adminText("/admin/v1/announcements", "POST", text), "data");
    expect((await announce([region])).ids).toEqual({ [region]: 1 });
  });

  it("data nested exactly 32 levels is accepted and comes back exactly; 33 levels is a 400", async () => {
    const user = unique("at-limit");
    const data = JSON.parse(nestedObjects(32)) as Record<string, unknown>;
    await publish(user, { body: "x", data });
    expect((await poll(user)).personal[0]!.data).toStrictEqual(data);
    await expectInvalid(await publishText(user, `{"body":"x","data":${nestedObjects(33)}}`), "data");

    const region = unique("r");
    await announce([region], { body: "x", data });
    expect((await regionLog(region)).announcements[0]!.data).toStrictEqual(data);
  });

  it("arrays count as levels too: data holding 31 nested arrays is accepted, 32 is a 400", async () => {
    const user = unique("arrays");
    expect((await publishText(user, `{"body":"x","data":{"a":${nestedArrays(31)}}}`)).status).toBe(201);
    await expectInvalid(await publishText(user, `{"body":"x","data":{"a":${nestedArrays(32)}}}`), "data");
  });

  it("brackets inside strings do not count", async () => {
    const user = unique("strings");
    // An escaped quote first: a reader that took it for the string's end would count 1000 levels.
    const body = `a \\" then ${"[{".repeat(500)}`;
    await publish(user, { body, data: { "[[[[": "{{{{" } });
    expect((await poll(user)).personal[0]!.body).toBe(body);
  });

  it("a client body nested too deep is a 400 naming its field, and acknowledges nothing", async () => {
    const user = await userWithMessages(1, "deep-ack");
    const res = await clientText(user, "/v1/inbox/ack", "POST", `{"upTo":1,"extra":${nestedArrays(3000)}}`);
    const problem = await expectInvalid(res, "extra");
    expect(problem.errors![0]!.message).toMatch(/32 levels/);
    expect((await userView(user)).pending.count).toBe(1);
  });
});

describe("numbers: each must come back as the same decimal value", () => {
  it.each([
    ["1e400", "too large for a double (would be null)", "null"],
    ["-1e400", "too large for a double (would be null)", "null"],
    ["-0", "negative zero (would be 0)", "0"],
    ["9007199254740993", "2^53+1 (would be its neighbour)", "9007199254740992"],
    ["1e-400", "too small for a double (would be 0)", "0"],
    ["0.1000000000000000055511151231257827", "more digits than a double keeps", "0.1"],
  ])("data.n = %s, %s, is a 400 naming data.n and stores nothing", async (number, _why, becomes) => {
    const user = unique("inexact");
    const problem = await expectInvalid(await publishText(user, `{"body":"x","data":{"n":${number}}}`), "data.n");
    expect(problem.errors![0]!.message).toContain(number);
    expect(problem.errors![0]!.message).toContain(`come back as ${becomes}`);
    await expectNothingStored(user);
  });

  it("names the path of each inexact number, in arrays too", async () => {
    const user = unique("paths");
    const text = `{"body":"x","data":{"list":[1,2,3,1e400],"deep":{"m":-0},"ok":1.5}}`;
    await expectInvalid(await publishText(user, text), "data.list.3", "data.deep.m");
    await expectNothingStored(user);
  });

  it("numbers that round-trip are accepted and come back as the same values", async () => {
    const user = unique("exact");
    const spelled = ["1.5", "1e21", "0.1", "123", "-7", "1e-7", "1.0", "1E2", "0.30000000000000004", "5e-324", "9007199254740992", "1.7976931348623157e308", "0"];
    const text = `{"body":"x","data":{"list":[${spelled.join(",")}]}}`;
    expect((await publishText(user, text)).status).toBe(201);
    const res = await client(user, "/v1/inbox");
    const raw = await res.text();
    expect(raw).toContain(`"list":[1.5,1e+21,0.1,123,-7,1e-7,1,100,0.30000000000000004,5e-324,9007199254740992,1.7976931348623157e+308,0]`);
    expect((JSON.parse(raw) as { personal: { data: unknown }[] }).personal[0]!.data).toStrictEqual({
      list: spelled.map(Number),
    });
  });

  it("an announcement with an inexact number is a 400 naming it, and assigns no id", async () => {
    const region = unique("r");
    const text = `{"regions":["${region}"],"body":"x","data":{"n":2e400}}`;
    await expectInvalid(await adminText("/admin/v1/announcements", "POST", text), "data.n");
    expect((await announce([region])).ids).toEqual({ [region]: 1 });
  });

  it("an ack whose upTo only rounds to an integer (2.0000000000000001) is a 400 naming upTo and acks nothing", async () => {
    const user = await userWithMessages(2, "ack");
    const res = await clientText(user, "/v1/inbox/ack", "POST", '{"upTo":2.0000000000000001}');
    await expectInvalid(res, "upTo");
    expect((await userView(user)).pending.count).toBe(2);
  });

  it("a read receipt naming seq 2^53+1 is a 400 naming seqs.1", async () => {
    const user = unique("read");
    const res = await clientText(user, "/v1/inbox/read", "POST", '{"seqs":[1,9007199254740993]}');
    const problem = await expectInvalid(res, "seqs.1");
    expect(problem.errors![0]!.message).toContain("come back as 9007199254740992");
  });
});

/** A body stream that sends `text`'s first bytes, then fails, as a connection with broken chunked framing does. */
function failingBody(text: string) {
  const bytes = new TextEncoder().encode(text);
  let sent = false;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent) return controller.error(new Error("broken chunked framing"));
      sent = true;
      controller.enqueue(bytes.slice(0, Math.ceil(bytes.length / 2)));
    },
  });
}

function postFailingBody(user: string, text: string, headers: Record<string, string> = {}) {
  return fetchWithEnv({}, messagesPath(user), {
    method: "POST",
    body: failingBody(text),
    headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json", ...headers },
  });
}

describe("a body that cannot be read", () => {
  it.each([
    ["without Content-Length", {}],
    ["with a Content-Length", { "Content-Length": "22" }],
  ])("a stream that fails mid-way (%s) is a 400, stores nothing and logs nothing", async (_what, headers) => {
    const logged = vi.spyOn(console, "error");
    const user = unique("broken");
    const problem = await expectProblem(await postFailingBody(user, '{"body":"hello there"}', headers), 400);
    expect(problem.detail).toBe("The request body could not be read.");
    expect(logged).not.toHaveBeenCalled();
    await expectNothingStored(user);
  });

  it("the order stays: a failing stream with the wrong Content-Type is 415", async () => {
    const res = await postFailingBody(unique("broken-415"), '{"body":"x"}', { "Content-Type": "text/plain" });
    await expectProblem(res, 415);
  });

  it("the order stays: a stream that passes MESSAGE_MAX_BYTES before it fails is 413", async () => {
    const res = await postFailingBody(unique("broken-413"), JSON.stringify({ body: "x".repeat(20_000) }));
    await expectProblem(res, 413);
  });

  it("a body that is not UTF-8 is a 400 and stores nothing", async () => {
    const user = unique("latin1");
    const bytes = Uint8Array.of(...new TextEncoder().encode('{"body":"caf'), 0xe9, ...new TextEncoder().encode('"}'));
    const res = await admin(messagesPath(user), { method: "POST", body: bytes, headers: { "Content-Type": "application/json" } });
    const problem = await expectProblem(res, 400);
    expect(problem.detail).toMatch(/UTF-8/);
    await expectNothingStored(user);
  });

  it("malformed JSON is a 400 that says so", async () => {
    const problem = await expectProblem(await publishText(unique("malformed"), '{"body":"x",}'), 400);
    expect(problem.detail).toMatch(/not valid JSON/);
  });
});

describe("live frames are read the same way", () => {
  it("an ack frame whose upTo only rounds to an integer is an error frame naming upTo, and acks nothing", async () => {
    const user = unique("frame");
    await publish(user);
    await publish(user);
    const socket = await openSocket(user);
    await socket.catchup();
    const answer = await socket.request('{"type":"ack","upTo":2.0000000000000001}');
    expect(answer).toMatchObject({ type: "error", status: 400 });
    expect((answer as { detail: string }).detail).toMatch(/upTo: the number 2\.0000000000000001/);
    expect((await userView(user)).pending.count).toBe(2);
  });

  it("a frame nested thousands of levels deep is an error frame naming the field, and the socket keeps working", async () => {
    const user = unique("frame-deep");
    await publish(user);
    const socket = await openSocket(user);
    await socket.catchup();
    const answer = await socket.request(`{"type":"ack","upTo":1,"extra":${nestedArrays(4000)}}`);
    expect(answer).toMatchObject({ type: "error", status: 400 });
    expect((answer as { detail: string }).detail).toMatch(/extra: must nest at most 32 levels/);
    expect(await socket.request({ type: "ack", upTo: 1 })).toEqual({ type: "ok", for: "ack", pending: 0 });
  });
});
