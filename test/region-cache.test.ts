// The region read path: user objects share an in-isolate copy of each region's
// newest announcements, so polls cost the region's object a bounded number of
// reads however many users poll, without ever skipping an announcement.
import { afterEach, describe, expect, it, vi } from "vitest";
import { forgetTail, rememberTail, TAIL_SIZE } from "../src/region/tail-cache";
import { announce, freezeTime, poll, regionStub, travel, unique } from "./helpers";

const CACHE_MS = 1000; // REGION_CACHE_MS's default, which the tests run with
// Tests that count the region's reads freeze the clock (freezeTime), so that a
// copy's age depends only on what the test does.

afterEach(() => vi.useRealTimers());

async function regionReads(region: string) {
  return (await regionStub(region).storageCost()).reads;
}

async function pollAll(users: string[], region: string, query = "") {
  return Promise.all(users.map((user) => poll(user, query, { region })));
}

const users = (count: number) => Array.from({ length: count }, () => unique("u"));

describe("region object load does not grow with the number of polling users", () => {
  it("200 users polling within the window cost the region no read once one poll has warmed the copy", async () => {
    const region = unique("r");
    freezeTime();
    await announce([region]);
    await poll(unique("warm"), "", { region });
    const before = await regionReads(region);
    const answers = await pollAll(users(200), region);
    expect(answers.every((answer) => answer.cursor === 1)).toBe(true);
    expect((await regionReads(region)) - before).toBe(0);
  });

  it("after the window a poll reads the region once, and the next polls use the new copy", async () => {
    const region = unique("r");
    await announce([region]);
    const pollers = users(50);
    await pollAll(pollers, region);
    travel(CACHE_MS + 1);
    const before = await regionReads(region);
    await poll(pollers[0]!, "", { region });
    await pollAll(pollers.slice(1), region);
    expect((await regionReads(region)) - before).toBe(1);
  });

  it("users with stored cursors get the announcements after their cursor from the copy", async () => {
    const region = unique("r");
    const pollers = users(20);
    freezeTime();
    await pollAll(pollers, region); // each starts at the head (0)
    await announce([region], { body: "one" });
    await announce([region], { body: "two" });
    const before = await regionReads(region);
    const answers = await pollAll(pollers, region);
    for (const answer of answers) expect(answer.announcements.map((a) => a.id)).toEqual([1, 2]);
    expect((await regionReads(region)) - before).toBe(0);
  });
});

describe("what the copy cannot answer exactly goes to the region", () => {
  it("a publish in this isolate is visible to the very next poll", async () => {
    const region = unique("r");
    const user = unique("u");
    await poll(user, "", { region });
    await announce([region], { body: "fresh" });
    expect((await poll(user, "", { region })).announcements.map((a) => a.body)).toEqual(["fresh"]);
  });

  it("a since above the copy's head is the region's to judge: a reset", async () => {
    const region = unique("r");
    await announce([region]);
    await poll(unique("warm"), "", { region });
    const before = await regionReads(region);
    const answer = await poll(unique("u"), "?since=5", { region });
    expect(answer.reset).toBe(true);
    expect(answer.announcements.map((a) => a.id)).toEqual([1]);
    expect((await regionReads(region)) - before).toBe(1);
  });

  it("an epoch other than the copy's is the region's to judge: a reset", async () => {
    const region = unique("r");
    await announce([region]);
    const { epoch } = await poll(unique("warm"), "", { region });
    const before = await regionReads(region);
    const answer = await poll(unique("u"), "?since=1&epoch=0000000000000000", { region });
    expect(epoch).not.toBe("0000000000000000");
    expect(answer.reset).toBe(true);
    expect((await regionReads(region)) - before).toBe(1);
  });

  it(`a cursor further back than the copy's ${TAIL_SIZE} newest announcements is read from the region, in full`, async () => {
    const region = unique("r");
    for (let i = 0; i < TAIL_SIZE + 6; i++) await announce([region], { body: `n${i + 1}` });
    await poll(unique("warm"), "", { region });
    const before = await regionReads(region);
    const answer = await poll(unique("u"), "?since=1&limit=3", { region });
    expect(answer.announcements.map((a) => a.id)).toEqual([2, 3, 4]);
    expect(answer.gap).toBe(false);
    expect((await regionReads(region)) - before).toBe(1);
  });
});

describe("a stale copy (as another isolate would hold) is bounded and never skips", () => {
  /** Puts in place the copy an isolate would hold had it read the region when its head was `head`. */
  async function staleCopyAt(region: string, head: number) {
    const { tail } = await regionStub(region).readWithTail(null, 1);
    forgetTail(region);
    rememberTail(region, { ...tail, head, rows: tail.rows.filter((row) => row.id <= head) });
  }

  /** A user at the head of a region that then gets announcements 1 and 2, while this isolate's copy holds only 1. */
  async function behindAStaleCopy() {
    const region = unique("r");
    const user = unique("u");
    await poll(user, "", { region });
    await announce([region], { body: "first" });
    await announce([region], { body: "second" });
    await staleCopyAt(region, 1);
    return { region, user };
  }

  it("within the window a poll may miss the newest announcement, but its cursor stays at what it returned", async () => {
    const { region, user } = await behindAStaleCopy();
    const answer = await poll(user, "", { region });
    expect(answer.announcements.map((a) => a.id)).toEqual([1]);
    expect(answer.cursor).toBe(1);
  });

  it("after the window the same user gets what the stale copy did not have, with nothing skipped", async () => {
    const { region, user } = await behindAStaleCopy();
    const first = await poll(user, "", { region });
    travel(CACHE_MS + 1);
    const second = await poll(user, "", { region });
    expect([...first.announcements, ...second.announcements].map((a) => a.id)).toEqual([1, 2]);
    expect(second.cursor).toBe(2);
  });

  it("a newer copy is never replaced by an older one", async () => {
    const region = unique("r");
    const user = unique("u");
    await poll(user, "", { region });
    await announce([region]);
    await announce([region]);
    await poll(unique("warm"), "", { region }); // the copy now holds head 2
    const { tail } = await regionStub(region).readWithTail(null, 1);
    rememberTail(region, { ...tail, head: 1, rows: tail.rows.filter((row) => row.id <= 1) });
    expect((await poll(user, "", { region })).announcements.map((a) => a.id)).toEqual([1, 2]);
  });
});
