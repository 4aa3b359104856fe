// Configuration ([vars] or `--var NAME:value`): strings and numbers both work,
// and a value that is not a positive integer fails every request with a 500
// problem naming the variable, never a silent default.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/config";
import {
  clientToken,
  expectLogged,
  expectProblem,
  fetchWithEnv,
  messagesPath,
  regionStub,
  sameVarsInObject,
  unique,
  userStub,
  userView,
} from "./helpers";

const adminHeaders = { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" };

function publishWith(overrides: Partial<Env>, user: string, body: string) {
  return fetchWithEnv(overrides, messagesPath(user), { method: "POST", headers: adminHeaders, body });
}

/** What postbox logs for an invalid setting: the same words as the problem's detail. */
const configErrorLine = (name: string) => new RegExp(`^postbox configuration: ${name} must be `);

/** Sends `request` and expects the 500 problem naming `name`, and the log line for it. */
async function expectConfigProblem(name: string, request: () => Promise<Response>) {
  const body = await expectProblem(await expectLogged(configErrorLine(name), request), 500);
  expect(body.detail).toContain(name);
  return body;
}

const INTEGER_VARS = [
  "PENDING_LIMIT",
  "PENDING_TTL_SECONDS",
  "UNREAD_LIMIT",
  "UNREAD_TTL_SECONDS",
  "ANNOUNCEMENT_LIMIT",
  "ANNOUNCEMENT_TTL_SECONDS",
  "MESSAGE_MAX_BYTES",
] as const;

describe("an invalid value fails every request with 500 naming the variable", () => {
  it.each(["abc", "0", "-1", "1.5", "3abc", " "])('PENDING_LIMIT "%s": /health answers 500 naming PENDING_LIMIT', async (value) => {
    await expectConfigProblem("PENDING_LIMIT", () => fetchWithEnv({ PENDING_LIMIT: value }, "/health"));
  });

  it.each([0, -1, 1.5, Number.NaN])("PENDING_LIMIT as the number %s: /health answers 500 naming PENDING_LIMIT", async (value) => {
    await expectConfigProblem("PENDING_LIMIT", () => fetchWithEnv({ PENDING_LIMIT: value }, "/health"));
  });

  it.each(INTEGER_VARS)('%s "abc": /health answers 500 naming it', async (name) => {
    await expectConfigProblem(name, () => fetchWithEnv({ [name]: "abc" }, "/health"));
  });

  it.each(INTEGER_VARS)('%s "0": /health answers 500 naming it', async (name) => {
    await expectConfigProblem(name, () => fetchWithEnv({ [name]: "0" }, "/health"));
  });

  it("a client route answers 500 naming the variable, even with a valid token", async () => {
    const token = await clientToken({ sub: unique("cfg-client") });
    await expectConfigProblem("PENDING_LIMIT", () =>
      fetchWithEnv({ PENDING_LIMIT: "abc" }, "/v1/inbox", { headers: { Authorization: `Bearer ${token}` } }),
    );
  });

  it("a client route answers 500 naming the variable, even without a token", async () => {
    await expectConfigProblem("UNREAD_LIMIT", () => fetchWithEnv({ UNREAD_LIMIT: "-1" }, "/v1/inbox"));
  });

  it("a preflight answers 500 naming the variable", async () => {
    await expectConfigProblem("MESSAGE_MAX_BYTES", () =>
      fetchWithEnv({ MESSAGE_MAX_BYTES: "1.5" }, "/v1/inbox", {
        method: "OPTIONS",
        headers: { Origin: "https://app.example", "Access-Control-Request-Method": "GET" },
      }),
    );
  });

  it("a publisher route answers 500 naming the variable", async () => {
    await expectConfigProblem("ANNOUNCEMENT_LIMIT", () =>
      fetchWithEnv({ ANNOUNCEMENT_LIMIT: "abc" }, `/admin/v1/users/${unique("cfg-admin")}`, {
        headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
      }),
    );
  });

  it("an unknown route answers 500 naming the variable, not 404", async () => {
    await expectConfigProblem("PENDING_TTL_SECONDS", () => fetchWithEnv({ PENDING_TTL_SECONDS: "0" }, "/nope"));
  });

  it("a publish under an invalid configuration stores nothing", async () => {
    const user = unique("cfg-nostore");
    await expectConfigProblem("PENDING_LIMIT", () => publishWith({ PENDING_LIMIT: "0" }, user, '{"body":"x"}'));
    expect((await userView(user)).pending.count).toBe(0);
  });

  it("names the invalid variable when another one is valid", async () => {
    const body = await expectConfigProblem("UNREAD_TTL_SECONDS", () =>
      fetchWithEnv({ PENDING_LIMIT: "5", UNREAD_TTL_SECONDS: "soon" }, "/health"),
    );
    expect(body.detail).not.toContain("PENDING_LIMIT");
  });

  it("a client route's 500 still carries Access-Control-Allow-Origin (every client answer does)", async () => {
    const res = await expectLogged(configErrorLine("PENDING_LIMIT"), () =>
      fetchWithEnv({ PENDING_LIMIT: "abc" }, "/v1/inbox", { headers: { Origin: "https://app.example" } }),
    );
    expect(res.status).toBe(500);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });
});

describe("valid values are honoured, as strings and as numbers", () => {
  it.each([
    ['"3" (a --var string)', "3"],
    ["3 (a number)", 3],
  ])("PENDING_LIMIT %s: the 4th publish to one user evicts 1", async (_as, value) => {
    const user = unique("cfg-limit");
    const vars = { PENDING_LIMIT: value };
    await sameVarsInObject(userStub(user), vars);
    const evicted: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const res = await publishWith(vars, user, JSON.stringify({ body: `m${i}` }));
      expect(res.status).toBe(201);
      evicted.push(((await res.json()) as { evicted: number }).evicted);
    }
    expect(evicted).toEqual([0, 0, 0, 1]);
    expect((await userView(user)).pending).toMatchObject({ count: 3, oldestSeq: 2, newestSeq: 4 });
  });

  it('ANNOUNCEMENT_LIMIT "2": a region keeps only its 2 newest announcements', async () => {
    const region = unique("cfg-region");
    const vars = { ANNOUNCEMENT_LIMIT: "2" };
    await sameVarsInObject(regionStub(region), vars);
    for (let i = 1; i <= 3; i++) {
      const res = await fetchWithEnv(vars, "/admin/v1/announcements", {
        method: "POST",
        headers: adminHeaders,
        body: JSON.stringify({ regions: [region], body: `a${i}` }),
      });
      expect(res.status).toBe(201);
    }
    const res = await fetchWithEnv(vars, `/admin/v1/regions/${region}/announcements`, { headers: adminHeaders });
    const log = (await res.json()) as { head: number; oldest: number; announcements: { id: number }[] };
    expect(log.head).toBe(3);
    expect(log.oldest).toBe(2);
    expect(log.announcements.map((a) => a.id)).toEqual([2, 3]);
  });

  /** 64 as a --var string and as a [vars] number. */
  const SIXTY_FOUR = [
    ["the string", "64"],
    ["the number", 64],
  ] as const;

  it.each(SIXTY_FOUR)("MESSAGE_MAX_BYTES as %s 64: a 64-byte body is accepted", async (_as, value) => {
    const body = JSON.stringify({ body: "x".repeat(64 - 11) });
    expect(body.length).toBe(64);
    const res = await publishWith({ MESSAGE_MAX_BYTES: value }, unique("cfg-size-ok"), body);
    expect(res.status).toBe(201);
  });

  it.each(SIXTY_FOUR)("MESSAGE_MAX_BYTES as %s 64: a 65-byte body is 413", async (_as, value) => {
    const body = JSON.stringify({ body: "x".repeat(65 - 11) });
    expect(body.length).toBe(65);
    await expectProblem(await publishWith({ MESSAGE_MAX_BYTES: value }, unique("cfg-size-over"), body), 413);
  });

  it("MESSAGE_MAX_BYTES applies to client routes too", async () => {
    const token = await clientToken({ sub: unique("cfg-size-client") });
    const res = await fetchWithEnv({ MESSAGE_MAX_BYTES: "16" }, "/v1/inbox/ack", {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ upTo: 123456789012 }),
    });
    expect(res.status).toBe(413);
  });

  it("an unset variable takes the contract's default (MESSAGE_MAX_BYTES 8192)", async () => {
    const body = JSON.stringify({ body: "x".repeat(8192 - 11) });
    const over = JSON.stringify({ body: "x".repeat(8193 - 11) });
    expect((await publishWith({ MESSAGE_MAX_BYTES: undefined }, unique("cfg-default"), body)).status).toBe(201);
    expect((await publishWith({ MESSAGE_MAX_BYTES: undefined }, unique("cfg-default"), over)).status).toBe(413);
  });

  it("/health answers 200 with every variable set to a valid string", async () => {
    const res = await fetchWithEnv(
      Object.fromEntries(INTEGER_VARS.map((name) => [name, "42"])) as Partial<Env>,
      "/health",
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("/health answers 200 with every variable set to a valid number", async () => {
    const res = await fetchWithEnv(Object.fromEntries(INTEGER_VARS.map((name) => [name, 42])) as Partial<Env>, "/health");
    expect(res.status).toBe(200);
  });
});
