// Idempotency-Key on POST /admin/v1/announcements (contract v1.1, "Publisher
// additions"): a repeat answers the first ids and publishes nothing, another
// body is 422, and after one region's object failed a retry publishes only
// where the first attempt had not. Each region's object keeps the keys of the
// publishes it took, for 24 h (its alarm sweeps them).
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AnnounceAnswer } from "../src/shared/responses";
import {
  admin,
  aheadOfNow,
  announce,
  DAY,
  expectInvalid,
  expectLogged,
  expectProblem,
  freezeTime,
  HOUR,
  regionLog,
  regionStub,
  SECOND,
  travel,
  unique,
} from "./helpers";

afterEach(() => vi.useRealTimers());

/** POST /admin/v1/announcements with an Idempotency-Key; the raw answer. */
function announceWithKey(key: string, regions: string[], message: Record<string, unknown> = { body: "news" }) {
  return admin("/admin/v1/announcements", { method: "POST", headers: { "Idempotency-Key": key }, json: { regions, ...message } });
}

async function announcedWithKey(key: string, regions: string[], message?: Record<string, unknown>) {
  const res = await announceWithKey(key, regions, message);
  if (res.status !== 201) throw new Error(`announce answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as AnnounceAnswer;
}

/** Each region's head: how many ids it has assigned. */
async function headsOf(...regions: string[]) {
  return Promise.all(regions.map(async (region) => (await regionLog(region)).head));
}

/**
 * Makes the region's object fail every publish, as a storage fault would: its
 * announcements table is moved aside (the object stays up, so nothing else of
 * it changes). `restore` puts the table back.
 */
async function failPublishesIn(region: string) {
  const stub = regionStub(region);
  await runInDurableObject(stub, (_instance, state) => state.storage.sql.exec("ALTER TABLE announcements RENAME TO moved_aside"));
  return () => runInDurableObject(stub, (_instance, state) => state.storage.sql.exec("ALTER TABLE moved_aside RENAME TO announcements"));
}

function keysIn(region: string) {
  return runInDurableObject(regionStub(region), (_instance, state) =>
    state.storage.sql.exec<{ key: string }>("SELECT key FROM idempotency ORDER BY key").toArray().map((row) => row.key),
  );
}

describe("a repeat with the same body", () => {
  it("answers the first ids and createdAt (201) and publishes nothing again in any region", async () => {
    const [a, b] = [unique("ra"), unique("rb")];
    const first = await announcedWithKey("k1", [a, b], { title: "Tonight", body: "Maintenance", data: { at: 1 } });
    const logs = await Promise.all([regionLog(a), regionLog(b)]);
    travel(5 * SECOND);
    const again = await announceWithKey("k1", [a, b], { title: "Tonight", body: "Maintenance", data: { at: 1 } });
    expect(again.status).toBe(201);
    expect(await again.json()).toEqual(first);
    expect(first.ids).toEqual({ [a]: 1, [b]: 1 });
    expect(await Promise.all([regionLog(a), regionLog(b)])).toEqual(logs);
  });

  it("compares the regions as a set (their order and repeats change nothing published) and the content as a JSON value", async () => {
    const [a, b] = [unique("ra"), unique("rb")];
    const first = await announcedWithKey("k1", [a, b], { title: null, body: "x", data: { p: 1, q: [2] } });
    const again = await announcedWithKey("k1", [b, a, b], { data: { q: [2], p: 1 }, body: "x" });
    expect(again).toEqual(first);
    expect(await headsOf(a, b)).toEqual([1, 1]);
  });

  it("publishes once in each region when repeats arrive together", async () => {
    const [a, b] = [unique("ra"), unique("rb")];
    const answers = await Promise.all(Array.from({ length: 5 }, () => announcedWithKey("k1", [a, b])));
    for (const answer of answers) expect(answer.ids).toEqual({ [a]: 1, [b]: 1 });
    expect(await headsOf(a, b)).toEqual([1, 1]);
  });

  it("goes on numbering after the key: a publish without it, or with another key, gets the next id", async () => {
    const region = unique("r");
    await announcedWithKey("k1", [region]);
    expect((await announce([region])).ids).toEqual({ [region]: 2 });
    expect((await announcedWithKey("k2", [region])).ids).toEqual({ [region]: 3 });
    expect((await announcedWithKey("k1", [region])).ids).toEqual({ [region]: 1 });
  });
});

describe("a different body under the same key", () => {
  it("is 422 and publishes nothing, for another content", async () => {
    const [a, b] = [unique("ra"), unique("rb")];
    await announcedWithKey("k1", [a, b], { body: "first" });
    for (const message of [{ body: "second" }, { body: "first", title: "t" }, { body: "first", data: {} }]) {
      await expectProblem(await announceWithKey("k1", [a, b], message), 422);
    }
    expect(await headsOf(a, b)).toEqual([1, 1]);
  });

  it("is 422 for another set of regions, and the regions the first request did not name stay untouched", async () => {
    const [a, b, c] = [unique("ra"), unique("rb"), unique("rc")];
    await announcedWithKey("k1", [a, b]);
    await expectProblem(await announceWithKey("k1", [a, c]), 422);
    await expectProblem(await announceWithKey("k1", [a]), 422);
    await expectProblem(await announceWithKey("k1", [c, a, b]), 422);
    expect(await headsOf(a, b, c)).toEqual([1, 1, 0]);
  });

  // The key lives in the objects of the regions it was used in (docs/API.md).
  it("is not known to regions the key was never used in: a request naming none of them publishes", async () => {
    const [a, d] = [unique("ra"), unique("rd")];
    await announcedWithKey("k1", [a]);
    expect((await announcedWithKey("k1", [d])).ids).toEqual({ [d]: 1 });
  });
});

describe("when one region's object fails", () => {
  it("answers a 500 problem, the regions that published keep their ids, and a retry publishes only in the others", async () => {
    const [ok, failing] = [unique("ok"), unique("failing")];
    const restore = await failPublishesIn(failing);
    const failed = await expectLogged(/POST \/admin\/v1\/announcements failed/, () => announceWithKey("k1", [ok, failing]));
    await expectProblem(failed, 500);
    const [published] = (await regionLog(ok)).announcements;
    expect(published?.id).toBe(1);
    expect(await keysIn(failing)).toEqual([]);

    await restore();
    travel(5 * SECOND);
    const retried = await announcedWithKey("k1", [ok, failing]);
    expect(retried).toEqual({ ids: { [ok]: 1, [failing]: 1 }, createdAt: published!.createdAt });
    expect(await headsOf(ok, failing)).toEqual([1, 1]);
    // The retry's announcement carries the first attempt's createdAt: one publish, one instant.
    expect((await regionLog(failing)).announcements.map((a) => a.createdAt)).toEqual([published!.createdAt]);
    expect(await announcedWithKey("k1", [failing, ok])).toEqual(retried);
  });

  it("a retry with another body is 422 and publishes nowhere, not even where the first attempt failed", async () => {
    const [ok, failing] = [unique("ok"), unique("failing")];
    const restore = await failPublishesIn(failing);
    await expectLogged(/POST \/admin\/v1\/announcements failed/, () => announceWithKey("k1", [ok, failing], { body: "first" }));
    await restore();
    await expectProblem(await announceWithKey("k1", [ok, failing], { body: "second" }), 422);
    expect(await headsOf(ok, failing)).toEqual([1, 0]);
  });
});

describe("a key's 24 hours", () => {
  it("a repeat just before 24 h answers the first ids; from 24 h on the key is free and publishes again", async () => {
    const region = unique("r");
    freezeTime(aheadOfNow(HOUR));
    await announcedWithKey("k1", [region]);
    travel(DAY - 1);
    expect((await announcedWithKey("k1", [region])).ids).toEqual({ [region]: 1 });
    travel(1);
    expect((await announcedWithKey("k1", [region])).ids).toEqual({ [region]: 2 });
    await expectProblem(await announceWithKey("k1", [region], { body: "another body, under the key's new life" }), 422);
  });

  it("the region's alarm is aimed at the oldest key's expiry when that comes first, and removes it then", async () => {
    const region = unique("r");
    const stub = regionStub(region);
    const alarm = () => runInDurableObject(stub, (_instance, state) => state.storage.getAlarm());
    const t0 = freezeTime(aheadOfNow(HOUR));
    await announcedWithKey("k1", [region]);
    travel(HOUR);
    await announcedWithKey("k2", [region]);
    // First the stats' flush (9 s after the first publish), then the key's 24 h, before the announcements' 30 days.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await alarm()).toBe(t0 + DAY);
    travel(DAY - HOUR - 1);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await keysIn(region)).toEqual(["k1", "k2"]);
    travel(1);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await keysIn(region)).toEqual(["k2"]);
    expect(await alarm()).toBe(t0 + HOUR + DAY);
    travel(HOUR);
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await keysIn(region)).toEqual([]);
    expect(await alarm()).toBe(t0 + 30 * DAY);
  });

  it("is kept in the region's storage: a repeat after the object restarted answers the first ids", async () => {
    const [a, b] = [unique("ra"), unique("rb")];
    const first = await announcedWithKey("k1", [a, b]);
    await Promise.all([evictDurableObject(regionStub(a)), evictDurableObject(regionStub(b))]);
    expect(await announcedWithKey("k1", [a, b])).toEqual(first);
    expect(await headsOf(a, b)).toEqual([1, 1]);
  });
});

describe("the header", () => {
  it("an empty key or one over 255 characters is 400 naming the header, and publishes nothing", async () => {
    const region = unique("r");
    await expectInvalid(await announceWithKey("", [region]), "idempotency-key");
    await expectInvalid(await announceWithKey("k".repeat(256), [region]), "idempotency-key");
    expect((await announcedWithKey("k".repeat(255), [region])).ids).toEqual({ [region]: 1 });
    expect(await headsOf(region)).toEqual([1]);
  });
});
