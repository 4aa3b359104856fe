// One user's object under concurrent publishes, and across an eviction (the
// instance torn down, its memory lost, its storage kept).
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  ackUpTo,
  admin,
  aheadOfNow,
  announce,
  client,
  evictUser,
  freezeTime,
  markRead,
  messagesPath,
  PENDING_TTL,
  poll,
  publish,
  range,
  runUserAlarm,
  setRegion,
  unique,
  unreadOf,
  userView,
  userWithMessages,
} from "./helpers";

afterEach(() => {
  vi.useRealTimers();
});

describe("concurrent publishes to one user", () => {
  it("get distinct, consecutive seqs", async () => {
    const user = unique("u");
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => publish(user, { body: `c${i}` })));
    expect(answers.map((a) => a.seq).sort((a, b) => a - b)).toEqual(range(1, 50));
    expect(answers.every((a) => a.evicted === 0)).toBe(true);
  });

  it("store each message under the seq its publish was answered with, oldest first", async () => {
    const user = unique("u");
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => publish(user, { body: `c${i}` })));
    const bodyBySeq = new Map(answers.map((a, i) => [a.seq, `c${i}`]));
    const { personal, more } = await poll(user, "?limit=500");
    expect(personal.map((m) => m.seq)).toEqual(range(1, 50));
    expect(personal.map((m) => m.body)).toEqual(personal.map((m) => bodyBySeq.get(m.seq)));
    expect(more).toBe(false);
    // createdAt never goes backwards along seq.
    const times = personal.map((m) => Date.parse(m.createdAt));
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect((await unreadOf(user)).count).toBe(50);
  });

  it("respect the pending limit: 120 at once leave the newest 100, 20 evicted in all", async () => {
    const user = unique("u");
    const answers = await Promise.all(Array.from({ length: 120 }, (_, i) => publish(user, { body: `c${i}` })));
    expect(answers.map((a) => a.seq).sort((a, b) => a - b)).toEqual(range(1, 120));
    expect(answers.reduce((sum, a) => sum + a.evicted, 0)).toBe(20);
    // Exactly the publishes of seq 101..120 each evicted one.
    expect(answers.filter((a) => a.evicted === 1).map((a) => a.seq).sort((a, b) => a - b)).toEqual(range(101, 120));

    const { personal, dropped } = await poll(user, "?limit=500");
    expect(personal.map((m) => m.seq)).toEqual(range(21, 120));
    expect(dropped).toBe(20);
    expect((await userView(user)).pending).toMatchObject({ count: 100, oldestSeq: 21, newestSeq: 120 });
    expect((await unreadOf(user)).count).toBe(120);
  });

  it("with the same Idempotency-Key and body store one message and all get its answer", async () => {
    const user = unique("u");
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        admin(messagesPath(user), {
          method: "POST",
          json: { body: "once" },
          headers: { "Idempotency-Key": "same" },
        }),
      ),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(201));
    const bodies = await Promise.all(responses.map((r) => r.json()));
    for (const body of bodies) expect(body).toStrictEqual(bodies[0]);
    expect((bodies[0] as { seq: number }).seq).toBe(1);
    expect((await userView(user)).pending.count).toBe(1);
    expect((await unreadOf(user)).count).toBe(1);
  });

  it("interleaved with acks keep the count right", async () => {
    const user = await userWithMessages(10);
    await Promise.all([
      ...Array.from({ length: 10 }, () => publish(user)),
      ackUpTo(user, 5),
    ]);
    const view = await userView(user);
    expect(view.pending.count).toBe(15);
    expect(view.pending.newestSeq).toBe(20);
    expect((await poll(user, "?limit=500")).personal).toHaveLength(15);
  });
});

describe("after an eviction", () => {
  it("the pending set survives", async () => {
    const user = await userWithMessages(3);
    await evictUser(user);
    const { personal } = await poll(user);
    expect(personal.map((m) => [m.seq, m.body])).toEqual([
      [1, "m1"],
      [2, "m2"],
      [3, "m3"],
    ]);
    expect((await userView(user)).pending).toMatchObject({ count: 3, oldestSeq: 1, newestSeq: 3 });
  });

  it("the unread set survives, with the effect of read receipts", async () => {
    const user = await userWithMessages(3);
    await markRead(user, { seqs: [2] });
    await evictUser(user);
    const unread = await unreadOf(user);
    expect(unread.count).toBe(2);
    expect(unread.messages.map((m) => m.seq)).toEqual([1, 3]);
    expect((await poll(user)).personal.map((m) => m.seq)).toEqual([1, 3]);
  });

  it("the seq counter survives, also when the sets are empty", async () => {
    const user = await userWithMessages(4);
    await markRead(user, { upTo: 4 });
    await evictUser(user);
    expect((await publish(user)).seq).toBe(5);
  });

  it("dropped survives and is still reported once", async () => {
    const user = await userWithMessages(102);
    await evictUser(user);
    expect((await poll(user)).dropped).toBe(2);
    await evictUser(user);
    expect((await poll(user)).dropped).toBe(0);
  });

  it("the stored announcement cursor survives", async () => {
    const user = unique("u");
    const region = unique("r");
    await announce([region], { body: "before" });
    await publish(user);
    const first = await poll(user, "", { region });
    expect(first.cursor).toBe(1);
    expect(first.announcements).toEqual([]);
    await announce([region], { body: "a2" });
    await announce([region], { body: "a3" });

    await evictUser(user);
    expect((await userView(user)).cursors).toStrictEqual({ [region]: 1 });
    const next = await poll(user, "", { region });
    expect(next.announcements.map((a) => [a.id, a.body])).toEqual([
      [2, "a2"],
      [3, "a3"],
    ]);
    expect(next.cursor).toBe(3);
    expect(next.epoch).toBe(first.epoch);
  });

  it("the user's stored region survives", async () => {
    const user = unique("u");
    const region = unique("r");
    await setRegion(user, region);
    await evictUser(user);
    expect((await poll(user)).region).toBe(region);
  });

  it("an Idempotency-Key survives: the same body answers the first result, another body 422", async () => {
    const user = unique("u");
    const send = (body: string) =>
      admin(messagesPath(user), { method: "POST", json: { body }, headers: { "Idempotency-Key": "k" } });
    const first = await send("once");
    expect(first.status).toBe(201);
    const firstBody = await first.json();

    await evictUser(user);
    const again = await send("once");
    expect(again.status).toBe(201);
    expect(await again.json()).toStrictEqual(firstBody);
    expect((await userView(user)).pending.count).toBe(1);

    await evictUser(user);
    expect((await send("other")).status).toBe(422);
  });

  it("the expiry deadline survives: the alarm still clears the pending set", async () => {
    const t0 = freezeTime(aheadOfNow());
    const user = unique("u");
    await publish(user);
    await evictUser(user);
    const view = await userView(user);
    expect(view.pending.expiresAt).toBe(new Date(t0 + PENDING_TTL).toISOString());

    vi.setSystemTime(t0 + PENDING_TTL);
    await evictUser(user);
    expect(await runUserAlarm(user)).toBe(true);
    expect((await userView(user)).pending.count).toBe(0);
    expect((await unreadOf(user)).count).toBe(1);
  });

  it("a poll answer after eviction is identical to the one before", async () => {
    const user = unique("u");
    const region = unique("r");
    await announce([region]);
    await publish(user, { title: "t", body: "b1", data: { x: [1, 2] } });
    await publish(user, { body: "b2" });
    const before = await client(user, "/v1/inbox", { region });
    expect(before.status).toBe(200);
    const beforeText = await before.text();

    await evictUser(user);
    const after = await client(user, "/v1/inbox", { region });
    expect(after.status).toBe(200);
    const afterText = await after.text();
    expect(JSON.parse(afterText)).toStrictEqual(JSON.parse(beforeText));
    expect(afterText).toBe(beforeText);
    expect((JSON.parse(afterText) as { personal: unknown[] }).personal).toHaveLength(2);
  });
});
