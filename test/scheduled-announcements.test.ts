// Scheduled announcements (contract v1.1, "Scheduled delivery"): a deliverAt ahead holds the
// announcement in each of its regions under one id, invisible to polls, live connections and the
// publisher's log until due; each region's alarm (or any call to the region after deliverAt)
// delivers its copy with the region's next id and createdAt = deliverAt; the listing per region,
// cancelling in every region, and Idempotency-Key.
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  aheadOfNow,
  announce,
  cancelled,
  expectInvalid,
  freezeTime,
  PENDING_TTL,
  poll,
  publishAt,
  regionLog,
  runRegionAlarm,
  scheduleAt,
  scheduledOf,
  SECOND,
  travel,
  unique,
} from "./helpers";
import { announcementIds, caughtUpSocket, closeAllLive } from "./live-helpers";

afterEach(async () => {
  vi.useRealTimers();
  await closeAllLive();
});

const logOf = async (region: string) => (await regionLog(region)).announcements.map((a) => [a.id, a.body, a.createdAt]);

describe("an announcement with a deliverAt ahead", () => {
  it("is held in each region under one id, invisible to the log, polls and live connections until due", async () => {
    const [bj, sh] = [unique("bj"), unique("sh")];
    const t0 = freezeTime(aheadOfNow());
    const user = unique("reader");
    await poll(user, `?region=${bj}`);
    const socket = await caughtUpSocket(user, { region: bj });
    const held = await scheduleAt({ regions: [bj, sh] }, t0 + 60 * SECOND, { title: "Tonight", body: "held" });
    expect(held).toEqual({ scheduled: expect.stringMatching(/^r\./), deliverAt: new Date(t0 + 60 * SECOND).toISOString() });
    for (const region of [bj, sh]) {
      expect(await scheduledOf({ region })).toEqual([{ id: held.scheduled, deliverAt: held.deliverAt, message: { title: "Tonight", body: "held" } }]);
      expect((await regionLog(region)).head).toBe(0);
    }
    travel(59 * SECOND);
    expect((await poll(user, `?region=${bj}&since=0`)).announcements).toEqual([]);
    expect(announcementIds(socket.frames)).toEqual([]);
  });

  it("each region's alarm delivers its copy with the next id after what was published meanwhile, createdAt = deliverAt, live too", async () => {
    const [bj, sh] = [unique("bj"), unique("sh")];
    const t0 = freezeTime(aheadOfNow());
    const user = unique("reader");
    const socket = await caughtUpSocket(user, { region: bj });
    await announce([bj], { body: "before" });
    await scheduleAt({ regions: [bj, sh] }, t0 + 60 * SECOND, { body: "held" });
    await announce([bj, sh], { body: "meanwhile" });

    travel(90 * SECOND);
    expect(await runRegionAlarm(bj)).toBe(true);
    expect(await runRegionAlarm(sh)).toBe(true);
    const at = (ms: number) => new Date(ms).toISOString();
    expect(await logOf(bj)).toEqual([[1, "before", at(t0)], [2, "meanwhile", at(t0)], [3, "held", at(t0 + 60 * SECOND)]]);
    expect(await logOf(sh)).toEqual([[1, "meanwhile", at(t0)], [2, "held", at(t0 + 60 * SECOND)]]);
    await socket.waitForFrame((frame) => frame.type === "announcement" && frame.message.id === 3, "the scheduled announcement live");
    expect(await scheduledOf({ region: bj })).toEqual([]);
  });

  it("is delivered by any call to the region after deliverAt, before its alarm; a retried alarm delivers nothing again", async () => {
    const region = unique("r");
    const t0 = freezeTime(aheadOfNow());
    await scheduleAt({ regions: [region] }, t0 + 10 * SECOND, { body: "one" });
    travel(10 * SECOND);
    expect((await logOf(region)).map(([id, body]) => [id, body])).toEqual([[1, "one"]]);
    await runRegionAlarm(region);
    await runRegionAlarm(region);
    expect((await regionLog(region)).head).toBe(1);
  });

  it("a retried alarm delivers once", async () => {
    const region = unique("r");
    const t0 = freezeTime(aheadOfNow());
    await scheduleAt({ regions: [region] }, t0 + 10 * SECOND, { body: "once" });
    travel(10 * SECOND);
    expect(await runRegionAlarm(region)).toBe(true);
    await runRegionAlarm(region);
    expect((await logOf(region)).map(([, body]) => body)).toEqual(["once"]);
  });

  it("is listed soonest first, and several due are delivered in that order", async () => {
    const region = unique("r");
    const t0 = freezeTime(aheadOfNow());
    const later = await scheduleAt({ regions: [region] }, t0 + 20 * SECOND, { body: "later" });
    const sooner = await scheduleAt({ regions: [region] }, t0 + 10 * SECOND, { body: "sooner" });
    expect((await scheduledOf({ region })).map((entry) => entry.id)).toEqual([sooner.scheduled, later.scheduled]);
    travel(20 * SECOND);
    await runRegionAlarm(region);
    expect((await logOf(region)).map(([id, body]) => [id, body])).toEqual([[1, "sooner"], [2, "later"]]);
  });
});

describe("cancelling a scheduled announcement", () => {
  it("cancels it in every region (true), then answers false; nothing is delivered", async () => {
    const regions = [unique("a"), unique("b"), unique("c")];
    const t0 = freezeTime(aheadOfNow());
    const kept = await scheduleAt({ regions: [regions[1]!] }, t0 + 10 * SECOND, { body: "kept" });
    const { scheduled } = await scheduleAt({ regions }, t0 + 10 * SECOND, { body: "cancelled" });
    expect(await cancelled(scheduled)).toBe(true);
    expect(await cancelled(scheduled)).toBe(false);
    for (const region of regions) {
      expect((await scheduledOf({ region })).map((entry) => entry.id)).toEqual(region === regions[1] ? [kept.scheduled] : []);
    }
    travel(10 * SECOND);
    for (const region of regions) await runRegionAlarm(region);
    expect(await Promise.all(regions.map(async (region) => (await regionLog(region)).head))).toEqual([0, 1, 0]);
    expect(await cancelled(kept.scheduled)).toBe(false);
  });
});

describe("deliverAt's bounds and Idempotency-Key", () => {
  it("not later than now publishes at once (201 with ids); more than PENDING_TTL_SECONDS ahead is a 400 naming deliverAt", async () => {
    const region = unique("r");
    const t0 = freezeTime(aheadOfNow());
    const now = await publishAt({ regions: [region] }, t0, { body: "now" });
    expect([now.status, await now.json()]).toEqual([201, { ids: { [region]: 1 }, createdAt: new Date(t0).toISOString() }]);
    await expectInvalid(await publishAt({ regions: [region] }, t0 + PENDING_TTL + 1, { body: "too far" }), "deliverAt");
    expect(await scheduledOf({ region })).toEqual([]);
  });

  it("a repeat answers the first 202 (same id) and holds nothing again, also after delivery", async () => {
    const regions = [unique("a"), unique("b")];
    const t0 = freezeTime(aheadOfNow());
    const headers = { "Idempotency-Key": "tonight" };
    const first = await scheduleAt({ regions }, t0 + 10 * SECOND, { body: "once" }, headers);
    expect(await scheduleAt({ regions }, t0 + 10 * SECOND, { body: "once" }, headers)).toEqual(first);
    for (const region of regions) expect(await scheduledOf({ region })).toHaveLength(1);
    expect((await publishAt({ regions }, t0 + 20 * SECOND, { body: "once" }, headers)).status).toBe(422);

    travel(10 * SECOND);
    for (const region of regions) await runRegionAlarm(region);
    expect(await scheduleAt({ regions }, t0 + 10 * SECOND, { body: "once" }, headers)).toEqual(first);
    for (const region of regions) expect((await logOf(region)).map(([, body]) => body)).toEqual(["once"]);
  });
});
