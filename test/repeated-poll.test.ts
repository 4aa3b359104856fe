// A poll repeating one the app accepted (same token, same query string) is
// answered by src/edge/known-poll.ts without Hono. It must answer exactly as
// the app would, and leave every refusal to the app.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { answerKnownPoll } from "../src/edge/known-poll";
import { call, clientToken, EMPTY_ANSWER, fetchWithEnv, problemOf, publish, unique, type InboxAnswer } from "./helpers";

const BASE = "http://postbox.test";

async function pollRequest(userId: string, query = "", headers: Record<string, string> = {}) {
  const token = await clientToken({ sub: userId });
  return (method = "GET") =>
    new Request(`${BASE}/v1/inbox${query}`, { method, headers: { Authorization: `Bearer ${token}`, ...headers } });
}

const headersOf = (res: Response) => [...res.headers].sort(([a], [b]) => a.localeCompare(b));

describe("which requests are answered without the app", () => {
  it("a poll only once the app has accepted its token and its query string", async () => {
    const request = await pollRequest(unique("u"), "?limit=5");
    expect(answerKnownPoll(request(), env)).toBeUndefined();
    expect((await call(request().url, { headers: request().headers })).status).toBe(200);
    const repeat = answerKnownPoll(request(), env);
    expect(repeat).toBeDefined();
    expect(await (await repeat!).json()).toEqual(EMPTY_ANSWER);
  });

  it("not another query string, method or path, even with an accepted token", async () => {
    const user = unique("u");
    const request = await pollRequest(user, "?limit=5");
    await call(request().url, { headers: request().headers });
    const token = request().headers.get("Authorization")!;
    expect(answerKnownPoll(new Request(`${BASE}/v1/inbox?limit=6`, { headers: { Authorization: token } }), env)).toBeUndefined();
    expect(answerKnownPoll(request("HEAD"), env)).toBeUndefined();
    expect(answerKnownPoll(new Request(`${BASE}/v1/inbox/unread?limit=5`, { headers: { Authorization: token } }), env)).toBeUndefined();
  });

  it("not a query string the schema refused", async () => {
    const request = await pollRequest(unique("u"), "?limit=0");
    expect((await call(request().url, { headers: request().headers })).status).toBe(400);
    expect(answerKnownPoll(request(), env)).toBeUndefined();
  });
});

describe("a repeated poll answers as the first did", () => {
  it("same status, headers and body", async () => {
    const request = await pollRequest(unique("u"), "", { Origin: "https://app.example" });
    const first = await call(request().url, { headers: request().headers });
    const repeat = await call(request().url, { headers: request().headers });
    expect(repeat.status).toBe(first.status);
    expect(headersOf(repeat)).toEqual(headersOf(first));
    expect(await repeat.json()).toEqual(await first.json());
  });

  it("with CORS_ORIGINS a list: the listed origin echoed, another given no CORS headers", async () => {
    const request = await pollRequest(unique("u"));
    const vars = { CORS_ORIGINS: "https://app.example" };
    const as = (origin: string) => ({ headers: { Authorization: request().headers.get("Authorization")!, Origin: origin } });
    for (const origin of ["https://app.example", "https://elsewhere.example"]) {
      const first = await fetchWithEnv(vars, "/v1/inbox", as(origin));
      const repeat = await fetchWithEnv(vars, "/v1/inbox", as(origin));
      expect(headersOf(repeat)).toEqual(headersOf(first));
    }
    const listed = await fetchWithEnv(vars, "/v1/inbox", as("https://app.example"));
    expect(listed.headers.get("Access-Control-Allow-Origin")).toBe("https://app.example");
    expect(listed.headers.get("Vary")).toBe("Origin");
    const other = await fetchWithEnv(vars, "/v1/inbox", as("https://elsewhere.example"));
    expect(other.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("every repeat asks the user's object: a message published in between is in the next answer", async () => {
    const user = unique("u");
    const request = await pollRequest(user);
    await call(request().url, { headers: request().headers });
    await publish(user, { body: "after the first poll" });
    const answer = (await (await answerKnownPoll(request(), env))!.json()) as InboxAnswer;
    expect(answer.personal.map((m) => m.body)).toEqual(["after the first poll"]);
  });
});

describe("a repeat is refused as the first was", () => {
  it("a token pinned to one region asking for another: 403 each time, with CORS", async () => {
    const token = await clientToken({ sub: unique("u"), region: "eu" });
    for (let i = 0; i < 2; i++) {
      const res = await call("/v1/inbox?region=us", { headers: { Authorization: `Bearer ${token}` } });
      expect(res.status).toBe(403);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
      expect((await problemOf(res)).detail).toMatch(/pinned to region eu/);
    }
  });

  it("a user object that fails: the same 500 problem, with CORS, as the app's", async () => {
    // A real failure: the user namespace bound to the region objects, which have no poll method.
    const broken = { USERS: env.REGIONS as unknown as typeof env.USERS };
    const request = await pollRequest(unique("u"));
    const first = await fetchWithEnv(broken, "/v1/inbox", { headers: request().headers });
    const repeat = await fetchWithEnv(broken, "/v1/inbox", { headers: request().headers });
    for (const res of [first, repeat]) {
      expect(res.status).toBe(500);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
    }
    expect(headersOf(repeat)).toEqual(headersOf(first));
    expect(await problemOf(repeat)).toEqual(await problemOf(first));
  });

  it("an accepted poll under an invalid configuration: 500 naming the variable", async () => {
    const request = await pollRequest(unique("u"));
    await call(request().url, { headers: request().headers });
    const res = await fetchWithEnv({ PENDING_LIMIT: "many" }, "/v1/inbox", { headers: request().headers });
    expect(res.status).toBe(500);
    expect((await problemOf(res)).detail).toMatch(/PENDING_LIMIT/);
  });
});
