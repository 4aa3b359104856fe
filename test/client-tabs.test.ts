// Tabs of one device in one browser (one localStorage) share what they handle over a BroadcastChannel:
// a tab whose connection was down while another acknowledged still shows every message once.
import { afterEach, describe, expect, it, vi } from "vitest";
import { memoryStorage } from "../client/src/index.ts";
import { publishMany, range, unique } from "./helpers";
import { waitFor } from "./live-helpers";
import { FakeBroadcastChannel, stopClients, testClient, untilSeqs, untilStatus } from "./client-helpers";

afterEach(() => {
  stopClients();
  vi.unstubAllGlobals();
});

const PHONE = { device: "phone" };

describe("two tabs of one device", () => {
  it("each show every message once, whichever of them received and acknowledged it", async () => {
    vi.stubGlobal("BroadcastChannel", FakeBroadcastChannel);
    const user = unique("u");
    const storage = memoryStorage();
    const first = testClient(user, { claims: PHONE, storage });
    const second = testClient(user, { claims: PHONE, storage });
    await second.postbox.ready(); // open, but not connected: its socket is down
    first.postbox.live();
    await untilStatus(first, "live");
    await publishMany(user, 3);
    await untilSeqs(first, [1, 2, 3]);
    expect(await untilSeqs(second, [1, 2, 3])).toEqual([1, 2, 3]);
    // The second tab connects: its catch-up repeats nothing, and both get what comes next once.
    second.postbox.live();
    await untilStatus(second, "live");
    await publishMany(user, 2);
    await untilSeqs(first, range(1, 5));
    await untilSeqs(second, range(1, 5));
    await waitFor(() => first.seqs().length === 5 && second.seqs().length === 5, "five each");
    expect(first.seqs()).toEqual(range(1, 5));
    expect(second.seqs()).toEqual(range(1, 5));
  });

  it("without BroadcastChannel, each tab shows only what reached it", async () => {
    vi.stubGlobal("BroadcastChannel", undefined);
    const user = unique("u");
    const storage = memoryStorage();
    const first = testClient(user, { claims: PHONE, storage });
    const second = testClient(user, { claims: PHONE, storage });
    await second.postbox.ready();
    await publishMany(user, 2);
    await first.postbox.poll();
    expect(first.seqs()).toEqual([1, 2]);
    expect(second.seqs()).toEqual([]);
  });
});
