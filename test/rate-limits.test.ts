// Client rate limits: CLIENT_RATE_LIMIT requests per user per 10 s, counted by
// the Workers Rate Limiting binding (simulated by the Vitest integration). Over
// it: 429 problem with Retry-After and CORS, nothing changed, other users
// unaffected; socket frames count too and an over-limit frame is ignored.
import { afterEach, describe, expect, it } from "vitest";
import { clientWithEnv, publish, unique, userView } from "./helpers";
import { caughtUpSocket, closeAllLive } from "./live-helpers";

/**
 * The binding's windows are aligned to the clock, so a burst can straddle two
 * of them and see the count start again. A scenario that failed across a
 * window's end is run again (a new user each time), up to three times.
 */
async function inOneWindow(scenario: () => Promise<void>) {
  const windowOf = () => Math.floor(Date.now() / 10_000);
  for (let attempt = 1; ; attempt++) {
    const started = windowOf();
    try {
      return await scenario();
    } catch (error) {
      if (windowOf() === started || attempt === 3) throw error;
    }
  }
}

const LIMIT = 3;
const limited = (userId: string, path: string, init: RequestInit = {}) =>
  clientWithEnv({ CLIENT_RATE_LIMIT: LIMIT }, userId, path, {
    ...init,
    headers: { ...Object.fromEntries(new Headers(init.headers)), Origin: "https://app.example" },
  });
/** The init of a POST whose JSON body is {upTo} (an ack or a read receipt). */
const postUpTo = (upTo: number): RequestInit => ({
  method: "POST",
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ upTo }),
});

afterEach(closeAllLive);

describe("client requests over the limit", () => {
  it("answers the first CLIENT_RATE_LIMIT requests and then 429 with Retry-After and CORS", () =>
    inOneWindow(async () => {
      const user = unique("rl");
      for (let i = 0; i < LIMIT; i++) expect((await limited(user, "/v1/inbox")).status).toBe(200);
      const res = await limited(user, "/v1/inbox");
      expect(res.status).toBe(429);
      expect(res.headers.get("Content-Type")).toContain("application/problem+json");
      const body = (await res.json()) as { status: number; title: string; detail: string };
      expect(body).toMatchObject({ status: 429, title: "Too Many Requests" });
      const retryAfter = Number(res.headers.get("Retry-After"));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(10);
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
      expect(res.headers.get("Access-Control-Expose-Headers")?.toLowerCase()).toContain("retry-after");
    }));

  it("counts every client route, and a refused request changes nothing", () =>
    inOneWindow(async () => {
      const user = unique("rl-nochange");
      await publish(user);
      expect((await limited(user, "/v1/inbox/unread")).status).toBe(200);
      expect((await limited(user, "/v1/inbox")).status).toBe(200);
      expect((await limited(user, "/v1/inbox/read", postUpTo(0))).status).toBe(200);
      expect((await limited(user, "/v1/inbox/ack", postUpTo(1))).status).toBe(429);
      expect((await userView(user)).pending.count).toBe(1);
    }));

  it("does not affect other users", () =>
    inOneWindow(async () => {
      const [busy, other] = [unique("rl-busy"), unique("rl-other")];
      for (let i = 0; i <= LIMIT; i++) await limited(busy, "/v1/inbox");
      expect((await limited(busy, "/v1/inbox")).status).toBe(429);
      expect((await limited(other, "/v1/inbox")).status).toBe(200);
    }));

  it("leaves publisher routes unlimited", () =>
    inOneWindow(async () => {
      const user = unique("rl-publisher");
      for (let i = 0; i <= LIMIT; i++) await limited(user, "/v1/inbox");
      for (let i = 0; i <= LIMIT; i++) expect((await publish(user)).seq).toBe(i + 1);
    }));
});

describe("live connections and socket frames", () => {
  it("counts opening a live connection as one request", () =>
    inOneWindow(async () => {
      const user = unique("rl-live");
      for (let i = 0; i < LIMIT; i++) expect((await limited(user, "/v1/inbox")).status).toBe(200);
      const res = await limited(user, "/v1/inbox/live", { headers: { Upgrade: "websocket" } });
      expect(res.status).toBe(429);
      expect(res.webSocket).toBeNull();
    }));

  it("answers a frame over the limit with a 429 error frame and ignores it", () =>
    inOneWindow(async () => {
      // The user's object counts frames against the configured limit (wrangler.toml's: 100 per 10 s).
      const user = unique("rl-frames");
      await publish(user);
      const socket = await caughtUpSocket(user);
      let answer;
      for (let sent = 1; sent <= 150; sent++) {
        answer = await socket.request({ type: "ack", upTo: 0 });
        if (answer.type === "error") break;
      }
      expect(answer).toMatchObject({ type: "error", status: 429 });
      expect(await socket.request({ type: "ack", upTo: 1 })).toMatchObject({ type: "error", status: 429 });
      expect((await userView(user)).pending.count).toBe(1);
    }));
});
