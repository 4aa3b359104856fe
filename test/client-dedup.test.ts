// Deduplication across push, live and poll: a seq handled from a push (the service worker posts it to
// the page) is not handled again and not acknowledged from the push; announcements by (region, epoch, id).
import { afterEach, describe, expect, it, vi } from "vitest";
import { announce, pendingSeqs, publishMany, range, seedAnnouncements, unique } from "./helpers";
import { fakeServiceWorkers, stopClients, testClient, untilSeqs, untilStatus } from "./client-helpers";
import { waitFor } from "./live-helpers";

afterEach(() => {
  stopClients();
  vi.unstubAllGlobals();
});

const PHONE = { device: "phone" };

describe("a message the service worker received by push", () => {
  it("is handled via push when it is the next seq, left unacknowledged, and skipped (then acknowledged) when a poll brings it", async () => {
    const user = unique("u");
    const [first, second] = await publishMany(user, 2);
    const worker = fakeServiceWorkers(vi.stubGlobal);
    const client = testClient(user, { claims: PHONE });
    await client.postbox.ready();
    const [one, two] = (await client.postbox.unread()).messages;
    worker.post({ type: "postbox:push", message: one! });
    worker.post({ type: "postbox:push", message: two! });
    await untilSeqs(client, [first!.seq, second!.seq]);
    expect(client.delivered.map((d) => d.via)).toEqual(["push", "push"]);
    // Nothing acknowledged from a push: an ack would cover older messages whose pushes were lost.
    expect(client.wire.acks).toEqual([]);
    expect(await pendingSeqs(user, PHONE)).toEqual([1, 2]);

    await client.postbox.poll();
    expect(client.seqs()).toEqual([1, 2]);
    expect(await pendingSeqs(user, PHONE)).toEqual([]);
  });

  it("when an older one's push was lost, waits for a poll that hands the older one over first", async () => {
    const user = unique("u");
    const [, second] = await publishMany(user, 2);
    const worker = fakeServiceWorkers(vi.stubGlobal);
    const client = testClient(user, { claims: PHONE });
    await client.postbox.ready();
    // Seq 1's push was lost; seq 2's arrived.
    const pushed = (await client.postbox.unread()).messages.find((m) => m.seq === second!.seq)!;
    worker.post({ type: "postbox:push", message: pushed });
    await untilSeqs(client, [1, 2]);
    expect(client.delivered.map((d) => [(d.message as { seq: number }).seq, d.via])).toEqual([
      [1, "poll"],
      [2, "push"],
    ]);
    // Both came with the poll, which acknowledged them.
    await waitFor(async () => (await pendingSeqs(user, PHONE)).length === 0, "both acknowledged");
  });

  it("is ignored when the client has handled that seq already", async () => {
    const user = unique("u");
    await publishMany(user, 1);
    const worker = fakeServiceWorkers(vi.stubGlobal);
    const client = testClient(user, { claims: PHONE });
    await client.postbox.poll();
    const [message] = (await client.postbox.unread()).messages;
    worker.post({ type: "postbox:push", message });
    worker.post({ type: "postbox:push", message });
    await client.postbox.poll(); // runs after the pushes in the client's queue
    expect(client.seqs()).toEqual([1]);
  });
});

describe("announcements", () => {
  it("are handled once when a poll and a live frame both bring one", async () => {
    const user = unique("u");
    const region = unique("r");
    const client = testClient(user, {
      claims: { ...PHONE, region },
      // Published while the cut catch-up is handled: the poll completing it and a live frame both bring id 121.
      onMessage: async (d) => void (d.kind === "announcement" && d.message.id === 50 && (await announce([region]))),
    });
    await client.postbox.poll(); // places the device at the region's head
    await seedAnnouncements(region, 120);
    client.postbox.live();
    await untilStatus(client, "live");
    await announce([region]);
    await waitFor(() => client.ids().includes(122), "id 122", () => client.ids());
    expect(client.ids()).toEqual(range(1, 122));
  });
});
