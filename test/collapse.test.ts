// Publisher additions (contract v1.1) on personal messages: collapseKey, ttlSeconds and priority are
// checked (400 naming the field, nothing stored), come back as published; and a publish with a
// collapseKey replaces the user's message with that key still pending or unread: it leaves both
// sets, its pairs still pending become `retracted`, live connections get a retract frame, and the
// 201 says which seq it replaced.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  LAPTOP,
  PHONE,
  admin,
  ackUpTo,
  aheadOfNow,
  expectInvalid,
  fetchWithEnv,
  freezeTime,
  makeKnown,
  markRead,
  messagesPath,
  outcomesOf,
  pendingSeqs,
  poll,
  publish,
  publishMany,
  rowsReadBy,
  travel,
  unique,
  unreadOf,
  unreadSeqs,
  userView,
} from "./helpers";
import { caughtUpEventStream, caughtUpSocket, closeAllLive, retractedSeqs } from "./live-helpers";
import { pushJobsLeft, registerPush, seqsPushedTo, setFaults, waitForPushes, waitForPushOf } from "./push-service";

afterEach(async () => {
  vi.useRealTimers();
  await closeAllLive();
});

const publishRaw = (user: string, json: unknown) => admin(messagesPath(user), { method: "POST", json });

describe("collapseKey, ttlSeconds and priority on a personal message", () => {
  it("come back exactly as published, in the 201's message, polls, unread and live frames; absent (or null) ones are left out", async () => {
    const user = unique("fields");
    const socket = await caughtUpSocket(user);
    const full = { title: "t", body: "b", collapseKey: "order:42.shipped", ttlSeconds: 600, priority: "high" };
    const first = await publish(user, full);
    const second = await publish(user, { body: "plain", collapseKey: null, ttlSeconds: null, priority: null });
    const third = await publish(user, { body: "normal", priority: "normal" });
    const expected = [
      { seq: 1, ...full, createdAt: first.createdAt },
      { seq: 2, body: "plain", createdAt: second.createdAt },
      { seq: 3, body: "normal", priority: "normal", createdAt: third.createdAt },
    ];
    expect((await poll(user)).personal).toStrictEqual(expected);
    expect((await unreadOf(user)).messages).toStrictEqual(expected);
    await socket.waitForPersonal(3);
    expect(socket.frames.slice(1)).toStrictEqual(expected.map((message) => ({ type: "personal", message })));
  });

  it.each([
    ["collapseKey", ""],
    ["collapseKey", "k".repeat(65)],
    ["collapseKey", "order/42"],
    ["collapseKey", "café"],
    ["collapseKey", 42],
    ["ttlSeconds", 0],
    ["ttlSeconds", 1.5],
    ["ttlSeconds", "60"],
    ["ttlSeconds", 604_801],
    ["priority", "urgent"],
    ["priority", "HIGH"],
  ])("a %s of %j is a 400 naming it, and stores nothing", async (field, value) => {
    const user = unique("invalid");
    await expectInvalid(await publishRaw(user, { body: "x", [field]: value }), field);
    expect((await userView(user)).pending.count).toBe(0);
    expect((await publish(user)).seq).toBe(1);
  });

  it("accepts the edges: a 64-character key of every allowed character class, ttlSeconds 1 and PENDING_TTL_SECONDS", async () => {
    const user = unique("edges");
    const key = `AZaz09._:-${"k".repeat(54)}`;
    for (const message of [{ body: "x", collapseKey: key }, { body: "x", ttlSeconds: 1 }, { body: "x", ttlSeconds: 604_800 }]) {
      expect((await publishRaw(user, message)).status).toBe(201);
    }
  });

  it("a ttlSeconds over a smaller PENDING_TTL_SECONDS is a 400 naming it", async () => {
    const res = await fetchWithEnv({ PENDING_TTL_SECONDS: 60 }, messagesPath(unique("small")), {
      method: "POST",
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ body: "x", ttlSeconds: 61 }),
    });
    const problem = await expectInvalid(res, "ttlSeconds");
    expect(problem.errors![0]!.message).toMatch(/at most 60/);
  });

  it("are the personal message's own: an announcement with any of them is a 400 naming it", async () => {
    for (const [field, value] of [["collapseKey", "k"], ["ttlSeconds", 60], ["priority", "high"]] as const) {
      const res = await admin("/admin/v1/announcements", { method: "POST", json: { regions: [unique("r")], body: "x", [field]: value } });
      await expectInvalid(res, field);
    }
  });

  it("count for Idempotency-Key: the same key with another collapseKey, ttlSeconds or priority is a 422", async () => {
    const user = unique("keyed");
    const keyed = (json: object) => admin(messagesPath(user), { method: "POST", json, headers: { "Idempotency-Key": "k" } });
    expect((await keyed({ body: "b", priority: "high" })).status).toBe(201);
    expect((await keyed({ body: "b", priority: "high" })).status).toBe(201);
    for (const other of [{ body: "b" }, { body: "b", priority: "normal" }, { body: "b", priority: "high", ttlSeconds: 5 }]) {
      expect((await keyed(other)).status).toBe(422);
    }
    expect(await pendingSeqs(user)).toEqual([1]);
  });
});

describe("a publish with a collapseKey replaces the user's message with that key", () => {
  it("still pending: it leaves both sets, replaced names it, and its seq is never used again", async () => {
    const user = unique("replace");
    expect((await publish(user, { body: "v1", collapseKey: "score" })).replaced).toBeNull();
    await publish(user, { body: "other" });
    const second = await publish(user, { body: "v2", collapseKey: "score" });
    expect([second.seq, second.replaced]).toEqual([3, 1]);
    expect(await pendingSeqs(user)).toEqual([2, 3]);
    expect(await unreadSeqs(user)).toEqual([2, 3]);
    expect((await userView(user)).pending.count).toBe(2);
    expect((await userView(user)).unread.count).toBe(2);
    const third = await publish(user, { body: "v3", collapseKey: "score" });
    expect([third.seq, third.replaced]).toEqual([4, 3]);
    expect((await publish(user, { body: "no key" })).replaced).toBeNull();
    expect(await pendingSeqs(user)).toEqual([2, 4, 5]);
  });

  it("only unread (every device has it): it leaves the unread set", async () => {
    const user = unique("unread");
    await makeKnown(user, PHONE);
    await publish(user, { body: "v1", collapseKey: "k" });
    await ackUpTo(user, 1, PHONE);
    expect(await unreadSeqs(user)).toEqual([1]);
    expect((await publish(user, { body: "v2", collapseKey: "k" })).replaced).toBe(1);
    expect(await unreadSeqs(user)).toEqual([2]);
  });

  it("not one that left both sets (read), nor one with another key", async () => {
    const user = unique("gone");
    await publish(user, { body: "read", collapseKey: "a" });
    await publish(user, { body: "other key", collapseKey: "b" });
    await markRead(user, { seqs: [1] });
    expect((await publish(user, { body: "a again", collapseKey: "a" })).replaced).toBeNull();
    expect((await publish(user, { body: "c", collapseKey: "c" })).replaced).toBeNull();
    expect(await pendingSeqs(user)).toEqual([2, 3, 4]);
  });

  it("its pairs still pending become retracted at the publish; a pair already decided keeps its outcome", async () => {
    const user = unique("outcomes");
    const t0 = freezeTime(aheadOfNow());
    await makeKnown(user, PHONE, LAPTOP);
    await publish(user, { body: "v1", collapseKey: "k" });
    travel(1000);
    await poll(user, "", PHONE);
    travel(1000);
    await ackUpTo(user, 1, PHONE);
    travel(1000);
    await publish(user, { body: "v2", collapseKey: "k" });
    expect(await outcomesOf(user, 1)).toStrictEqual({ phone: ["poll", t0 + 1000], laptop: ["retracted", t0 + 3000] });
    expect(await outcomesOf(user, 2)).toStrictEqual({ phone: ["pending", null], laptop: ["pending", null] });
  });

  it("an idempotent repeat answers the same replaced and withdraws nothing more", async () => {
    const user = unique("repeat");
    await publish(user, { body: "v1", collapseKey: "k" });
    const keyed = () => admin(messagesPath(user), { method: "POST", json: { body: "v2", collapseKey: "k" }, headers: { "Idempotency-Key": "i" } });
    const first = await (await keyed()).json();
    expect(first).toMatchObject({ seq: 2, replaced: 1 });
    expect(await (await keyed()).json()).toStrictEqual(first);
    expect(await pendingSeqs(user)).toEqual([2]);
  });

  it("live connections of every device, WebSocket and SSE, get the retract frame, before the new message", async () => {
    const user = unique("live");
    await publish(user, { body: "v1", collapseKey: "k" });
    const phone = await caughtUpSocket(user, { device: "phone" });
    const laptop = await caughtUpEventStream(user, { device: "laptop" });
    await publish(user, { body: "v2", collapseKey: "k" });
    await phone.waitForPersonal(2);
    expect(phone.frames.slice(1).map((f) => f.type)).toEqual(["retract", "personal"]);
    expect(retractedSeqs(phone.frames)).toEqual([1]);
    await laptop.waitForPersonal(2);
    expect(laptop.events.slice(1).map(({ event, frame }) => [event, frame.type])).toEqual([["retract", "retract"], ["personal", "personal"]]);
    expect(retractedSeqs(laptop.frames)).toEqual([1]);
    // A publish that replaces nothing sends no retract frame.
    await publish(user, { body: "v3", collapseKey: "other" });
    await phone.waitForPersonal(3);
    expect(retractedSeqs(phone.frames)).toEqual([1]);
  });

  it("ends the replaced message's pushes at once: its retry is no longer held", async () => {
    const user = unique("push");
    const endpoint = await registerPush(user, "webpush", PHONE);
    await setFaults(endpoint, { status: 503 });
    await publish(user, { body: "v1", collapseKey: "k" });
    await waitForPushOf(user, 1, { phone: expect.objectContaining({ lastStatus: 503 }) });
    expect(await pushJobsLeft(user)).toBe(1);
    await publish(user, { body: "v2", collapseKey: "k" });
    await waitForPushes(endpoint, 2);
    await waitForPushOf(user, 2, { phone: expect.objectContaining({ lastStatus: 201 }) });
    expect(await pushJobsLeft(user)).toBe(0);
    expect(await seqsPushedTo(endpoint)).toEqual([1, 2]);
  });

  it("finds the older message by its key's index: what a publish reads does not grow with the sets", async () => {
    /** The rows read by a publish without a key, with one no message has, and with the key of the newest, after `count` messages. */
    async function publishCosts(count: number) {
      const user = unique("cheap");
      await publishMany(user, count - 1);
      await publish(user, { body: "keyed", collapseKey: "k" });
      return {
        plain: await rowsReadBy(user, () => publish(user, { body: "plain" })),
        newKey: await rowsReadBy(user, () => publish(user, { body: "new key", collapseKey: "n" })),
        replacing: await rowsReadBy(user, () => publish(user, { body: "replaces", collapseKey: "k" })),
      };
    }
    const few = await publishCosts(5);
    const many = await publishCosts(90);
    expect(many).toStrictEqual(few);
    expect(many.newKey - many.plain).toBeLessThanOrEqual(2);
  });
});
