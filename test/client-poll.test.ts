// The client's poll(): every new message handled once, in order, page after page while `more`, and
// acknowledged only after its handler resolved; reset epochs; read(), unread() and HTTP errors.
import { afterEach, describe, expect, it } from "vitest";
import { PostboxError } from "../client/src/index.ts";
import { announceMany, pendingSeqs, seedAnnouncements, publishMany, range, unique, unreadSeqs, userWithMessages } from "./helpers";
import { expectAcksAfterHandlers, stopClients, storageWith, testClient } from "./client-helpers";

afterEach(stopClients);

const PHONE = { device: "phone" };

describe("poll()", () => {
  it("hands each pending message to onMessage once, in seq order, via poll, and acknowledges them", async () => {
    const user = await userWithMessages(3);
    const client = testClient(user, { claims: PHONE });
    await client.postbox.poll();
    expect(client.delivered.map((d) => [d.kind, d.via, d.kind === "personal" && d.message.body])).toEqual([
      ["personal", "poll", "m1"],
      ["personal", "poll", "m2"],
      ["personal", "poll", "m3"],
    ]);
    expect(await pendingSeqs(user, PHONE)).toEqual([]);
    await client.postbox.poll();
    expect(client.seqs()).toEqual([1, 2, 3]);
    expectAcksAfterHandlers(client);
  });

  it("follows `more` until the pending set and the region's log are through", async () => {
    // (With the default PENDING_LIMIT a personal list never needs a second page; the region's log does.)
    const user = await userWithMessages(100);
    const region = unique("r");
    const client = testClient(user, { claims: { ...PHONE, region } });
    await client.postbox.poll(); // places the device at the region's head
    await seedAnnouncements(region, 250);
    await client.postbox.poll();
    expect(client.seqs()).toEqual(range(1, 100));
    expect(client.ids()).toEqual(range(1, 250));
    expect(client.wire.requests.filter((r) => r.path === "/v1/inbox").length).toBe(4);
    expect(await pendingSeqs(user, PHONE)).toEqual([]);
    expectAcksAfterHandlers(client);
  });

  it("acknowledges a message only once its handler resolved", async () => {
    const user = await userWithMessages(2);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const pendingWhileHandling: number[][] = [];
    const client = testClient(user, {
      claims: PHONE,
      onMessage: async ({ message }) => {
        if ("seq" in message && message.seq === 2) {
          pendingWhileHandling.push(await pendingSeqs(user, PHONE));
          await gate;
        }
      },
    });
    const polled = client.postbox.poll();
    // The handler of seq 2 is still running: the poll has not acknowledged seq 1 either.
    await expect.poll(() => pendingWhileHandling.length).toBe(1);
    expect(pendingWhileHandling[0]).toEqual([1, 2]);
    release();
    await polled;
    expect(await pendingSeqs(user, PHONE)).toEqual([]);
  });

  it("stops at a handler that throws: that message and the ones after it stay pending and come again", async () => {
    const user = await userWithMessages(4);
    let failOnce = true;
    const handled: number[] = [];
    const client = testClient(user, {
      claims: PHONE,
      onMessage: ({ message }) => {
        const seq = (message as { seq: number }).seq;
        if (seq === 3 && failOnce) {
          failOnce = false;
          throw new Error("the app failed on 3");
        }
        handled.push(seq);
      },
    });
    await expect(client.postbox.poll()).rejects.toThrow("the app failed on 3");
    expect(handled).toEqual([1, 2]);
    expect(await pendingSeqs(user, PHONE)).toEqual([3, 4]);
    await client.postbox.poll();
    expect(handled).toEqual([1, 2, 3, 4]);
    expect(await pendingSeqs(user, PHONE)).toEqual([]);
  });

  it("after a reset, takes the new epoch's announcements as new even where their ids are not", async () => {
    const region = unique("r");
    const user = unique("u");
    await announceMany(region, 3);
    // The state of a client that had seen ids up to 5 in an epoch the region no longer has.
    const storage = storageWith({
      [`device:http://postbox.test:${user}`]: "phone",
      [`state:http://postbox.test:${user}:phone`]: JSON.stringify({
        lastSeq: 0,
        pushed: [],
        cursor: { region, epoch: "an-old-epoch", since: 5 },
      }),
    });
    const client = testClient(user, { claims: { region }, storage });
    await client.postbox.poll();
    expect(client.ids()).toEqual([1, 2, 3]);
    const kept = JSON.parse(storage.values.get(`state:http://postbox.test:${user}:phone`)!);
    expect(kept.cursor).toMatchObject({ region, since: 3 });
    expect(kept.cursor.epoch).not.toBe("an-old-epoch");
  });
});

describe("read() and unread() over HTTP", () => {
  it("sends a read receipt by seqs or upTo and answers the unread count; unread() lists what is left", async () => {
    const user = unique("u");
    await publishMany(user, 4);
    const client = testClient(user, { claims: PHONE });
    expect(await client.postbox.read([1, 3])).toEqual({ unread: 2 });
    expect(await unreadSeqs(user)).toEqual([2, 4]);
    expect(await client.postbox.read({ upTo: 2 })).toEqual({ unread: 1 });
    const unread = await client.postbox.unread();
    expect(unread.count).toBe(1);
    expect(unread.messages.map((m) => m.seq)).toEqual([4]);
  });
});

describe("errors", () => {
  it("rejects with a PostboxError carrying the status and the problem", async () => {
    const user = unique("u");
    const client = testClient(user, { claims: PHONE, device: "laptop" });
    const error = (await client.postbox.poll().catch((e: unknown) => e)) as PostboxError;
    expect(error).toBeInstanceOf(PostboxError);
    expect(error.status).toBe(403);
    expect(error.problem).toMatchObject({ status: 403, title: expect.any(String), detail: expect.any(String) });
  });
});
