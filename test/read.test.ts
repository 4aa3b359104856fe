// POST /v1/inbox/read (read receipts) and GET /v1/inbox/unread.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import {
  ackUpTo,
  client,
  expectInvalid,
  expectProblem,
  markRead,
  pendingSeqs,
  poll,
  publish,
  range,
  unique,
  unreadOf,
  unreadSeqs,
  userStub,
  userView,
  userWithMessages,
} from "./helpers";

/** The answer to a read receipt ({unread: n}), which must be a 200. */
async function receiptAnswer(userId: string, receipt: unknown) {
  const res = await markRead(userId, receipt);
  expect(res.status).toBe(200);
  return res.json();
}

describe("POST /v1/inbox/read", () => {
  it("seqs removes those messages from the unread set and answers {unread: n}", async () => {
    const user = await userWithMessages(4);
    expect(await receiptAnswer(user, { seqs: [1, 3] })).toStrictEqual({ unread: 2 });
    const unread = await unreadOf(user);
    expect(unread.count).toBe(2);
    expect(unread.messages.map((m) => m.seq)).toEqual([2, 4]);
  });

  it("seqs removes those messages from the pending set too", async () => {
    const user = await userWithMessages(4);
    await markRead(user, { seqs: [1, 3] });
    expect(await pendingSeqs(user)).toEqual([2, 4]);
    expect((await userView(user)).pending).toMatchObject({ count: 2, oldestSeq: 2, newestSeq: 4 });
  });

  it("upTo removes seq ≤ upTo from the unread set and answers {unread: n}", async () => {
    const user = await userWithMessages(4);
    expect(await receiptAnswer(user, { upTo: 2 })).toStrictEqual({ unread: 2 });
    expect(await unreadSeqs(user)).toEqual([3, 4]);
  });

  it("upTo removes seq ≤ upTo from the pending set too", async () => {
    const user = await userWithMessages(4);
    await markRead(user, { upTo: 2 });
    expect(await pendingSeqs(user)).toEqual([3, 4]);
    expect((await userView(user)).pending.count).toBe(2);
  });

  it("upTo above the newest seq empties both sets", async () => {
    const user = await userWithMessages(3);
    expect(await receiptAnswer(user, { upTo: 99 })).toStrictEqual({ unread: 0 });
    expect(await unreadOf(user)).toStrictEqual({ count: 0, messages: [] });
    expect(await pendingSeqs(user)).toEqual([]);
  });

  it("upTo: 0 removes nothing", async () => {
    const user = await userWithMessages(2);
    expect(await receiptAnswer(user, { upTo: 0 })).toStrictEqual({ unread: 2 });
    expect(await pendingSeqs(user)).toEqual([1, 2]);
  });

  it("unknown seqs are ignored: no error, nothing removed", async () => {
    const user = await userWithMessages(2);
    expect(await receiptAnswer(user, { seqs: [7, 99, 100000] })).toStrictEqual({ unread: 2 });
    expect(await unreadSeqs(user)).toEqual([1, 2]);
    expect(await pendingSeqs(user)).toEqual([1, 2]);
  });

  it("known and unknown seqs mixed: only the known ones are removed", async () => {
    const user = await userWithMessages(3);
    expect(await receiptAnswer(user, { seqs: [2, 42] })).toStrictEqual({ unread: 2 });
    expect(await unreadSeqs(user)).toEqual([1, 3]);
    expect(await pendingSeqs(user)).toEqual([1, 3]);
  });

  it("the same seq listed twice counts once", async () => {
    const user = await userWithMessages(3);
    expect(await receiptAnswer(user, { seqs: [2, 2] })).toStrictEqual({ unread: 2 });
    expect((await userView(user)).pending.count).toBe(2);
  });

  it("reading the same seqs again is harmless", async () => {
    const user = await userWithMessages(3);
    expect(await receiptAnswer(user, { seqs: [1] })).toStrictEqual({ unread: 2 });
    expect(await receiptAnswer(user, { seqs: [1] })).toStrictEqual({ unread: 2 });
    expect((await userView(user)).pending.count).toBe(2);
  });

  it("reading messages that were already acknowledged removes them from the unread set only", async () => {
    const user = await userWithMessages(3);
    await ackUpTo(user, 3);
    expect(await receiptAnswer(user, { seqs: [2] })).toStrictEqual({ unread: 2 });
    expect((await userView(user)).pending.count).toBe(0);
    expect(await unreadSeqs(user)).toEqual([1, 3]);
  });

  it("an unused user answers {unread: 0}", async () => {
    expect(await receiptAnswer(unique("u"), { seqs: [1] })).toStrictEqual({ unread: 0 });
  });

  it("seq is never reused after reading every message", async () => {
    const user = await userWithMessages(2);
    await markRead(user, { upTo: 2 });
    expect((await publish(user)).seq).toBe(3);
  });

  it("seqs and upTo together are a 400 problem and change nothing", async () => {
    const user = await userWithMessages(2);
    const problem = await expectProblem(await markRead(user, { seqs: [1], upTo: 2 }), 400);
    expect(problem.errors?.length).toBeGreaterThan(0);
    expect((await unreadOf(user)).count).toBe(2);
    expect(await pendingSeqs(user)).toEqual([1, 2]);
  });

  it("neither seqs nor upTo is a 400 problem", async () => {
    await expectProblem(await markRead(unique("u"), {}), 400);
  });

  it('"upTo": "3" (a string) is a 400 problem naming upTo, and changes nothing', async () => {
    const user = await userWithMessages(3);
    await expectInvalid(await markRead(user, { upTo: "3" }), "upTo");
    expect((await unreadOf(user)).count).toBe(3);
  });

  it("an empty seqs list and one of 501 seqs are 400 problems", async () => {
    const user = await userWithMessages(1);
    for (const seqs of [[], range(1, 501)]) {
      await expectInvalid(await markRead(user, { seqs }), "seqs");
    }
    expect((await unreadOf(user)).count).toBe(1);
  });

  it("500 seqs are accepted", async () => {
    const user = await userWithMessages(2);
    expect(await receiptAnswer(user, { seqs: range(1, 500) })).toStrictEqual({ unread: 0 });
  });

  it("a receipt of 500 seqs binds at most 100 parameters per SQL statement (the Durable Object limit)", async () => {
    // Production SQLite-backed Durable Objects reject a statement with more than 100
    // bound parameters; the local runtime does not, so the object's SQL is watched.
    const user = await userWithMessages(3);
    const stub = userStub(user);
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
      expect(await receiptAnswer(user, { seqs: Array.from({ length: 500 }, (_, i) => 500 - i) })).toStrictEqual({ unread: 0 });
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
    expect(unread.messages).toStrictEqual(published.map(({ evicted: _evicted, pushed: _pushed, replaced: _replaced, ...message }) => message));
  });

  it("returns at most limit messages, the oldest, while count is the whole set", async () => {
    const user = await userWithMessages(5);
    const unread = await unreadOf(user, "?limit=2");
    expect(unread.count).toBe(5);
    expect(unread.messages.map((m) => m.seq)).toEqual([1, 2]);
  });

  it("without limit, at most 100 messages are returned", async () => {
    const user = await userWithMessages(101);
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
    const user = await userWithMessages(2);
    const first = await unreadOf(user);
    expect(await unreadOf(user)).toStrictEqual(first);
  });

  it("a message stays unread after it was received and acknowledged", async () => {
    const user = await userWithMessages(2);
    await poll(user, "?consume=true");
    expect(await unreadSeqs(user)).toEqual([1, 2]);
  });

  it("limit=0 is a 400 problem naming limit", async () => {
    await expectInvalid(await client(unique("u"), "/v1/inbox/unread?limit=0"), "limit");
  });
});
