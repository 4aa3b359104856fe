// POST /v1/inbox/read (read receipts) and GET /v1/inbox/unread.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { client, poll, problemOf, publish, unique, userView } from "./helpers";

type UnreadAnswer = {
  count: number;
  messages: { seq: number; title?: string; body: string; data?: Record<string, unknown>; createdAt: string }[];
};

async function publishMany(userId: string, count: number) {
  for (let i = 1; i <= count; i++) await publish(userId, { body: `m${i}` });
}

function markRead(userId: string, receipt: unknown) {
  return client(userId, "/v1/inbox/read", { method: "POST", json: receipt });
}

async function unreadOf(userId: string, query = "") {
  const res = await client(userId, `/v1/inbox/unread${query}`);
  expect(res.status).toBe(200);
  return (await res.json()) as UnreadAnswer;
}

async function pendingSeqs(userId: string) {
  return (await poll(userId, "?limit=500")).personal.map((m) => m.seq);
}

describe("POST /v1/inbox/read", () => {
  it("seqs removes those messages from the unread set and answers {unread: n}", async () => {
    const user = unique("u");
    await publishMany(user, 4);
    const res = await markRead(user, { seqs: [1, 3] });
    expect(res.status).toBe(200);
    expect(await res.json()).toStrictEqual({ unread: 2 });
    const unread = await unreadOf(user);
    expect(unread.count).toBe(2);
    expect(unread.messages.map((m) => m.seq)).toEqual([2, 4]);
  });

  it("seqs removes those messages from the pending set too", async () => {
    const user = unique("u");
    await publishMany(user, 4);
    await markRead(user, { seqs: [1, 3] });
    expect(await pendingSeqs(user)).toEqual([2, 4]);
    expect((await userView(user)).pending).toMatchObject({ count: 2, oldestSeq: 2, newestSeq: 4 });
  });

  it("upTo removes seq ≤ upTo from the unread set and answers {unread: n}", async () => {
    const user = unique("u");
    await publishMany(user, 4);
    const res = await markRead(user, { upTo: 2 });
    expect(res.status).toBe(200);
    expect(await res.json()).toStrictEqual({ unread: 2 });
    expect((await unreadOf(user)).messages.map((m) => m.seq)).toEqual([3, 4]);
  });

  it("upTo removes seq ≤ upTo from the pending set too", async () => {
    const user = unique("u");
    await publishMany(user, 4);
    await markRead(user, { upTo: 2 });
    expect(await pendingSeqs(user)).toEqual([3, 4]);
    expect((await userView(user)).pending.count).toBe(2);
  });

  it("upTo above the newest seq empties both sets", async () => {
    const user = unique("u");
    await publishMany(user, 3);
    expect(await (await markRead(user, { upTo: 99 })).json()).toStrictEqual({ unread: 0 });
    expect(await unreadOf(user)).toStrictEqual({ count: 0, messages: [] });
    expect(await pendingSeqs(user)).toEqual([]);
  });

  it("upTo: 0 removes nothing", async () => {
    const user = unique("u");
    await publishMany(user, 2);
    expect(await (await markRead(user, { upTo: 0 })).json()).toStrictEqual({ unread: 2 });
    expect(await pendingSeqs(user)).toEqual([1, 2]);
  });

  it("unknown seqs are ignored: no error, nothing removed", async () => {
    const user = unique("u");
    await publishMany(user, 2);
    const res = await markRead(user, { seqs: [7, 99, 100000] });
    expect(res.status).toBe(200);
    expect(await res.json()).toStrictEqual({ unread: 2 });
    expect((await unreadOf(user)).messages.map((m) => m.seq)).toEqual([1, 2]);
    expect(await pendingSeqs(user)).toEqual([1, 2]);
  });

  it("known and unknown seqs mixed: only the known ones are removed", async () => {
    const user = unique("u");
    await publishMany(user, 3);
    expect(await (await markRead(user, { seqs: [2, 42] })).json()).toStrictEqual({ unread: 2 });
    expect((await unreadOf(user)).messages.map((m) => m.seq)).toEqual([1, 3]);
    expect(await pendingSeqs(user)).toEqual([1, 3]);
  });

  it("the same seq listed twice counts once", async () => {
    const user = unique("u");
    await publishMany(user, 3);
    expect(await (await markRead(user, { seqs: [2, 2] })).json()).toStrictEqual({ unread: 2 });
    expect((await userView(user)).pending.count).toBe(2);
  });

  it("reading the same seqs again is harmless", async () => {
    const user = unique("u");
    await publishMany(user, 3);
    expect(await (await markRead(user, { seqs: [1] })).json()).toStrictEqual({ unread: 2 });
    expect(await (await markRead(user, { seqs: [1] })).json()).toStrictEqual({ unread: 2 });
    expect((await userView(user)).pending.count).toBe(2);
  });

  it("reading messages that were already acknowledged removes them from the unread set only", async () => {
    const user = unique("u");
    await publishMany(user, 3);
    await client(user, "/v1/inbox/ack", { method: "POST", json: { upTo: 3 } });
    expect(await (await markRead(user, { seqs: [2] })).json()).toStrictEqual({ unread: 2 });
    expect((await userView(user)).pending.count).toBe(0);
    expect((await unreadOf(user)).messages.map((m) => m.seq)).toEqual([1, 3]);
  });

  it("an unused user answers {unread: 0}", async () => {
    const res = await markRead(unique("u"), { seqs: [1] });
    expect(res.status).toBe(200);
    expect(await res.json()).toStrictEqual({ unread: 0 });
  });

  it("seq is never reused after reading every message", async () => {
    const user = unique("u");
    await publishMany(user, 2);
    await markRead(user, { upTo: 2 });
    expect((await publish(user)).seq).toBe(3);
  });

  it("seqs and upTo together are a 400 problem and change nothing", async () => {
    const user = unique("u");
    await publishMany(user, 2);
    const res = await markRead(user, { seqs: [1], upTo: 2 });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).errors?.length).toBeGreaterThan(0);
    expect((await unreadOf(user)).count).toBe(2);
    expect(await pendingSeqs(user)).toEqual([1, 2]);
  });

  it("neither seqs nor upTo is a 400 problem", async () => {
    const res = await markRead(unique("u"), {});
    expect(res.status).toBe(400);
    expect((await problemOf(res)).status).toBe(400);
  });

  it('"upTo": "3" (a string) is a 400 problem naming upTo, and changes nothing', async () => {
    const user = unique("u");
    await publishMany(user, 3);
    const res = await markRead(user, { upTo: "3" });
    expect(res.status).toBe(400);
    expect((await problemOf(res)).errors?.map((e) => e.path)).toContain("upTo");
    expect((await unreadOf(user)).count).toBe(3);
  });

  it("an empty seqs list and one of 501 seqs are 400 problems", async () => {
    const user = unique("u");
    await publishMany(user, 1);
    for (const seqs of [[], Array.from({ length: 501 }, (_, i) => i + 1)]) {
      const res = await markRead(user, { seqs });
      expect(res.status).toBe(400);
      expect((await problemOf(res)).errors?.map((e) => e.path)).toContain("seqs");
    }
    expect((await unreadOf(user)).count).toBe(1);
  });

  it("500 seqs are accepted", async () => {
    const user = unique("u");
    await publishMany(user, 2);
    const res = await markRead(user, { seqs: Array.from({ length: 500 }, (_, i) => i + 1) });
    expect(res.status).toBe(200);
    expect(await res.json()).toStrictEqual({ unread: 0 });
  });

  it("a receipt of 500 seqs binds at most 100 parameters per SQL statement (the Durable Object limit)", async () => {
    // Production SQLite-backed Durable Objects reject a statement with more than 100
    // bound parameters; the local runtime does not, so the object's SQL is watched.
    const user = unique("u");
    await publishMany(user, 3);
    const stub = env.USERS.getByName(user);
    const bindings: number[] = [];
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      const exec = sql.exec.bind(sql);
      Object.defineProperty(sql, "exec", {
        configurable: true,
        value: (query: string, ...args: unknown[]) => {
          bindings.push(args.length);
          return exec(query, ...(args as never[]));
        },
      });
    });
    try {
      const res = await markRead(user, { seqs: Array.from({ length: 500 }, (_, i) => 500 - i) });
      expect(res.status).toBe(200);
      expect(await res.json()).toStrictEqual({ unread: 0 });
    } finally {
      await runInDurableObject(stub, (_instance, state) => {
        delete (state.storage.sql as { exec?: unknown }).exec;
      });
    }
    expect(bindings.length).toBeGreaterThan(0);
    expect(Math.max(...bindings)).toBeLessThanOrEqual(100);
  });
});

describe("GET /v1/inbox/unread", () => {
  it("answers {count, messages} with the messages oldest first, exactly as published", async () => {
    const user = unique("u");
    const published = [];
    published.push({ ...(await publish(user, { title: "one", body: "b1", data: { k: 1 } })), title: "one", body: "b1", data: { k: 1 } });
    published.push({ ...(await publish(user, { body: "b2" })), body: "b2" });
    published.push({ ...(await publish(user, { title: "three", body: "b3" })), title: "three", body: "b3" });
    const unread = await unreadOf(user);
    expect(Object.keys(unread).sort()).toEqual(["count", "messages"]);
    expect(unread.count).toBe(3);
    expect(unread.messages).toStrictEqual(published.map(({ evicted: _evicted, ...message }) => message));
  });

  it("returns at most limit messages, the oldest, while count is the whole set", async () => {
    const user = unique("u");
    await publishMany(user, 5);
    const unread = await unreadOf(user, "?limit=2");
    expect(unread.count).toBe(5);
    expect(unread.messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it("without limit, at most 100 messages are returned", async () => {
    const user = unique("u");
    await publishMany(user, 101);
    const unread = await unreadOf(user);
    expect(unread.count).toBe(101);
    expect(unread.messages).toHaveLength(100);
    expect(unread.messages[0]!.seq).toBe(1);
    expect(unread.messages.at(-1)!.seq).toBe(100);
  });

  it("an unused user reads as {count: 0, messages: []}", async () => {
    expect(await unreadOf(unique("u"))).toStrictEqual({ count: 0, messages: [] });
  });

  it("reading the unread list does not change it", async () => {
    const user = unique("u");
    await publishMany(user, 2);
    const first = await unreadOf(user);
    expect(await unreadOf(user)).toStrictEqual(first);
  });

  it("a message stays unread after it was received and acknowledged", async () => {
    const user = unique("u");
    await publishMany(user, 2);
    await poll(user, "?consume=true");
    expect((await unreadOf(user)).messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it("limit=0 is a 400 problem naming limit", async () => {
    const res = await client(unique("u"), "/v1/inbox/unread?limit=0");
    expect(res.status).toBe(400);
    expect((await problemOf(res)).errors?.map((e) => e.path)).toContain("limit");
  });
});
