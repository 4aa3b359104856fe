// GET /v1/inbox, the message request, for its announcement part: which region
// is read, where the cursor starts and how it moves, since/epoch/reset, gap,
// limit and more, racing polls, and the personal part alongside it.
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  announce,
  announceMany,
  ANNOUNCEMENT_LIMIT,
  ANNOUNCEMENT_TTL,
  client,
  DAY,
  EMPTY_ANSWER,
  evictRegion,
  expectInvalid,
  expectProblem,
  freezeTime,
  poll,
  publish,
  range,
  regionLog,
  regionStub,
  regionWithAnnouncements,
  seedAnnouncements,
  setRegion,
  travel,
  unique,
  userView,
  wipeStorage,
  type InboxAnswer,
} from "./helpers";

const ids = (answer: InboxAnswer) => answer.announcements.map((a) => a.id);

/** Empties the region's storage and restarts its object, as if it had never run: a new epoch begins. */
async function resetRegionStorage(region: string) {
  await runInDurableObject(regionStub(region), (_instance, state) => wipeStorage(state.storage));
  await evictRegion(region);
}

/** A user whose stored cursor in `region` is at the region's current head. */
async function userAtHead(region: string) {
  const userId = unique("u");
  await poll(userId, `?region=${region}`);
  return userId;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("GET /v1/inbox: which region", () => {
  it("without a token claim, a region parameter or a stored region, has no announcement part", async () => {
    const userId = unique("u");
    const answer = await poll(userId);
    expect(answer).toEqual(EMPTY_ANSWER);
    expect((await userView(userId)).cursors).toEqual({});
  });

  it("reads the region of the token's claim", async () => {
    const region = await regionWithAnnouncements(2);
    const { epoch } = await regionLog(region);
    const answer = await poll(unique("u"), "", { region });
    expect(answer.region).toBe(region);
    expect(answer.epoch).toBe(epoch);
    expect(answer.cursor).toBe(2);
  });

  it("reads the region named by ?region= when the token has no claim", async () => {
    const region = await regionWithAnnouncements(3);
    const { epoch } = await regionLog(region);
    const answer = await poll(unique("u"), `?region=${region}`);
    expect(answer.region).toBe(region);
    expect(answer.epoch).toBe(epoch);
    expect(answer.cursor).toBe(3);
  });

  it("falls back to the region stored by PUT /admin/v1/users/{id}/region", async () => {
    const region = unique("r");
    const userId = unique("u");
    await announceMany(region, 1);
    expect(await setRegion(userId, region)).toEqual({ userId, region });
    expect((await userView(userId)).region).toBe(region);
    const answer = await poll(userId);
    expect(answer.region).toBe(region);
    expect(answer.cursor).toBe(1);
    expect(answer.epoch).toBe((await regionLog(region)).epoch);
  });

  it("prefers the token's claim over the stored region", async () => {
    const claimed = unique("claimed");
    const stored = unique("stored");
    const userId = unique("u");
    await setRegion(userId, stored);
    const answer = await poll(userId, "", { region: claimed });
    expect(answer.region).toBe(claimed);
    expect((await userView(userId)).cursors).toEqual({ [claimed]: 0 });
  });

  it("prefers ?region= over the stored region", async () => {
    const named = unique("named");
    const stored = unique("stored");
    const userId = unique("u");
    await setRegion(userId, stored);
    const answer = await poll(userId, `?region=${named}`);
    expect(answer.region).toBe(named);
    expect((await userView(userId)).cursors).toEqual({ [named]: 0 });
  });

  it("accepts a ?region= equal to the token's claim", async () => {
    const region = unique("r");
    const answer = await poll(unique("u"), `?region=${region}`, { region });
    expect(answer.region).toBe(region);
  });

  it("answers 403 (problem) to a ?region= that differs from the token's claim, and changes nothing", async () => {
    const claimed = unique("claimed");
    const other = unique("other");
    const userId = unique("u");
    await announceMany(other, 2);
    await publish(userId, { body: "personal" });
    const res = await client(userId, `/v1/inbox?region=${other}&consume=true`, { region: claimed });
    await expectProblem(res, 403);
    const view = await userView(userId);
    expect(view.cursors).toEqual({});
    expect(view.pending.count).toBe(1);
  });

  it("answers 400 to an invalid ?region=", async () => {
    await expectInvalid(await client(unique("u"), "/v1/inbox?region=not%20valid"), "region");
  });

  it("PUT region null clears the stored region: no announcement part any more", async () => {
    const region = unique("r");
    const userId = unique("u");
    await setRegion(userId, region);
    expect((await poll(userId)).region).toBe(region);
    expect(await setRegion(userId, null)).toEqual({ userId, region: null });
    expect((await userView(userId)).region).toBeNull();
    await announceMany(region, 1);
    const answer = await poll(userId);
    expect([answer.region, answer.cursor, answer.epoch, answer.announcements]).toEqual([null, null, null, []]);
  });
});

describe("GET /v1/inbox: the stored cursor", () => {
  it("starts a new user at the region's head: no backlog", async () => {
    const region = unique("r");
    const userId = unique("u");
    await announceMany(region, 3);
    const answer = await poll(userId, `?region=${region}`);
    expect(answer.announcements).toEqual([]);
    expect(answer.cursor).toBe(3);
    expect([answer.gap, answer.reset, answer.more]).toEqual([false, false, false]);
    expect((await userView(userId)).cursors).toEqual({ [region]: 3 });
  });

  it("in an unused region starts at 0 and fixes the epoch the publisher later sees", async () => {
    const region = unique("r");
    const userId = unique("u");
    const answer = await poll(userId, `?region=${region}`);
    expect([ids(answer), answer.cursor, answer.gap, answer.reset]).toEqual([[], 0, false, false]);
    expect(typeof answer.epoch).toBe("string");
    await announceMany(region, 1);
    expect((await regionLog(region)).epoch).toBe(answer.epoch);
    const next = await poll(userId, `?region=${region}`);
    expect([ids(next), next.cursor, next.epoch]).toEqual([[1], 1, answer.epoch]);
  });

  it("then returns later announcements, oldest first, and advances the stored cursor", async () => {
    const region = await regionWithAnnouncements(3);
    const userId = await userAtHead(region);
    const published = await announce([region], { title: "T", body: "four", data: { k: 1 } });
    await announce([region], { body: "five" });
    const answer = await poll(userId, `?region=${region}`);
    expect(answer.announcements).toEqual([
      { id: 4, region, title: "T", body: "four", data: { k: 1 }, createdAt: published.createdAt },
      expect.objectContaining({ id: 5, region, body: "five" }),
    ]);
    expect(answer.cursor).toBe(5);
    expect((await userView(userId)).cursors).toEqual({ [region]: 5 });
    const again = await poll(userId, `?region=${region}`);
    expect(again.announcements).toEqual([]);
    expect(again.cursor).toBe(5);
  });

  it("keeps one cursor per region: a second region starts at its own head", async () => {
    const a = unique("ra");
    const b = unique("rb");
    const userId = await userAtHead(a);
    await announceMany(a, 2);
    await announceMany(b, 4);
    expect(ids(await poll(userId, `?region=${a}`))).toEqual([1, 2]);
    const inB = await poll(userId, `?region=${b}`);
    expect(inB.announcements).toEqual([]);
    expect(inB.cursor).toBe(4);
    expect((await userView(userId)).cursors).toEqual({ [a]: 2, [b]: 4 });
  });

  it("applies limit: more is true, the cursor is the highest id returned, and the next poll continues", async () => {
    const region = unique("r");
    const userId = await userAtHead(region);
    await announceMany(region, 5);
    const q = `?region=${region}&limit=2`;

    const first = await poll(userId, q);
    expect([ids(first), first.cursor, first.more]).toEqual([[1, 2], 2, true]);
    expect((await userView(userId)).cursors[region]).toBe(2);

    const second = await poll(userId, q);
    expect([ids(second), second.cursor, second.more]).toEqual([[3, 4], 4, true]);

    const third = await poll(userId, q);
    expect([ids(third), third.cursor, third.more]).toEqual([[5], 5, false]);
  });

  it("says more is false when exactly limit announcements were left", async () => {
    const region = unique("r");
    const userId = await userAtHead(region);
    await announceMany(region, 3);
    const answer = await poll(userId, `?region=${region}&limit=3`);
    expect([ids(answer), answer.cursor, answer.more]).toEqual([[1, 2, 3], 3, false]);
  });

  it("defaults limit to 100", async () => {
    const region = unique("r");
    const userId = await userAtHead(region);
    await seedAnnouncements(region, 101);
    const answer = await poll(userId, `?region=${region}`);
    expect(answer.announcements).toHaveLength(100);
    expect([answer.cursor, answer.more]).toEqual([100, true]);
    const rest = await poll(userId, `?region=${region}`);
    expect([ids(rest), rest.cursor, rest.more]).toEqual([[101], 101, false]);
  });
});

describe("GET /v1/inbox: since, epoch and reset", () => {
  it("uses the client's own since instead of the stored cursor, then stores the answer's cursor", async () => {
    const region = await regionWithAnnouncements(5);
    const userId = await userAtHead(region); // stored cursor 5
    const answer = await poll(userId, `?region=${region}&since=2`);
    expect([ids(answer), answer.cursor, answer.reset, answer.gap]).toEqual([[3, 4, 5], 5, false, false]);

    const other = await userAtHead(region);
    const limited = await poll(other, `?region=${region}&since=1&limit=2`);
    expect([ids(limited), limited.cursor, limited.more]).toEqual([[2, 3], 3, true]);
    expect((await userView(other)).cursors[region]).toBe(3);
  });

  it("since=0 gets everything still retained", async () => {
    const region = await regionWithAnnouncements(4);
    const answer = await poll(unique("u"), `?region=${region}&since=0`);
    expect([ids(answer), answer.cursor, answer.gap, answer.reset]).toEqual([[1, 2, 3, 4], 4, false, false]);
  });

  it("since equal to the head (same epoch) returns nothing and is no reset", async () => {
    const region = await regionWithAnnouncements(3);
    const { epoch } = await regionLog(region);
    const answer = await poll(unique("u"), `?region=${region}&since=3&epoch=${epoch}`);
    expect([ids(answer), answer.cursor, answer.reset, answer.gap]).toEqual([[], 3, false, false]);
  });

  it("an epoch that matches the region's is no reset", async () => {
    const region = await regionWithAnnouncements(3);
    const { epoch } = await regionLog(region);
    const answer = await poll(unique("u"), `?region=${region}&since=1&epoch=${epoch}`);
    expect([ids(answer), answer.cursor, answer.reset, answer.epoch]).toEqual([[2, 3], 3, false, epoch]);
  });

  it("an epoch that differs from the region's is a reset: since counts as 0", async () => {
    const region = await regionWithAnnouncements(4);
    const { epoch } = await regionLog(region);
    const answer = await poll(unique("u"), `?region=${region}&since=2&epoch=some-other-epoch`);
    expect([ids(answer), answer.cursor, answer.reset, answer.gap, answer.epoch]).toEqual([
      [1, 2, 3, 4],
      4,
      true,
      false,
      epoch,
    ]);
  });

  it("since above the region's head is a reset: since counts as 0", async () => {
    const region = await regionWithAnnouncements(2);
    const { epoch } = await regionLog(region);
    const withEpoch = await poll(unique("u"), `?region=${region}&since=7&epoch=${epoch}`);
    expect([ids(withEpoch), withEpoch.cursor, withEpoch.reset, withEpoch.gap]).toEqual([[1, 2], 2, true, false]);
    const withoutEpoch = await poll(unique("u"), `?region=${region}&since=3`);
    expect([ids(withoutEpoch), withoutEpoch.cursor, withoutEpoch.reset]).toEqual([[1, 2], 2, true]);
  });

  it("a reset applies limit from id 1 on", async () => {
    const region = await regionWithAnnouncements(3);
    const userId = unique("u");
    const answer = await poll(userId, `?region=${region}&since=2&epoch=old&limit=2`);
    expect([ids(answer), answer.cursor, answer.reset, answer.more]).toEqual([[1, 2], 2, true, true]);
    expect((await userView(userId)).cursors[region]).toBe(2);
  });

  it("ignores epoch without since: the stored cursor is used and there is no reset", async () => {
    const region = await regionWithAnnouncements(2);
    const userId = await userAtHead(region);
    await announceMany(region, 1);
    const answer = await poll(userId, `?region=${region}&epoch=some-other-epoch`);
    expect([ids(answer), answer.cursor, answer.reset]).toEqual([[3], 3, false]);
  });

  it("a client cursor from before the region's storage was reset gets the new epoch's announcements from 1", async () => {
    const region = await regionWithAnnouncements(5);
    const old = await regionLog(region);
    await resetRegionStorage(region);
    await announceMany(region, 2);
    const fresh = await regionLog(region);
    expect(fresh.epoch).not.toBe(old.epoch);
    expect(fresh.head).toBe(2);

    const answer = await poll(unique("u"), `?region=${region}&since=1&epoch=${old.epoch}`);
    expect([ids(answer), answer.cursor, answer.reset, answer.epoch]).toEqual([[1, 2], 2, true, fresh.epoch]);
  });

  it("a stored cursor from before the region's storage was reset does not hide the new epoch's announcements", async () => {
    const region = await regionWithAnnouncements(5);
    const userId = await userAtHead(region); // stored cursor 5 in the old epoch
    await resetRegionStorage(region);
    await announceMany(region, 2);
    const answer = await poll(userId, `?region=${region}`);
    expect([ids(answer), answer.cursor, answer.epoch]).toEqual([[1, 2], 2, (await regionLog(region)).epoch]);
  });
});

describe("GET /v1/inbox: gap", () => {
  it("is true when announcements after the stored cursor expired (age retention)", async () => {
    const region = unique("r");
    const t0 = freezeTime();
    const userId = await userAtHead(region); // cursor 0
    await announceMany(region, 3);
    vi.setSystemTime(t0 + 10 * DAY);
    await announceMany(region, 2);
    vi.setSystemTime(t0 + ANNOUNCEMENT_TTL + 1000); // 1, 2, 3 expired; 4, 5 retained
    const answer = await poll(userId, `?region=${region}`);
    expect([ids(answer), answer.cursor, answer.gap, answer.reset]).toEqual([[4, 5], 5, true, false]);
  });

  it("is true when every announcement after the cursor expired and none is returned", async () => {
    const region = unique("r");
    freezeTime();
    const userId = await userAtHead(region); // cursor 0
    await announceMany(region, 3);
    travel(ANNOUNCEMENT_TTL + 1000);
    const answer = await poll(userId, `?region=${region}`);
    expect([ids(answer), answer.cursor, answer.gap, answer.more]).toEqual([[], 3, true, false]);
    // The cursor now stands at the head: the next poll has no gap.
    const next = await poll(userId, `?region=${region}`);
    expect([ids(next), next.cursor, next.gap]).toEqual([[], 3, false]);
  });

  it("is true for since=0 after id 1 was dropped by count retention, and false from the oldest retained on", async () => {
    const region = unique("r");
    await seedAnnouncements(region, ANNOUNCEMENT_LIMIT + 1); // id 1 dropped, 2 .. 1001 retained
    expect((await regionLog(region)).oldest).toBe(2);
    const zero = await poll(unique("u"), `?region=${region}&since=0&limit=2`);
    expect([ids(zero), zero.cursor, zero.gap, zero.more]).toEqual([[2, 3], 3, true, true]);
    const one = await poll(unique("u"), `?region=${region}&since=1&limit=2`);
    expect([ids(one), one.cursor, one.gap]).toEqual([[2, 3], 3, false]);
  });

  it("is true after a reset when id 1 is no longer retained", async () => {
    const region = unique("r");
    await seedAnnouncements(region, ANNOUNCEMENT_LIMIT + 2); // 1 and 2 dropped
    const answer = await poll(unique("u"), `?region=${region}&since=5&epoch=gone&limit=1`);
    expect([ids(answer), answer.cursor, answer.reset, answer.gap]).toEqual([[3], 3, true, true]);
  });

  it("is false when nothing after the cursor was dropped, also while older ids were", async () => {
    const region = unique("r");
    await seedAnnouncements(region, ANNOUNCEMENT_LIMIT + 3); // 1 .. 3 dropped
    const userId = await userAtHead(region);
    await announceMany(region, 2);
    const stored = await poll(userId, `?region=${region}`);
    expect([ids(stored), stored.gap]).toEqual([[ANNOUNCEMENT_LIMIT + 4, ANNOUNCEMENT_LIMIT + 5], false]);
    // The cursor just before the oldest retained id: nothing in between is missing.
    const { oldest } = await regionLog(region);
    expect(oldest).toBe(6); // 1 .. 5 dropped now
    const edge = await poll(unique("u"), `?region=${region}&since=5&limit=1`);
    expect([ids(edge), edge.gap]).toEqual([[6], false]);
  });

  it("is false for a user whose cursor stands at the head", async () => {
    const region = await regionWithAnnouncements(2);
    const userId = await userAtHead(region);
    const answer = await poll(userId, `?region=${region}`);
    expect([ids(answer), answer.cursor, answer.gap]).toEqual([[], 2, false]);
  });
});

describe("GET /v1/inbox: racing polls", () => {
  it("two polls racing with publishes never skip an announcement, over several rounds", async () => {
    const region = unique("r");
    const userId = await userAtHead(region); // cursor 0
    const seen = new Set<number>();
    const answers: InboxAnswer[] = [];
    const small = `?region=${region}&limit=3`;
    const large = `?region=${region}`;
    let published = 0;

    const publisher = async (round: number, name: string) => {
      for (let i = 0; i < 4; i++) {
        await announce([region], { body: `round ${round} ${name}${i}` });
        published++;
      }
    };
    /** A client that keeps polling while the publishers run. */
    const poller = async (query: string, times: number) => {
      for (let i = 0; i < times; i++) answers.push(await poll(userId, query));
    };

    for (let round = 0; round < 12; round++) {
      await Promise.all([
        publisher(round, "a"),
        publisher(round, "b"),
        poller(round % 2 === 0 ? small : large, 4),
        poller(large, 4),
      ]);
    }
    // Drain what the stored cursor still has to give.
    for (let i = 0; i < 100; i++) {
      const answer = await poll(userId, small);
      answers.push(answer);
      if (!answer.more && answer.announcements.length === 0) break;
    }

    for (const answer of answers) {
      ids(answer).forEach((id) => seen.add(id));
      // Each answer is a contiguous run of ids ending at its cursor.
      const got = ids(answer);
      if (got.length > 0) {
        expect(got).toEqual(range(got[0]!, got.at(-1)!));
        expect(answer.cursor).toBe(got.at(-1));
      }
    }
    expect(published).toBe(96);
    expect([...seen].sort((a, b) => a - b)).toEqual(range(1, published));
    expect((await userView(userId)).cursors[region]).toBe(published);
  });
});

describe("GET /v1/inbox: personal and announcement parts together", () => {
  it("returns both lists, applies ack before answering, and moves the cursor", async () => {
    const region = unique("r");
    const userId = unique("u");
    await setRegion(userId, region);
    await announceMany(region, 1);
    await publish(userId, { body: "p1" });
    await publish(userId, { body: "p2" });

    const first = await poll(userId);
    expect(first.personal.map((m) => m.seq)).toEqual([1, 2]);
    expect([ids(first), first.cursor, first.ack, first.region]).toEqual([[], 1, 2, region]);

    await publish(userId, { body: "p3" });
    await announceMany(region, 2);
    const second = await poll(userId, `?ack=${first.ack}`);
    expect(second.personal.map((m) => [m.seq, m.body])).toEqual([[3, "p3"]]);
    expect([ids(second), second.cursor, second.ack, second.more]).toEqual([[2, 3], 3, 3, false]);
    const view = await userView(userId);
    expect(view.pending.count).toBe(1);
    expect(view.cursors).toEqual({ [region]: 3 });
  });

  it("with consume=true removes the returned personal messages and still advances the announcement cursor", async () => {
    const region = unique("r");
    const userId = await userAtHead(region);
    await publish(userId, { body: "p1" });
    await announceMany(region, 2);
    const answer = await poll(userId, `?region=${region}&consume=true`);
    expect(answer.personal.map((m) => m.seq)).toEqual([1]);
    expect([ids(answer), answer.cursor, answer.ack]).toEqual([[1, 2], 2, 1]);
    const view = await userView(userId);
    expect(view.pending.count).toBe(0);
    expect(view.cursors).toEqual({ [region]: 2 });
    const next = await poll(userId, `?region=${region}`);
    expect([next.personal, ids(next), next.cursor, next.ack]).toEqual([[], [], 2, null]);
  });

  it("applies limit to each list, and more is true when either list was cut", async () => {
    const region = unique("r");
    const userId = await userAtHead(region);
    for (let i = 0; i < 3; i++) await publish(userId, { body: `p${i}` });
    await announceMany(region, 2);
    const q = `?region=${region}&limit=2`;

    const first = await poll(userId, q);
    expect([first.personal.map((m) => m.seq), ids(first), first.more]).toEqual([[1, 2], [1, 2], true]);
    const second = await poll(userId, `${q}&ack=2`);
    expect([second.personal.map((m) => m.seq), ids(second), second.cursor, second.more]).toEqual([[3], [], 2, false]);
  });
});
