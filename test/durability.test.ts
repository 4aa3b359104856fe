// One user's object under concurrent publishes, and across an eviction (the
// instance torn down, its memory lost, its storage kept).
import { env } from "cloudflare:workers";
import { evictDurableObject, runDurableObjectAlarm } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { admin, announce, client, poll, publish, unique, userView } from "./helpers";

const stubOf = (userId: string) => env.USERS.getByName(userId);

function evict(userId: string) {
  return evictDurableObject(stubOf(userId));
}

async function publishMany(userId: string, count: number) {
  for (let i = 1; i <= count; i++) await publish(userId, { body: `m${i}` });
}

async function unreadOf(userId: string) {
  return (await (await client(userId, "/v1/inbox/unread?limit=500")).json()) as {
    count: number;
    messages: { seq: number; body: string }[];
  };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("concurrent publishes to one user", () => {
  it("get distinct, consecutive seqs", async () => {
    const user = unique("u");
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => publish(user, { body: `c${i}` })));
    expect(answers.map((a) => a.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(answers.every((a) => a.evicted === 0)).toBe(true);
  });

  it("store each message under the seq its publish was answered with, oldest first", async () => {
    const user = unique("u");
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => publish(user, { body: `c${i}` })));
    const bodyBySeq = new Map(answers.map((a, i) => [a.seq, `c${i}`]));
    const { personal, more } = await poll(user, "?limit=500");
    expect(personal.map((m) => m.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
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
    expect(answers.map((a) => a.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 120 }, (_, i) => i + 1));
    expect(answers.reduce((sum, a) => sum + a.evicted, 0)).toBe(20);
    // Exactly the publishes of seq 101..120 each evicted one.
    expect(answers.filter((a) => a.evicted === 1).map((a) => a.seq).sort((a, b) => a - b)).toEqual(
      Array.from({ length: 20 }, (_, i) => i + 101),
    );

    const { personal, dropped } = await poll(user, "?limit=500");
    expect(personal.map((m) => m.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 21));
    expect(dropped).toBe(20);
    expect((await userView(user)).pending).toMatchObject({ count: 100, oldestSeq: 21, newestSeq: 120 });
    expect((await unreadOf(user)).count).toBe(120);
  });

  it("with the same Idempotency-Key and body store one message and all get its answer", async () => {
    const user = unique("u");
    const responses = await Promise.all(
      Array.from({ length: 10 }, () =>
        admin(`/admin/v1/users/${user}/messages`, {
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
    const user = unique("u");
    await publishMany(user, 10);
    await Promise.all([
      ...Array.from({ length: 10 }, () => publish(user)),
      client(user, "/v1/inbox/ack", { method: "POST", json: { upTo: 5 } }),
    ]);
    const view = await userView(user);
    expect(view.pending.count).toBe(15);
    expect(view.pending.newestSeq).toBe(20);
    expect((await poll(user, "?limit=500")).personal).toHaveLength(15);
  });
});

describe("after an eviction", () => {
  it("the pending set survives", async () => {
    const user = unique("u");
    await publishMany(user, 3);
    await evict(user);
    const { personal } = await poll(user);
    expect(personal.map((m) => [m.seq, m.body])).toEqual([
      [1, "m1"],
      [2, "m2"],
      [3, "m3"],
    ]);
    expect((await userView(user)).pending).toMatchObject({ count: 3, oldestSeq: 1, newestSeq: 3 });
  });

  it("the unread set survives, with the effect of read receipts", async () => {
    const user = unique("u");
    await publishMany(user, 3);
    await client(user, "/v1/inbox/read", { method: "POST", json: { seqs: [2] } });
    await evict(user);
    const unread = await unreadOf(user);
    expect(unread.count).toBe(2);
    expect(unread.messages.map((m) => m.seq)).toEqual([1, 3]);
    expect((await poll(user)).personal.map((m) => m.seq)).toEqual([1, 3]);
  });

  it("the seq counter survives, also when the sets are empty", async () => {
    const user = unique("u");
    await publishMany(user, 4);
    await client(user, "/v1/inbox/read", { method: "POST", json: { upTo: 4 } });
    await evict(user);
    expect((await publish(user)).seq).toBe(5);
  });

  it("dropped survives and is still reported once", async () => {
    const user = unique("u");
    await publishMany(user, 102);
    await evict(user);
    expect((await poll(user)).dropped).toBe(2);
    await evict(user);
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

    await evict(user);
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
    const put = await admin(`/admin/v1/users/${user}/region`, { method: "PUT", json: { region } });
    expect(put.status).toBe(200);
    await evict(user);
    expect((await poll(user)).region).toBe(region);
  });

  it("an Idempotency-Key survives: the same body answers the first result, another body 422", async () => {
    const user = unique("u");
    const send = (body: string) =>
      admin(`/admin/v1/users/${user}/messages`, { method: "POST", json: { body }, headers: { "Idempotency-Key": "k" } });
    const first = await send("once");
    expect(first.status).toBe(201);
    const firstBody = await first.json();

    await evict(user);
    const again = await send("once");
    expect(again.status).toBe(201);
    expect(await again.json()).toStrictEqual(firstBody);
    expect((await userView(user)).pending.count).toBe(1);

    await evict(user);
    expect((await send("other")).status).toBe(422);
  });

  it("the expiry deadline survives: the alarm still clears the pending set", async () => {
    const t0 = Math.ceil(Date.now() / 1000) * 1000 + 60_000;
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(t0);
    const user = unique("u");
    await publish(user);
    await evict(user);
    const view = await userView(user);
    expect(view.pending.expiresAt).toBe(new Date(t0 + 604_800_000).toISOString());

    vi.setSystemTime(t0 + 604_800_000);
    await evict(user);
    expect(await runDurableObjectAlarm(stubOf(user))).toBe(true);
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

    await evict(user);
    const after = await client(user, "/v1/inbox", { region });
    expect(after.status).toBe(200);
    const afterText = await after.text();
    expect(JSON.parse(afterText)).toStrictEqual(JSON.parse(beforeText));
    expect(afterText).toBe(beforeText);
    expect((JSON.parse(afterText) as { personal: unknown[] }).personal).toHaveLength(2);
  });
});
