// POST /admin/v1/users/{userId}/messages: the answer, seq numbering, the message
// as stored, percent-decoding of the user, the pending and unread caps, and
// Idempotency-Key.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ackUpTo,
  admin,
  adminText,
  aheadOfNow,
  DAY,
  expectInvalid,
  expectProblem,
  freezeTime,
  messagesPath,
  poll,
  publish,
  publishMany,
  unique,
  unreadOf,
  userView,
  userWithMessages,
  type PublishAnswer,
} from "./helpers";

/** A publish with an Idempotency-Key; the raw Response, so status and body can both be checked. */
function publishWithKey(userId: string, key: string, message: Record<string, unknown>) {
  return admin(messagesPath(userId), { method: "POST", json: message, headers: { "Idempotency-Key": key } });
}

/** The same with the body as exact JSON text. */
function publishTextWithKey(userId: string, key: string, text: string) {
  return adminText(messagesPath(userId), "POST", text, { "Idempotency-Key": key });
}

afterEach(() => {
  vi.useRealTimers();
});

describe("the publish answer", () => {
  it("answers 201 with exactly seq, createdAt, evicted, pushed and replaced", async () => {
    const at = freezeTime(aheadOfNow());
    const res = await admin(messagesPath(unique("u")), { method: "POST", json: { body: "hello" } });
    expect(res.status).toBe(201);
    expect(res.headers.get("Content-Type")).toMatch(/^application\/json/);
    expect(await res.json()).toStrictEqual({ seq: 1, createdAt: new Date(at).toISOString(), evicted: 0, pushed: 0, replaced: null });
  });

  it("numbers a user's first message 1, then 2, 3, ...", async () => {
    const user = unique("u");
    const answers = await publishMany(user, 4);
    expect(answers.map((a) => a.seq)).toEqual([1, 2, 3, 4]);
    expect(answers.map((a) => a.evicted)).toEqual([0, 0, 0, 0]);
  });

  it("numbers each user separately", async () => {
    const first = unique("u");
    const second = unique("u");
    await publishMany(first, 3);
    expect((await publish(second)).seq).toBe(1);
    expect((await publish(first)).seq).toBe(4);
  });

  it("the createdAt of the answer is the createdAt of the stored message", async () => {
    const user = unique("u");
    const answer = await publish(user, { body: "when" });
    const { personal } = await poll(user);
    expect(personal).toHaveLength(1);
    expect(personal[0]!.createdAt).toBe(answer.createdAt);
    expect(new Date(answer.createdAt).toISOString()).toBe(answer.createdAt);
  });
});

describe("the message as stored", () => {
  it("comes back exactly as published: title, body and data", async () => {
    const user = unique("u");
    const message = {
      title: "Ünïcödé ✓ — \"quoted\" 🎉",
      body: "line one\nline two\t<b>&amp;</b> \\ \u2028 😀",
      data: {
        orderId: "A-17",
        amount: 12.5,
        count: 0,
        negative: -3,
        flag: false,
        nothing: null,
        list: [1, "two", { three: 3 }, [], null],
        nested: { deeper: { deepest: "yes" }, empty: {} },
        "key with spaces": "ok",
      },
    };
    const answer = await publish(user, message);
    const { personal } = await poll(user);
    expect(personal).toStrictEqual([{ seq: answer.seq, ...message, createdAt: answer.createdAt }]);
    const unread = await unreadOf(user);
    expect(unread.messages).toStrictEqual([{ seq: answer.seq, ...message, createdAt: answer.createdAt }]);
  });

  it("a title of exactly 256 characters is kept whole", async () => {
    const user = unique("u");
    const title = "é".repeat(255) + "x";
    await publish(user, { title, body: "b" });
    const { personal } = await poll(user);
    expect(personal[0]!.title).toBe(title);
  });

  it.each([
    ["absent title and data", { body: "only a body" }],
    ["title and data sent as null", { title: null, body: "b", data: null }],
  ])("%s come back omitted or null", async (_what, published) => {
    const user = unique("u");
    const answer = await publish(user, published);
    const [message] = (await poll(user)).personal as Record<string, unknown>[];
    expect(message!.title ?? null).toBeNull();
    expect(message!.data ?? null).toBeNull();
    const { title: _title, data: _data, ...rest } = message!;
    expect(rest).toStrictEqual({ seq: answer.seq, body: published.body, createdAt: answer.createdAt });
  });

  it("a lone surrogate in the body comes back as published", async () => {
    const user = unique("u");
    const body = "half \ud83d of a pair";
    await publish(user, { body });
    const { personal } = await poll(user);
    expect(personal[0]!.body).toBe(body);
  });

  it("data keys named like Object.prototype members (constructor, prototype) come back as published", async () => {
    // `data` is "any JSON object"; these are ordinary JSON keys.
    const user = unique("u");
    const data = { constructor: "c", prototype: { p: 1 }, toString: "t", kept: true };
    await publish(user, { body: "b", data });
    const { personal } = await poll(user);
    expect(personal[0]!.data).toStrictEqual(data);
  });
});

describe("the user in the path", () => {
  it("a%3Ab%40c names the same user as a:b@c", async () => {
    const user = `a:b@c-${unique("x")}`;
    const encoded = encodeURIComponent(user);
    expect(encoded).toContain("%3A");
    expect(encoded).toContain("%40");

    const plainRes = await admin(`/admin/v1/users/${user}/messages`, { method: "POST", json: { body: "plain" } });
    expect(plainRes.status).toBe(201);
    const encodedRes = await admin(`/admin/v1/users/${encoded}/messages`, { method: "POST", json: { body: "encoded" } });
    expect(encodedRes.status).toBe(201);
    expect(((await plainRes.json()) as PublishAnswer).seq).toBe(1);
    expect(((await encodedRes.json()) as PublishAnswer).seq).toBe(2);

    // The client's token names the decoded user; it sees both.
    const { personal } = await poll(user);
    expect(personal.map((m) => [m.seq, m.body])).toEqual([
      [1, "plain"],
      [2, "encoded"],
    ]);
    const viewPlain = await (await admin(`/admin/v1/users/${user}`)).json();
    const viewEncoded = await (await admin(`/admin/v1/users/${encoded}`)).json();
    expect(viewEncoded).toStrictEqual(viewPlain);
    expect((viewEncoded as { userId: string; pending: { count: number } }).userId).toBe(user);
    expect((viewEncoded as { userId: string; pending: { count: number } }).pending.count).toBe(2);
  });
});

describe("the pending limit (100)", () => {
  it("publishing the 101st message evicts the oldest, reported as evicted: 1", async () => {
    const user = unique("u");
    const first100 = await publishMany(user, 100);
    expect(first100.every((a) => a.evicted === 0)).toBe(true);
    const answer = await publish(user, { body: "m101" });
    expect(answer).toMatchObject({ seq: 101, evicted: 1 });

    const { personal, more } = await poll(user, "?limit=500");
    expect(personal).toHaveLength(100);
    expect(personal[0]).toMatchObject({ seq: 2, body: "m2" });
    expect(personal.at(-1)).toMatchObject({ seq: 101, body: "m101" });
    expect(more).toBe(false);
    const view = await userView(user);
    expect(view.pending).toMatchObject({ count: 100, oldestSeq: 2, newestSeq: 101 });
  });

  it("each publish beyond the limit evicts exactly one more", async () => {
    const user = await userWithMessages(100);
    const extra = [await publish(user), await publish(user), await publish(user)];
    expect(extra.map((a) => [a.seq, a.evicted])).toEqual([
      [101, 1],
      [102, 1],
      [103, 1],
    ]);
    expect((await userView(user)).pending).toMatchObject({ count: 100, oldestSeq: 4, newestSeq: 103 });
  });

  it("an eviction is reported once as dropped in the next poll answer, then dropped is 0", async () => {
    const user = await userWithMessages(101);
    expect((await poll(user)).dropped).toBe(1);
    expect((await poll(user)).dropped).toBe(0);
  });

  it("dropped adds up every eviction since the last answer", async () => {
    const user = await userWithMessages(100);
    expect((await poll(user)).dropped).toBe(0);
    await publishMany(user, 3);
    expect((await poll(user)).dropped).toBe(3);
    await publish(user);
    expect((await poll(user)).dropped).toBe(1);
    expect((await poll(user)).dropped).toBe(0);
  });

  it("messages removed by ack leave room: no eviction below the limit", async () => {
    const user = await userWithMessages(100);
    const ack = await ackUpTo(user, 1);
    expect(await ack.json()).toEqual({ pending: 99 });
    expect(await publish(user)).toMatchObject({ seq: 101, evicted: 0 });
    expect((await userView(user)).pending).toMatchObject({ count: 100, oldestSeq: 2, newestSeq: 101 });
    expect((await poll(user)).dropped).toBe(0);
  });
});

describe("the unread limit (1000)", () => {
  it("publishing the 1001st message evicts the oldest unread message", async () => {
    const user = unique("u");
    // The first 1000 in parallel batches (order among them does not matter here).
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 100 }, () => publish(user, { body: "bulk" })));
    }
    const before = await unreadOf(user, "?limit=1");
    expect(before.count).toBe(1000);
    expect(before.messages.map((m) => m.seq)).toEqual([1]);

    const answer = await publish(user, { body: "last" });
    expect(answer.seq).toBe(1001);
    // `evicted` counts the pending set only: it was full (100) already.
    expect(answer.evicted).toBe(1);

    const after = await unreadOf(user);
    expect(after.count).toBe(1000);
    expect(after.messages[0]!.seq).toBe(2);
    const view = await userView(user);
    expect(view.unread.count).toBe(1000);
    expect(view.pending).toMatchObject({ count: 100, oldestSeq: 902, newestSeq: 1001 });
  }, 60_000);
});

describe("Idempotency-Key", () => {
  it("the same key with the same body answers the first result again and stores nothing", async () => {
    const user = unique("u");
    const message = { title: "t", body: "once", data: { n: 1 } };
    const first = await publishWithKey(user, "key-1", message);
    expect(first.status).toBe(201);
    const firstBody = (await first.json()) as PublishAnswer;
    expect(firstBody.seq).toBe(1);

    const again = await publishWithKey(user, "key-1", message);
    expect(again.status).toBe(201);
    expect(await again.json()).toStrictEqual(firstBody);

    const view = await userView(user);
    expect(view.pending.count).toBe(1);
    expect(view.unread.count).toBe(1);
    expect((await poll(user)).personal.map((m) => m.seq)).toEqual([1]);
    // The repeat did not use up a seq either.
    expect((await publish(user)).seq).toBe(2);
  });

  it("a body with its keys in another order counts as the same body", async () => {
    const user = unique("u");
    const first = await publishWithKey(user, "k", { title: "t", body: "b", data: { a: 1, b: { c: 2, d: [1, { e: 1, f: 2 }] } } });
    expect(first.status).toBe(201);
    const firstBody = await first.json();
    const again = await publishWithKey(user, "k", { data: { b: { d: [1, { f: 2, e: 1 }], c: 2 }, a: 1 }, body: "b", title: "t" });
    expect(again.status).toBe(201);
    expect(await again.json()).toStrictEqual(firstBody);
    expect((await userView(user)).pending.count).toBe(1);
  });

  // "Compared as a JSON value": what is compared is the content as it will be stored.
  it.each([
    [
      "keys in another order and other spellings of the same values",
      '{"title":"t","body":"b","data":{"n":1,"list":[100,"é"]}}',
      '{"data":{"list":[1E2,"\\u00e9"],"n":1.0},"body":"b","title":"t"}',
    ],
    ["title and data given as null, which store as absent", '{"body":"b"}', '{"title":null,"body":"b","data":null}'],
  ])("a body with %s counts as the same body", async (_what, first, repeat) => {
    const user = unique("u");
    const firstAnswer = await (await publishTextWithKey(user, "k", first)).json();
    const again = await publishTextWithKey(user, "k", repeat);
    expect(again.status).toBe(201);
    expect(await again.json()).toStrictEqual(firstAnswer);
    expect((await userView(user)).pending.count).toBe(1);
  });

  it.each([
    ["1 and 1.0000000000000002", '{"n":1}', '{"n":1.0000000000000002}'],
    ["a number and a string", '{"n":1}', '{"n":"1"}'],
    ["an array and an object with index keys", '{"a":[1,2]}', '{"a":{"0":1,"1":2}}'],
    ["null and an empty object", '{"a":null}', '{"a":{}}'],
    ['"a" and "A"', '{"a":1}', '{"A":1}'],
  ])("bodies whose data would store differently (%s) never count as the same (422)", async (_what, first, second) => {
    const user = unique("u");
    expect((await publishTextWithKey(user, "k", `{"body":"b","data":${first}}`)).status).toBe(201);
    expect((await publishTextWithKey(user, "k", `{"body":"b","data":${second}}`)).status).toBe(422);
    expect((await userView(user)).pending.count).toBe(1);
  });

  it("data and no data, or an empty title and none, are different bodies (422)", async () => {
    const user = unique("u");
    expect((await publishTextWithKey(user, "k", '{"body":"b"}')).status).toBe(201);
    expect((await publishTextWithKey(user, "k", '{"body":"b","data":{}}')).status).toBe(422);
    expect((await publishTextWithKey(user, "k", '{"body":"b","title":""}')).status).toBe(422);
  });

  it("a number that would store as null never matches a stored null: it is refused (400) and the key keeps its body", async () => {
    const user = unique("u");
    const first = await publishTextWithKey(user, "k", '{"body":"b","data":{"n":null}}');
    const firstAnswer = await first.json();
    for (const number of ["1e400", "2e400"]) {
      expect((await publishTextWithKey(user, "k", `{"body":"b","data":{"n":${number}}}`)).status).toBe(400);
    }
    expect(await (await publishTextWithKey(user, "k", '{"body":"b","data":{"n":null}}')).json()).toStrictEqual(firstAnswer);
    expect((await userView(user)).pending.count).toBe(1);
  });

  it("the same key with a different body answers a 422 problem and stores nothing", async () => {
    const user = unique("u");
    const first = await publishWithKey(user, "k", { body: "original" });
    const firstBody = await first.json();

    const conflict = await publishWithKey(user, "k", { body: "changed" });
    await expectProblem(conflict, 422);

    const view = await userView(user);
    expect(view.pending.count).toBe(1);
    expect(view.unread.count).toBe(1);
    expect((await poll(user)).personal.map((m) => m.body)).toEqual(["original"]);
    // The key still belongs to the first body.
    const repeat = await publishWithKey(user, "k", { body: "original" });
    expect(repeat.status).toBe(201);
    expect(await repeat.json()).toStrictEqual(firstBody);
  });

  it("an array in another order is a different body (422)", async () => {
    const user = unique("u");
    expect((await publishWithKey(user, "k", { body: "b", data: { list: [1, 2] } })).status).toBe(201);
    const conflict = await publishWithKey(user, "k", { body: "b", data: { list: [2, 1] } });
    expect(conflict.status).toBe(422);
    expect((await userView(user)).pending.count).toBe(1);
  });

  it("the same key for another user is independent", async () => {
    const alice = unique("u");
    const bob = unique("u");
    await publish(alice);
    const forAlice = await publishWithKey(alice, "shared-key", { body: "to alice" });
    expect(((await forAlice.json()) as PublishAnswer).seq).toBe(2);

    const sameBody = await publishWithKey(bob, "shared-key", { body: "to alice" });
    expect(sameBody.status).toBe(201);
    expect(((await sameBody.json()) as PublishAnswer).seq).toBe(1);

    const carol = unique("u");
    const otherBody = await publishWithKey(carol, "shared-key", { body: "to carol" });
    expect(otherBody.status).toBe(201);
    expect(((await otherBody.json()) as PublishAnswer).seq).toBe(1);

    expect((await poll(bob)).personal.map((m) => m.body)).toEqual(["to alice"]);
    expect((await poll(carol)).personal.map((m) => m.body)).toEqual(["to carol"]);
    expect((await userView(alice)).pending.count).toBe(2);
  });

  it("bodies that differ only in a data key named constructor are different bodies (422)", async () => {
    const user = unique("u");
    expect((await publishWithKey(user, "k", { body: "b", data: { constructor: "one" } })).status).toBe(201);
    const conflict = await publishWithKey(user, "k", { body: "b", data: { constructor: "two" } });
    expect(conflict.status).toBe(422);
  });

  it("different keys with the same body each publish", async () => {
    const user = unique("u");
    const a = await publishWithKey(user, "k1", { body: "same" });
    const b = await publishWithKey(user, "k2", { body: "same" });
    expect(((await a.json()) as PublishAnswer).seq).toBe(1);
    expect(((await b.json()) as PublishAnswer).seq).toBe(2);
    expect((await userView(user)).pending.count).toBe(2);
  });

  it("a key is remembered for 24 h and then publishes anew", async () => {
    const user = unique("u");
    const t0 = freezeTime(aheadOfNow());
    const first = (await (await publishWithKey(user, "daily", { body: "b" })).json()) as PublishAnswer;
    expect(first).toStrictEqual({ seq: 1, createdAt: new Date(t0).toISOString(), evicted: 0, pushed: 0, replaced: null });

    vi.setSystemTime(t0 + DAY - 1000);
    const within = await publishWithKey(user, "daily", { body: "b" });
    expect(within.status).toBe(201);
    expect(await within.json()).toStrictEqual(first);
    expect((await userView(user)).pending.count).toBe(1);

    vi.setSystemTime(t0 + DAY + 1000);
    const later = await publishWithKey(user, "daily", { body: "b" });
    expect(later.status).toBe(201);
    expect(await later.json()).toStrictEqual({
      seq: 2,
      createdAt: new Date(t0 + DAY + 1000).toISOString(),
      evicted: 0,
      pushed: 0,
      replaced: null,
    });
    expect((await userView(user)).pending.count).toBe(2);

    // From then on the key answers its new result.
    const repeat = await publishWithKey(user, "daily", { body: "b" });
    expect(await repeat.json()).toStrictEqual({ seq: 2, createdAt: new Date(t0 + DAY + 1000).toISOString(), evicted: 0, pushed: 0, replaced: null });
  });

  it("after 24 h the same key with a different body publishes instead of answering 422", async () => {
    const user = unique("u");
    const t0 = freezeTime(aheadOfNow());
    expect((await publishWithKey(user, "k", { body: "first" })).status).toBe(201);
    vi.setSystemTime(t0 + DAY + 1000);
    const res = await publishWithKey(user, "k", { body: "second" });
    expect(res.status).toBe(201);
    expect(((await res.json()) as PublishAnswer).seq).toBe(2);
  });

  it("an Idempotency-Key of 255 characters is accepted, one of 256 is a 400 problem naming the header", async () => {
    const user = unique("u");
    expect((await publishWithKey(user, "k".repeat(255), { body: "b" })).status).toBe(201);
    await expectInvalid(await publishWithKey(user, "k".repeat(256), { body: "b" }), "idempotency-key");
    expect((await userView(user)).pending.count).toBe(1);
  });

  it("an empty Idempotency-Key is a 400 problem and stores nothing", async () => {
    const user = unique("u");
    await expectProblem(await publishWithKey(user, "", { body: "b" }), 400);
    expect((await userView(user)).pending.count).toBe(0);
  });
});
