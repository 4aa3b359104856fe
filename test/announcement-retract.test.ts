// DELETE /admin/v1/regions/{regionId}/announcements/{id} (contract v1.1,
// "Publisher additions"): a retracted announcement is a tombstone. Polls,
// catch-ups and the listing pass over it, it is never a gap and its id is never
// reused, it still counts for head, oldest, ANNOUNCEMENT_LIMIT and retention;
// live connections following the region are sent {"type":"retract"}, and the
// isolate's copy of the region's newest announcements stops serving it.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { forgetTail, readThroughTail, rememberTail } from "../src/region/tail-cache";
import type { Regions } from "../src/user/regions";
import {
  admin,
  announce,
  aheadOfNow,
  announceMany,
  ANNOUNCEMENT_TTL,
  call,
  DAY,
  evictUser,
  expectInvalid,
  freezeTime,
  HOUR,
  poll,
  regionLog,
  regionStub,
  regionWithAnnouncements,
  retractAnnouncement,
  retracted,
  sameVarsInObject,
  travel,
  unique,
  userStub,
} from "./helpers";
import {
  announcementEvents,
  caughtUpEventStream,
  caughtUpSocket,
  closeAllLive,
  liveCatchup,
  openSocket,
  waitFor,
} from "./live-helpers";

const CACHE_MS = 1000; // REGION_CACHE_MS's default, which the tests run with

afterEach(async () => {
  vi.useRealTimers();
  await closeAllLive();
});

const idsOf = (answer: { announcements: { id: number }[] }) => answer.announcements.map((a) => a.id);

/** The region's rows as stored, tombstones included: [id, retracted, message]. */
function rowsOf(region: string) {
  return runInDurableObject(regionStub(region), (_instance, state) =>
    state.storage.sql
      .exec<{ id: number; retracted: number; message: string }>("SELECT id, retracted, message FROM announcements ORDER BY id")
      .toArray()
      .map((row) => [row.id, row.retracted, row.message]),
  );
}

/** A user whose stored cursor is at the head (0) of a new region, which then gets `count` announcements. */
async function userBehind(count: number) {
  const region = unique("r");
  const user = unique("u");
  await poll(user, "", { region });
  await announceMany(region, count);
  return { region, user };
}

describe("DELETE /admin/v1/regions/{regionId}/announcements/{id}", () => {
  it("answers {retracted: true} once; then false, as for an id not assigned yet and in an unused region", async () => {
    const region = await regionWithAnnouncements(2);
    const res = await retractAnnouncement(region, 2);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ retracted: true });
    expect(await retracted(region, 2)).toBe(false);
    expect(await retracted(region, 3)).toBe(false);
    expect(await retracted(unique("unused"), 1)).toBe(false);
    expect(await retracted(region, 1)).toBe(true);
  });

  it("keeps a tombstone: its row stays with its text emptied, the others untouched", async () => {
    const region = await regionWithAnnouncements(3);
    await retracted(region, 2);
    const rows = await rowsOf(region);
    expect(rows.map(([id, tombstone, message]) => [id, tombstone, message === ""])).toEqual([
      [1, 0, false],
      [2, 1, true],
      [3, 0, false],
    ]);
  });

  it("is 400 naming the id or the region when either is not one, and retracts nothing", async () => {
    const region = await regionWithAnnouncements(1);
    for (const id of ["0", "-1", "1.5", "x"]) await expectInvalid(await retractAnnouncement(region, id), "id");
    await expectInvalid(await admin("/admin/v1/regions/not%20a%20region/announcements/1", { method: "DELETE" }), "regionId");
    expect(idsOf(await regionLog(region))).toEqual([1]);
  });

  it("is a publisher route: 401 without the admin token", async () => {
    const region = await regionWithAnnouncements(1);
    const res = await call(`/admin/v1/regions/${region}/announcements/1`, { method: "DELETE" });
    expect(res.status).toBe(401);
    expect(idsOf(await regionLog(region))).toEqual([1]);
  });
});

describe("a tombstone keeps its place", () => {
  it("the listing passes over it; head and oldest still count it", async () => {
    const region = await regionWithAnnouncements(3);
    await retracted(region, 1);
    await retracted(region, 3);
    const log = await regionLog(region);
    expect([idsOf(log), log.head, log.oldest]).toEqual([[2], 3, 1]);
    expect(idsOf(await regionLog(region, "?since=1"))).toEqual([2]);
  });

  it("its id is never reused: after a retracted head the next id is head + 1", async () => {
    const region = await regionWithAnnouncements(2);
    await retracted(region, 2);
    expect((await announce([region])).ids).toEqual({ [region]: 3 });
  });

  it("ANNOUNCEMENT_LIMIT counts it, and it is dropped in its turn", async () => {
    const region = unique("r");
    await sameVarsInObject(regionStub(region), { ANNOUNCEMENT_LIMIT: 3 });
    await announceMany(region, 3);
    await retracted(region, 2);
    await announce([region]);
    let log = await regionLog(region);
    expect([idsOf(log), log.head, log.oldest]).toEqual([[3, 4], 4, 2]);
    await announce([region]);
    log = await regionLog(region);
    expect([idsOf(log), log.head, log.oldest]).toEqual([[3, 4, 5], 5, 3]);
    expect(await retracted(region, 2)).toBe(false);
  });

  it("retention by age counts it: it expires when it would have, and then is no longer retained", async () => {
    const region = unique("r");
    const t0 = freezeTime(aheadOfNow(HOUR));
    await announce([region]);
    travel(DAY);
    await announce([region]);
    await retracted(region, 1);
    vi.setSystemTime(t0 + ANNOUNCEMENT_TTL - 1);
    expect((await regionLog(region)).oldest).toBe(1);
    vi.setSystemTime(t0 + ANNOUNCEMENT_TTL + 1);
    expect(await runDurableObjectAlarm(regionStub(region))).toBe(true);
    expect((await rowsOf(region)).map(([id]) => id)).toEqual([2]);
    expect((await regionLog(region)).oldest).toBe(2);
    expect(await retracted(region, 1)).toBe(false);
  });
});

describe("polls and catch-ups pass over it, and it is no gap", () => {
  it("a poll after the cursor gets the others, with no gap, and its cursor passes it", async () => {
    const { region, user } = await userBehind(3);
    await retracted(region, 2);
    const answer = await poll(user, "", { region });
    expect([idsOf(answer), answer.gap, answer.cursor]).toEqual([[1, 3], false, 3]);
  });

  it("since=0 with the oldest retracted is no gap; with every one retracted, nothing, no gap, cursor at the head", async () => {
    const region = await regionWithAnnouncements(3);
    await retracted(region, 1);
    let answer = await poll(unique("u"), "?since=0", { region });
    expect([idsOf(answer), answer.gap, answer.cursor]).toEqual([[2, 3], false, 3]);
    await retracted(region, 2);
    await retracted(region, 3);
    answer = await poll(unique("u"), "?since=0", { region });
    expect([idsOf(answer), answer.gap, answer.cursor]).toEqual([[], false, 3]);
  });

  it("a tombstone at the oldest place is no gap, while an id dropped before it still is", async () => {
    const region = unique("r");
    await sameVarsInObject(regionStub(region), { ANNOUNCEMENT_LIMIT: 3 });
    await announceMany(region, 3);
    await retracted(region, 2);
    await announce([region]); // drops 1: oldest is the tombstone 2
    const fromOne = await poll(unique("u"), "?since=1", { region });
    expect([idsOf(fromOne), fromOne.gap]).toEqual([[3, 4], false]);
    const fromZero = await poll(unique("u"), "?since=0", { region });
    expect([idsOf(fromZero), fromZero.gap]).toEqual([[3, 4], true]);
  });

  it("limit counts only what is returned, and more says what is left", async () => {
    const region = await regionWithAnnouncements(5);
    await retracted(region, 2);
    await retracted(region, 3);
    const first = await poll(unique("u"), "?since=0&limit=2", { region });
    expect([idsOf(first), first.more, first.cursor]).toEqual([[1, 4], true, 4]);
    const rest = await poll(unique("u"), "?since=4&limit=2", { region });
    expect([idsOf(rest), rest.more]).toEqual([[5], false]);
  });

  it("a user whose cursor is just before a retracted head gets nothing and moves to the head", async () => {
    const { region, user } = await userBehind(2);
    expect(idsOf(await poll(user, "?limit=1", { region }))).toEqual([1]);
    await retracted(region, 2);
    const answer = await poll(user, "", { region });
    expect([idsOf(answer), answer.cursor, answer.gap]).toEqual([[], 2, false]);
  });

  it("a live connection's catch-up passes over it", async () => {
    const region = await regionWithAnnouncements(3);
    await retracted(region, 2);
    const catchup = await liveCatchup(unique("u"), { region, query: "?since=0" });
    expect([idsOf(catchup), catchup.gap, catchup.cursor]).toEqual([[1, 3], false, 3]);
  });
});

describe("live connections following the region get the retract frame", () => {
  it("on a WebSocket: {type, region, id}, after the announcement it retracts", async () => {
    const region = unique("r");
    const socket = await caughtUpSocket(unique("u"), { region });
    await announce([region]);
    await socket.waitForAnnouncement(1);
    await retracted(region, 1);
    expect(await socket.waitForAnnouncementRetract(1)).toStrictEqual({ type: "retract", region, id: 1 });
  });

  it("on a WebSocket, a retract right after the publish still comes after the announcement", async () => {
    const region = unique("r");
    const socket = await caughtUpSocket(unique("u"), { region });
    await announce([region]);
    await retracted(region, 1);
    await socket.waitForAnnouncementRetract(1);
    expect(announcementEvents(socket.frames)).toEqual([
      ["announcement", 1],
      ["retract", 1],
    ]);
  });

  it("as Server-Sent Events: an event `retract` with the frame as data and an event id", async () => {
    const region = unique("r");
    const stream = await caughtUpEventStream(unique("u"), { region });
    await announce([region]);
    const announced = await stream.waitForAnnouncement(1);
    await retracted(region, 1);
    const event = await stream.waitForAnnouncementRetract(1);
    expect([event.event, JSON.parse(event.data)]).toEqual(["retract", { type: "retract", region, id: 1 }]);
    expect(event.id).toBe(announced.id);
  });

  it("goes to every user following the region, hibernated sockets included, and to no socket of another region", async () => {
    const [region, other] = [unique("r"), unique("r")];
    const [alice, bob] = [unique("alice"), unique("bob")];
    const aliceSocket = await caughtUpSocket(alice, { region });
    const bobSocket = await caughtUpSocket(bob, { region });
    const elsewhere = await caughtUpSocket(unique("carol"), { region: other });
    await announce([region, other]);
    await Promise.all([aliceSocket.waitForAnnouncement(1), bobSocket.waitForAnnouncement(1), elsewhere.waitForAnnouncement(1)]);
    await evictUser(bob, { webSockets: "hibernate" });
    await retracted(region, 1);
    await Promise.all([aliceSocket.waitForAnnouncementRetract(1), bobSocket.waitForAnnouncementRetract(1)]);
    await elsewhere.barrier();
    expect(announcementEvents(elsewhere.frames)).toEqual([["announcement", 1]]);
  });

  // A connect whose region read came before the retract, while the retract reaches the user's object
  // before that read's answer: the catch-up holds the announcement, so the retract must follow it.
  it("a connect under way when the retract arrives gets the frame after its catch-up", async () => {
    const region = await regionWithAnnouncements(1);
    const user = unique("u");
    const held = await holdRegionRead(user, "readAndFollow");
    const opening = openSocket(user, { region, query: "?since=0" });
    await held.readDone;
    expect(await retracted(region, 1)).toBe(true);
    await held.retractArrived;
    held.letAnswer();
    const socket = await opening;
    expect(idsOf(await socket.catchup())).toEqual([1]);
    await socket.waitForAnnouncementRetract(1);
    expect(socket.frames.map((f) => f.type)).toEqual(["catchup", "retract"]);
  });

  // Likewise for a delivery that reads a socket's gap (a push it missed): its frames come first.
  it("a retract that arrives while a delivery reads the socket's gap comes after that delivery's frames", async () => {
    const region = unique("r");
    const user = unique("u");
    const socket = await caughtUpSocket(user, { region });
    await regionStub(region).unfollow(user);
    await announce([region]); // 1 is not pushed to the user: the next push finds a gap
    await regionStub(region).follow(user);
    const held = await holdRegionRead(user, "readGap");
    await announce([region]);
    await held.readDone;
    expect(await retracted(region, 2)).toBe(true);
    await held.retractArrived;
    held.letAnswer();
    await socket.waitForAnnouncementRetract(2);
    expect(announcementEvents(socket.frames)).toEqual([
      ["announcement", 1],
      ["announcement", 2],
      ["retract", 2],
    ]);
  });
});

/**
 * In the user's object, holds the answer of its next region read of `kind` (a
 * connect's, or a live delivery's gap) once the read itself is done
 * (`readDone`) until `letAnswer()`; `retractArrived` is when a retract reached
 * the object's live sockets. The object's own modules are reached as it holds
 * them (private fields).
 */
async function holdRegionRead(user: string, kind: "readAndFollow" | "readGap") {
  let readDone!: () => void;
  let letAnswer!: () => void;
  let retractArrived!: () => void;
  const held = {
    readDone: new Promise<void>((resolve) => (readDone = resolve)),
    retractArrived: new Promise<void>((resolve) => (retractArrived = resolve)),
    letAnswer: () => letAnswer(),
  };
  const answer = new Promise<void>((resolve) => (letAnswer = resolve));
  await runInDurableObject(userStub(user), (instance) => {
    type Live = { retractAnnouncement: (region: string, id: number) => Promise<void> };
    const inner = instance as unknown as { regions: Regions; live: Live };
    const read = inner.regions[kind].bind(inner.regions) as (...args: unknown[]) => Promise<unknown>;
    Object.assign(inner.regions, {
      [kind]: async (...args: unknown[]) => {
        const window = await read(...args);
        readDone();
        await answer;
        return window;
      },
    });
    const retract = inner.live.retractAnnouncement.bind(inner.live);
    inner.live.retractAnnouncement = (...args) => {
      const sent = retract(...args);
      retractArrived();
      return sent;
    };
  });
  return held;
}

describe("this isolate's copy of the region's newest announcements", () => {
  async function regionReads(region: string) {
    return (await regionStub(region).storageCost()).reads;
  }

  it("drops a retracted announcement at once: the next poll, served from the copy, does not return it", async () => {
    freezeTime();
    const { region, user } = await userBehind(3);
    await poll(unique("warm"), "", { region });
    await retracted(region, 2);
    const before = await regionReads(region);
    expect(idsOf(await poll(user, "", { region }))).toEqual([1, 3]);
    expect((await regionReads(region)) - before).toBe(0);
  });

  it("does not keep a copy that was asked for before a retract and arrives after it", async () => {
    freezeTime();
    const { region, user } = await userBehind(2);
    const { tail: before } = await regionStub(region).readWithTail(null, 1);
    forgetTail(region);
    let arrive!: () => void;
    const late = readThroughTail(region, null, 10, CACHE_MS, async () => {
      await new Promise<void>((resolve) => (arrive = resolve));
      return { window: (await regionStub(region).readWithTail(null, 10)).window, tail: before };
    });
    await waitFor(() => arrive !== undefined, "the late read to start");
    await retracted(region, 1);
    arrive();
    await late;
    expect(idsOf(await poll(user, "", { region }))).toEqual([2]);
  });

  it("a copy another isolate holds may serve it until REGION_CACHE_MS after it was asked for, never later", async () => {
    freezeTime();
    const { region, user } = await userBehind(2);
    const { tail } = await regionStub(region).readWithTail(null, 1);
    await retracted(region, 1);
    // As another isolate's copy: asked for just before the retract, unaware of it.
    forgetTail(region);
    rememberTail(region, tail);
    travel(CACHE_MS + 1);
    expect(idsOf(await poll(user, "", { region }))).toEqual([2]);
  });
});
