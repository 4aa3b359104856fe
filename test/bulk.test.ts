// POST /admin/v1/messages: one personal message to up to 500 users, each user's object publishing it
// as the single-user route does; Idempotency-Key per user, compared on the body without `users`.
import { describe, expect, it } from "vitest";
import { admin, expectInvalid, expectProblem, pendingSeqs, poll, unique, userView } from "./helpers";
import type { BulkPublishAnswer } from "../src/shared/responses";

const bulkPublish = (body: unknown, headers: Record<string, string> = {}) =>
  admin("/admin/v1/messages", { method: "POST", json: body, headers });

async function published(body: unknown, headers: Record<string, string> = {}) {
  const res = await bulkPublish(body, headers);
  expect(res.status).toBe(201);
  return (await res.json()) as BulkPublishAnswer;
}

const usersNamed = (count: number) => Array.from({ length: count }, () => unique("bulk"));

describe("POST /admin/v1/messages", () => {
  it("publishes to each user once, a user named twice included, and answers each user's seq, evicted and pushed", async () => {
    const [a, b] = usersNamed(2);
    await poll(a!);
    const before = Date.now();
    const answer = await published({ users: [a, b, a], title: "Sale", body: "Today only", data: { off: 20 } });
    expect(Date.parse(answer.createdAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(answer.results).toStrictEqual({
      [a!]: { seq: 1, evicted: 0, pushed: 0, replaced: null },
      [b!]: { seq: 1, evicted: 0, pushed: 0, replaced: null },
    });
    const { personal } = await poll(a!);
    expect(personal).toMatchObject([{ seq: 1, title: "Sale", body: "Today only", data: { off: 20 } }]);
    expect(await pendingSeqs(b!)).toEqual([1]);
  });

  it("a retry with the same Idempotency-Key stores nothing twice, and publishes to the users it adds", async () => {
    const [a, b, c] = usersNamed(3);
    const key = { "Idempotency-Key": unique("k") };
    const first = await published({ users: [a, b], body: "once" }, key);
    const again = await published({ users: [b, a, c], body: "once" }, key);
    expect(again.results).toStrictEqual({ ...first.results, [c!]: { seq: 1, evicted: 0, pushed: 0, replaced: null } });
    for (const user of [a!, b!, c!]) expect(await pendingSeqs(user)).toEqual([1]);
  });

  it("the same key with another body is 422, naming the users it was used for", async () => {
    const [a, b] = usersNamed(2);
    const key = { "Idempotency-Key": unique("k") };
    await published({ users: [a], body: "first" }, key);
    const problem = await expectProblem(await bulkPublish({ users: [a, b], body: "second" }, key), 422);
    expect(problem.detail).toContain(a!);
    expect(problem.detail).not.toContain(b!);
    expect(await pendingSeqs(a!)).toEqual([1]);
  });

  it("carries collapseKey, ttlSeconds and priority as the single-user route does: a second bulk with the key replaces the first", async () => {
    const [a, b] = usersNamed(2);
    const message = { body: "Score 1-0", collapseKey: "match:42", ttlSeconds: 600, priority: "high" };
    await published({ users: [a, b], ...message });
    const second = await published({ users: [a, b], ...message, body: "Score 2-0" });
    expect(second.results[a!]).toStrictEqual({ seq: 2, evicted: 0, pushed: 0, replaced: 1 });
    const { personal } = await poll(a!);
    expect(personal).toMatchObject([{ seq: 2, body: "Score 2-0", collapseKey: "match:42", ttlSeconds: 600, priority: "high" }]);
  });

  it.each([
    ["a ttlSeconds beyond PENDING_TTL_SECONDS", { users: ["ok"], body: "x", ttlSeconds: 604_801 }, "ttlSeconds"],
    ["no users", { users: [], body: "x" }, "users"],
    ["501 distinct users", { users: Array.from({ length: 501 }, (_, i) => `u${i}`), body: "x" }, "users"],
    ["an invalid userId", { users: ["ok", "not ok"], body: "x" }, "users.1"],
    ["no body", { users: ["ok"] }, "body"],
    ["deliverAt, which only the single-user route takes", { users: ["ok"], body: "x", deliverAt: "2030-01-01T00:00:00Z" }, "deliverAt"],
  ])("%s: 400 naming the field, and nothing is published", async (_, body, field) => {
    await expectInvalid(await bulkPublish(body), field);
    expect((await userView("ok")).pending.count).toBe(0);
  });

  it("500 distinct users may be named twice over", { timeout: 60_000 }, async () => {
    const users = usersNamed(500);
    const answer = await published({ users: [...users, ...users], body: "to all" });
    expect(Object.keys(answer.results)).toHaveLength(500);
  });

  it("the body may exceed MESSAGE_MAX_BYTES by the users it names; the message without them may not", async () => {
    const users = Array.from({ length: 20 }, () => `${unique("bulk")}-${"x".repeat(100)}`);
    const message = { body: "b".repeat(7_000) };
    expect(JSON.stringify({ users, ...message }).length).toBeGreaterThan(8_192);
    expect((await bulkPublish({ users, ...message })).status).toBe(201);
    const problem = await expectProblem(await bulkPublish({ users: ["ok"], body: "b".repeat(8_200) }), 413);
    expect(problem.detail).toContain("MESSAGE_MAX_BYTES");
    await expectProblem(await bulkPublish({ users: ["ok"], body: "b".repeat(8_192 + 66_000) }), 413);
    expect((await userView("ok")).pending.count).toBe(0);
  });
});
