// GET /v1/inbox and POST /v1/inbox/ack: the answer's shape, the pending set's
// order, at-least-once (ack) and at-most-once (consume), limit/more, and seq
// numbering after the pending set was emptied.
import { describe, expect, it } from "vitest";
import {
  ackUpTo,
  client,
  EMPTY_ANSWER,
  expectInvalid,
  poll,
  publish,
  unique,
  unreadOf,
  userView,
  userWithMessages,
  type InboxAnswer,
} from "./helpers";

const ANSWER_FIELDS = ["ack", "announcements", "cursor", "dropped", "epoch", "gap", "more", "personal", "region", "reset"];

const seqsOf = (answer: InboxAnswer) => answer.personal.map((m) => m.seq);

describe("GET /v1/inbox: the answer", () => {
  it("an unused user reads as an empty 200 answer", async () => {
    const res = await client(unique("u"), "/v1/inbox");
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await res.json()).toStrictEqual(EMPTY_ANSWER);
  });

  it("every field is present in an answer that carries messages", async () => {
    const user = unique("u");
    await publish(user);
    const answer = await poll(user);
    expect(Object.keys(answer).sort()).toEqual(ANSWER_FIELDS);
    expect(answer).toMatchObject({ region: null, cursor: null, epoch: null, ack: 1, dropped: 0, gap: false, reset: false, more: false });
    expect(answer.announcements).toEqual([]);
  });

  it("every field is present in an answer with a region", async () => {
    const user = unique("u");
    const region = unique("r");
    await publish(user);
    const answer = await poll(user, `?region=${region}`);
    expect(Object.keys(answer).sort()).toEqual(ANSWER_FIELDS);
    expect(answer.region).toBe(region);
    expect(answer.cursor).toBe(0);
    expect(typeof answer.epoch).toBe("string");
  });

  it("lists personal messages oldest first", async () => {
    const user = await userWithMessages(5);
    const answer = await poll(user);
    expect(answer.personal.map((m) => [m.seq, m.body])).toEqual([
      [1, "m1"],
      [2, "m2"],
      [3, "m3"],
      [4, "m4"],
      [5, "m5"],
    ]);
  });
});

describe("at-least-once: pending until acknowledged", () => {
  it("messages stay pending across polls until acknowledged", async () => {
    const user = await userWithMessages(3);
    const first = await poll(user);
    const second = await poll(user);
    expect(seqsOf(first)).toEqual([1, 2, 3]);
    expect(second.personal).toStrictEqual(first.personal);
    expect((await userView(user)).pending.count).toBe(3);
  });

  it("ack= removes messages with seq ≤ ack before the answer is built", async () => {
    const user = await userWithMessages(4);
    const answer = await poll(user, "?ack=2");
    expect(seqsOf(answer)).toEqual([3, 4]);
    expect(answer.ack).toBe(4);
    expect((await userView(user)).pending).toMatchObject({ count: 2, oldestSeq: 3, newestSeq: 4 });
  });

  it("ack= of the answer's own ack empties what was received", async () => {
    const user = await userWithMessages(2);
    const first = await poll(user);
    expect(first.ack).toBe(2);
    const second = await poll(user, `?ack=${first.ack}`);
    expect(second.personal).toEqual([]);
    expect(second.ack).toBeNull();
  });

  it("ack=0 removes nothing", async () => {
    const user = await userWithMessages(2);
    expect(seqsOf(await poll(user, "?ack=0"))).toEqual([1, 2]);
  });

  it("a message published after the ack'd ones stays pending", async () => {
    const user = await userWithMessages(2);
    await poll(user, "?ack=2");
    await publish(user, { body: "later" });
    const answer = await poll(user, "?ack=2");
    expect(answer.personal.map((m) => [m.seq, m.body])).toEqual([[3, "later"]]);
  });

  it("POST /v1/inbox/ack {upTo} removes seq ≤ upTo and answers {pending: n}", async () => {
    const user = await userWithMessages(5);
    const res = await ackUpTo(user, 3);
    expect(res.status).toBe(200);
    expect(await res.json()).toStrictEqual({ pending: 2 });
    expect(seqsOf(await poll(user))).toEqual([4, 5]);
  });

  it("POST /v1/inbox/ack above the newest seq empties the pending set", async () => {
    const user = await userWithMessages(3);
    expect(await (await ackUpTo(user, 1000)).json()).toStrictEqual({ pending: 0 });
    expect((await poll(user)).personal).toEqual([]);
  });

  it("POST /v1/inbox/ack repeated is harmless", async () => {
    const user = await userWithMessages(3);
    expect(await (await ackUpTo(user, 2)).json()).toStrictEqual({ pending: 1 });
    expect(await (await ackUpTo(user, 2)).json()).toStrictEqual({ pending: 1 });
    expect(await (await ackUpTo(user, 1)).json()).toStrictEqual({ pending: 1 });
  });

  it("POST /v1/inbox/ack for an unused user answers {pending: 0}", async () => {
    const res = await ackUpTo(unique("u"), 5);
    expect(res.status).toBe(200);
    expect(await res.json()).toStrictEqual({ pending: 0 });
  });

  it("acknowledging does not mark messages read: the unread set keeps them", async () => {
    const user = await userWithMessages(3);
    await ackUpTo(user, 3);
    await poll(user, "?ack=3");
    const unread = await unreadOf(user);
    expect(unread.count).toBe(3);
    expect(unread.messages.map((m) => m.seq)).toEqual([1, 2, 3]);
  });

  it('POST /v1/inbox/ack with "upTo": "3" (a string) is a 400 problem and removes nothing', async () => {
    const user = await userWithMessages(3);
    await expectInvalid(await ackUpTo(user, "3"), "upTo");
    expect((await userView(user)).pending.count).toBe(3);
  });
});

describe("at-most-once: consume=true", () => {
  it("consume=true deletes the returned messages right after sending them", async () => {
    const user = await userWithMessages(3);
    const consumed = await poll(user, "?consume=true");
    expect(seqsOf(consumed)).toEqual([1, 2, 3]);
    expect(consumed.ack).toBe(3);
    expect((await poll(user)).personal).toEqual([]);
    expect((await userView(user)).pending.count).toBe(0);
  });

  it("consume=true with a limit deletes only the messages it returned", async () => {
    const user = await userWithMessages(5);
    const consumed = await poll(user, "?consume=true&limit=2");
    expect(seqsOf(consumed)).toEqual([1, 2]);
    expect(consumed.more).toBe(true);
    expect(seqsOf(await poll(user))).toEqual([3, 4, 5]);
  });

  it("consume=false keeps the messages pending", async () => {
    const user = await userWithMessages(2);
    expect(seqsOf(await poll(user, "?consume=false"))).toEqual([1, 2]);
    expect(seqsOf(await poll(user))).toEqual([1, 2]);
  });

  it("consume=true leaves the unread set alone", async () => {
    const user = await userWithMessages(2);
    await poll(user, "?consume=true");
    expect((await userView(user)).unread.count).toBe(2);
  });
});

describe("limit, more and ack", () => {
  it("limit lets at most that many through, with more: true when more are left", async () => {
    const user = await userWithMessages(5);
    const answer = await poll(user, "?limit=2");
    expect(seqsOf(answer)).toEqual([1, 2]);
    expect(answer.more).toBe(true);
    expect(answer.ack).toBe(2);
  });

  it("more is false when exactly limit items were left", async () => {
    const user = await userWithMessages(3);
    const answer = await poll(user, "?limit=3");
    expect(seqsOf(answer)).toEqual([1, 2, 3]);
    expect(answer.more).toBe(false);
  });

  it("more is false when fewer than limit items were left", async () => {
    const user = await userWithMessages(2);
    expect((await poll(user, "?limit=3")).more).toBe(false);
  });

  it("without limit, 100 items pass and exactly 100 left means more: false", async () => {
    const user = await userWithMessages(100);
    const answer = await poll(user);
    expect(answer.personal).toHaveLength(100);
    expect(answer.more).toBe(false);
  });

  it("paging with limit and ack walks the whole pending set once", async () => {
    const user = await userWithMessages(5);
    const pages: number[][] = [];
    let query = "?limit=2";
    for (;;) {
      const answer = await poll(user, query);
      pages.push(seqsOf(answer));
      if (!answer.more) break;
      query = `?limit=2&ack=${answer.ack}`;
    }
    expect(pages).toEqual([[1, 2], [3, 4], [5]]);
  });

  it("ack is the highest seq returned", async () => {
    const user = await userWithMessages(4);
    expect((await poll(user)).ack).toBe(4);
    expect((await poll(user, "?limit=3")).ack).toBe(3);
  });

  it("ack is null when no personal message is returned", async () => {
    const user = await userWithMessages(2);
    expect((await poll(user, "?ack=2")).ack).toBeNull();
  });

  it("limit=0 and limit=501 are 400 problems naming limit", async () => {
    const user = unique("u");
    for (const limit of ["0", "501", "abc"]) {
      await expectInvalid(await client(user, `/v1/inbox?limit=${limit}`), "limit");
    }
  });
});

describe("seq after the pending set was emptied", () => {
  it("seq is never reused after ack emptied the pending set", async () => {
    const user = await userWithMessages(3);
    expect(await (await ackUpTo(user, 3)).json()).toStrictEqual({ pending: 0 });
    expect((await publish(user)).seq).toBe(4);
    expect(seqsOf(await poll(user))).toEqual([4]);
  });

  it("seq is never reused after consume emptied the pending set", async () => {
    const user = await userWithMessages(2);
    await poll(user, "?consume=true");
    expect((await publish(user)).seq).toBe(3);
  });
});
