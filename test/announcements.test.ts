// The announcement publisher routes: POST /admin/v1/announcements and
// GET /admin/v1/regions/{id}/announcements, plus the region log's retention
// (by count and by age) and its alarm.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Announcement } from "../src/shared/schema";
import { FLUSH_DELAY_MS } from "../src/stats/buffer";
import {
  admin,
  announce,
  announceMany,
  ANNOUNCEMENT_LIMIT,
  ANNOUNCEMENT_TTL,
  DAY,
  evictRegion,
  expectInvalid,
  freezeTime,
  problemOf,
  range,
  regionLog,
  regionStub,
  regionWithAnnouncements,
  seedAnnouncements,
  travel,
  unique,
  type RegionListing,
} from "./helpers";

/** When the region's object's alarm is set to go off (null: none). */
function alarmOf(region: string) {
  return runInDurableObject(regionStub(region), (_instance, state) => state.storage.getAlarm());
}

function runRegionAlarm(region: string) {
  return runDurableObjectAlarm(regionStub(region));
}

afterEach(() => {
  vi.useRealTimers();
});

describe("POST /admin/v1/announcements", () => {
  it("answers 201 with {ids, createdAt} and numbers a new region's announcements 1, 2, 3 in publish order", async () => {
    const region = unique("r");
    const before = Date.now();
    const res = await admin("/admin/v1/announcements", { method: "POST", json: { regions: [region], body: "one" } });
    expect(res.status).toBe(201);
    const first = (await res.json()) as { ids: Record<string, number>; createdAt: string };
    expect(Object.keys(first).sort()).toEqual(["createdAt", "ids"]);
    expect(first.ids).toEqual({ [region]: 1 });
    expect(new Date(first.createdAt).toISOString()).toBe(first.createdAt);
    expect(Date.parse(first.createdAt)).toBeGreaterThanOrEqual(before);
    expect((await announce([region], { body: "two" })).ids).toEqual({ [region]: 2 });
    expect((await announce([region], { body: "three" })).ids).toEqual({ [region]: 3 });

    const log = await regionLog(region);
    expect(log.announcements.map((a) => [a.id, a.body])).toEqual([
      [1, "one"],
      [2, "two"],
      [3, "three"],
    ]);
  });

  it("numbers each region independently", async () => {
    const a = unique("ra");
    const b = unique("rb");
    await announceMany(a, 2);
    const both = await announce([a, b]);
    expect(both.ids).toEqual({ [a]: 3, [b]: 1 });
    expect((await announce([b])).ids).toEqual({ [b]: 2 });
    expect((await regionLog(a)).head).toBe(3);
    expect((await regionLog(b)).head).toBe(2);
  });

  it("counts a region listed twice once", async () => {
    const a = unique("ra");
    const b = unique("rb");
    const answer = await announce([a, b, a, a]);
    expect(answer.ids).toEqual({ [a]: 1, [b]: 1 });
    const log = await regionLog(a);
    expect(log.head).toBe(1);
    expect(log.announcements).toHaveLength(1);
    expect((await announce([a])).ids).toEqual({ [a]: 2 });
  });

  it("stores the announcement exactly as published, with its id, region and the publish's createdAt", async () => {
    const region = unique("r");
    const other = unique("r");
    const data = { url: "https://example.com/x", nested: { n: 1, list: [true, null, "s"] } };
    const answer = await announce([region, other], { title: "Title ✓", body: "Body ✓", data });
    const [mine] = (await regionLog(region)).announcements;
    expect(mine).toEqual({ id: 1, region, title: "Title ✓", body: "Body ✓", data, createdAt: answer.createdAt });
    const [theirs] = (await regionLog(other)).announcements;
    expect(theirs).toEqual({ id: 1, region: other, title: "Title ✓", body: "Body ✓", data, createdAt: answer.createdAt });
  });

  it("accepts 1 to 100 regions and rejects 0 or 101 with 400 on regions", async () => {
    const hundred = Array.from({ length: 100 }, () => unique("r"));
    const answer = await announce(hundred);
    expect(Object.keys(answer.ids).sort()).toEqual([...hundred].sort());
    expect(Object.values(answer.ids)).toEqual(Array.from({ length: 100 }, () => 1));
    for (const regions of [[], [...hundred, unique("r")]]) {
      const res = await admin("/admin/v1/announcements", { method: "POST", json: { regions, body: "x" } });
      expect(res.status, `${regions.length} regions`).toBe(400);
      expect((await problemOf(res)).errors?.map((e) => e.path)).toEqual(["regions"]);
    }
    expect((await regionLog(hundred[0]!)).head).toBe(1);
  });

  it("rejects the whole request when one region is invalid, and publishes nothing", async () => {
    const good = unique("r");
    const res = await admin("/admin/v1/announcements", {
      method: "POST",
      json: { regions: [good, "not a region!"], body: "x" },
    });
    await expectInvalid(res, "regions.1");
    const log = await regionLog(good);
    expect(log.head).toBe(0);
    expect(log.announcements).toEqual([]);
  });
});

describe("GET /admin/v1/regions/{regionId}/announcements", () => {
  it("answers {region, epoch, head, oldest, announcements}", async () => {
    const region = unique("r");
    await announce([region], { body: "a" });
    await announce([region], { body: "b" });
    const log = await regionLog(region);
    expect(Object.keys(log).sort()).toEqual(["announcements", "epoch", "head", "oldest", "region"]);
    expect(log.region).toBe(region);
    expect(typeof log.epoch).toBe("string");
    expect(log.epoch.length).toBeGreaterThan(0);
    expect(log.head).toBe(2);
    expect(log.oldest).toBe(1);
    expect(log.announcements.map((a) => a.id)).toEqual([1, 2]);
  });

  it("reads an unused region as empty (200, head 0, oldest null) with an epoch that stays the same", async () => {
    const region = unique("unused");
    const first = await regionLog(region);
    expect(first).toEqual({ region, epoch: first.epoch, head: 0, oldest: null, announcements: [] });
    expect(typeof first.epoch).toBe("string");
    expect(first.epoch.length).toBeGreaterThan(0);
    const second = await regionLog(region);
    expect(second.epoch).toBe(first.epoch);
    // The epoch was fixed by the first read: publishing later keeps it.
    await announce([region]);
    expect((await regionLog(region)).epoch).toBe(first.epoch);
  });

  it("keeps an unused region's epoch across an eviction of its object", async () => {
    const region = unique("unused");
    const first = await regionLog(region);
    await evictRegion(region);
    const second = await regionLog(region);
    expect(second).toEqual({ region, epoch: first.epoch, head: 0, oldest: null, announcements: [] });
  });

  it("gives different regions different epochs", async () => {
    const a = await regionLog(unique("r"));
    const b = await regionLog(unique("r"));
    expect(a.epoch).not.toBe(b.epoch);
  });

  it("returns only announcements after since, oldest first", async () => {
    const region = unique("r");
    await seedAnnouncements(region, 6);
    const log = await regionLog(region, "?since=3");
    expect(log.announcements.map((a) => a.id)).toEqual([4, 5, 6]);
    expect(log.head).toBe(6);
    expect(log.oldest).toBe(1);
    expect((await regionLog(region, "?since=6")).announcements).toEqual([]);
    expect((await regionLog(region, "?since=99")).announcements).toEqual([]);
    expect((await regionLog(region, "?since=0")).announcements.map((a) => a.id)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it("applies limit from since on", async () => {
    const region = unique("r");
    await seedAnnouncements(region, 8);
    expect((await regionLog(region, "?limit=3")).announcements.map((a) => a.id)).toEqual([1, 2, 3]);
    expect((await regionLog(region, "?since=4&limit=2")).announcements.map((a) => a.id)).toEqual([5, 6]);
    expect((await regionLog(region, "?since=7&limit=5")).announcements.map((a) => a.id)).toEqual([8]);
  });

  it("defaults limit to 100", async () => {
    const region = unique("r");
    await seedAnnouncements(region, 105);
    const log = await regionLog(region);
    expect(log.announcements).toHaveLength(100);
    expect(log.announcements[0]!.id).toBe(1);
    expect(log.announcements[99]!.id).toBe(100);
    expect(log.head).toBe(105);
  });

  it("rejects an invalid since or limit with 400 naming the parameter", async () => {
    const region = unique("r");
    for (const [query, path] of [
      ["?since=-1", "since"],
      ["?since=abc", "since"],
      ["?limit=0", "limit"],
      ["?limit=501", "limit"],
    ] as const) {
      const res = await admin(`/admin/v1/regions/${region}/announcements${query}`);
      expect(res.status, query).toBe(400);
      expect((await problemOf(res)).errors?.map((e) => e.path), query).toEqual([path]);
    }
  });

  it("reads only the rows after since (storage rows read stay small near the head)", async () => {
    const region = unique("r");
    const stub = regionStub(region);
    await seedAnnouncements(region, 600);
    const rowsRead = await runInDurableObject(stub, (instance, state) => {
      const sql = state.storage.sql;
      const original = sql.exec;
      const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
      sql.exec = ((query: string, ...bindings: unknown[]) => {
        const cursor = original.call(sql, query, ...bindings);
        cursors.push(cursor);
        return cursor;
      }) as typeof sql.exec;
      try {
        const answer = JSON.parse(instance.list(region, 597, 100)) as RegionListing;
        expect(answer.announcements.map((a) => a.id)).toEqual([598, 599, 600]);
        const readAnswer = instance.read({ since: 598 }, 100);
        expect(readAnswer.announcements.map((row) => (JSON.parse(row.message) as Announcement).id)).toEqual([599, 600]);
      } finally {
        sql.exec = original;
      }
      expect(cursors.length).toBeGreaterThan(0);
      return cursors.reduce((sum, cursor) => sum + cursor.rowsRead, 0);
    });
    // 600 rows are stored; reading the last few must not scan them.
    expect(rowsRead).toBeLessThanOrEqual(10);
  });
});

describe("retention by count (ANNOUNCEMENT_LIMIT)", () => {
  it("drops the oldest announcement once more than ANNOUNCEMENT_LIMIT are published, and oldest moves", async () => {
    const region = unique("r");
    // Through the HTTP route, in parallel chunks.
    for (let start = 0; start < ANNOUNCEMENT_LIMIT; start += 100) {
      await Promise.all(Array.from({ length: 100 }, () => announce([region])));
    }
    let log = await regionLog(region, "?limit=1");
    expect([log.head, log.oldest]).toEqual([ANNOUNCEMENT_LIMIT, 1]);
    expect(log.announcements.map((a) => a.id)).toEqual([1]);

    expect((await announce([region])).ids).toEqual({ [region]: ANNOUNCEMENT_LIMIT + 1 });
    log = await regionLog(region, "?limit=1");
    expect([log.head, log.oldest]).toEqual([ANNOUNCEMENT_LIMIT + 1, 2]);
    expect(log.announcements.map((a) => a.id)).toEqual([2]);

    await announceMany(region, 2);
    log = await regionLog(region, "?limit=2");
    expect([log.head, log.oldest]).toEqual([ANNOUNCEMENT_LIMIT + 3, 4]);
    expect(log.announcements.map((a) => a.id)).toEqual([4, 5]);
    const tail = await regionLog(region, `?since=${ANNOUNCEMENT_LIMIT}`);
    expect(tail.announcements.map((a) => a.id)).toEqual(range(ANNOUNCEMENT_LIMIT + 1, ANNOUNCEMENT_LIMIT + 3));
  });

  it("keeps exactly ANNOUNCEMENT_LIMIT announcements after a large burst", async () => {
    const region = unique("r");
    await seedAnnouncements(region, ANNOUNCEMENT_LIMIT + 250);
    const log = await regionLog(region, "?limit=500");
    expect(log.head).toBe(ANNOUNCEMENT_LIMIT + 250);
    expect(log.oldest).toBe(251);
    expect(log.announcements[0]!.id).toBe(251);
    // Count what is retained by paging through it.
    let since = 0;
    let retained = 0;
    for (;;) {
      const page = await regionLog(region, `?since=${since}&limit=500`);
      if (page.announcements.length === 0) break;
      retained += page.announcements.length;
      since = page.announcements.at(-1)!.id;
    }
    expect(retained).toBe(ANNOUNCEMENT_LIMIT);
  });
});

describe("retention by age (ANNOUNCEMENT_TTL_SECONDS) and the region alarm", () => {
  it("removes every announcement past the TTL when the alarm runs: oldest null, head unchanged", async () => {
    const region = unique("r");
    const stub = regionStub(region);
    await announceMany(region, 3);
    travel(ANNOUNCEMENT_TTL + 1000);
    expect(await runRegionAlarm(region)).toBe(true);
    // Checked inside the object, so no later read can be what removed them.
    const rows = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM announcements").one().n,
    );
    expect(rows).toBe(0);
    const log = await regionLog(region);
    expect(log.head).toBe(3);
    expect(log.oldest).toBeNull();
    expect(log.announcements).toEqual([]);
    // Nothing left to expire: no alarm stays scheduled.
    expect(await alarmOf(region)).toBeNull();
  });

  it("keeps announcements younger than the TTL and removes only the expired prefix", async () => {
    const region = await regionWithAnnouncements(2);
    travel(10 * DAY);
    await announce([region]);
    travel(20 * DAY + 1000); // now 30 d + 1 s after the first two, 20 d + 1 s after the third
    expect(await runRegionAlarm(region)).toBe(true);
    const log = await regionLog(region);
    expect(log.head).toBe(3);
    expect(log.oldest).toBe(3);
    expect(log.announcements.map((a) => a.id)).toEqual([3]);
  });

  it("never shows an expired announcement to a read even before the alarm ran", async () => {
    const region = await regionWithAnnouncements(2);
    travel(ANNOUNCEMENT_TTL + 1000);
    const log = await regionLog(region);
    expect(log.head).toBe(2);
    expect(log.oldest).toBeNull();
    expect(log.announcements).toEqual([]);
  });

  it("never reuses an id after retention removed every row: the next id is head + 1", async () => {
    const region = await regionWithAnnouncements(2);
    travel(ANNOUNCEMENT_TTL + 1000);
    await runRegionAlarm(region);
    expect((await regionLog(region)).oldest).toBeNull();
    expect((await announce([region])).ids).toEqual({ [region]: 3 });
    const log = await regionLog(region);
    expect([log.head, log.oldest]).toEqual([3, 3]);
    expect(log.announcements.map((a) => a.id)).toEqual([3]);
  });

  it("aims the alarm at the moment the oldest retained announcement expires, once the stats are flushed", async () => {
    const region = unique("r");
    const t0 = freezeTime();
    await announce([region]);
    vi.setSystemTime(t0 + DAY);
    await announce([region]);
    // The alarm also flushes the stats (the ids assigned), due 9 s after the first one.
    expect(await alarmOf(region)).toBe(t0 + FLUSH_DELAY_MS);
    expect(await runRegionAlarm(region)).toBe(true);
    expect(await alarmOf(region)).toBe(t0 + ANNOUNCEMENT_TTL);
  });

  it("removes nothing when the alarm runs early, and stays scheduled", async () => {
    const region = unique("r");
    const t0 = freezeTime();
    await announceMany(region, 2);
    vi.setSystemTime(t0 + ANNOUNCEMENT_TTL - 1000);
    expect(await runRegionAlarm(region)).toBe(true);
    const log = await regionLog(region);
    expect([log.head, log.oldest]).toEqual([2, 1]);
    expect(log.announcements.map((a) => a.id)).toEqual([1, 2]);
    expect(await alarmOf(region)).toBe(t0 + ANNOUNCEMENT_TTL);
  });

  it("is idempotent: running the alarm twice removes what expired once and nothing more", async () => {
    const region = unique("r");
    const t0 = freezeTime();
    await announceMany(region, 2);
    vi.setSystemTime(t0 + 10 * DAY);
    await announce([region]);
    vi.setSystemTime(t0 + ANNOUNCEMENT_TTL + 1000);

    expect(await runRegionAlarm(region)).toBe(true);
    const afterFirst = await regionLog(region);
    expect([afterFirst.head, afterFirst.oldest]).toEqual([3, 3]);
    expect(await alarmOf(region)).toBe(t0 + 10 * DAY + ANNOUNCEMENT_TTL);

    expect(await runRegionAlarm(region)).toBe(true);
    const afterSecond = await regionLog(region);
    expect(afterSecond).toEqual(afterFirst);
    expect(await alarmOf(region)).toBe(t0 + 10 * DAY + ANNOUNCEMENT_TTL);
  });
});
