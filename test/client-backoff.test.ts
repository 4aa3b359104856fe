// Reconnect waits: full jitter, a random wait up to 1 s, 2 s, 4 s … 30 s, reset once a connection is
// caught up. On fake timers with a WebSocket that never connects (and then one that does).
import { afterEach, describe, expect, it, vi } from "vitest";
import { Postbox, type WebSocketLike } from "../client/src/index.ts";
import { reconnectDelay } from "../client/src/backoff.ts";
import { clientTokenFor, unique } from "./helpers";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("reconnectDelay", () => {
  it("is random below min(30 s, 1 s × 2^attempt)", () => {
    const caps = [0, 1, 2, 3, 4, 5, 6, 10].map((attempt) => reconnectDelay(attempt, 1_000, 30_000, () => 1));
    expect(caps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(reconnectDelay(3, 1_000, 30_000, () => 0.25)).toBe(2_000);
  });
});

/** A WebSocket whose connection attempts fail (or, once `accept` is set, open and send an empty catch-up). */
function flakySockets() {
  const opened: number[] = [];
  const instances: FlakySocket[] = [];
  let accept = false;
  class FlakySocket implements WebSocketLike {
    readyState = 0;
    onopen: ((event: unknown) => void) | null = null;
    onmessage: ((event: { data: unknown }) => void) | null = null;
    onclose: ((event: { code: number; reason: string }) => void) | null = null;
    onerror: ((event: unknown) => void) | null = null;
    constructor(readonly url: string) {
      opened.push(Date.now());
      instances.push(this);
      queueMicrotask(() => {
        if (!accept) {
          this.readyState = 3;
          this.onclose?.({ code: 1006, reason: "unreachable" });
          return;
        }
        this.readyState = 1;
        this.onopen?.({});
        const catchup = { type: "catchup", personal: [], announcements: [], region: null, cursor: null, epoch: null, ack: null, dropped: 0, gap: false, reset: false, more: false };
        this.onmessage?.({ data: JSON.stringify(catchup) });
      });
    }
    send() {}
    close() {
      if (this.readyState === 3) return;
      this.readyState = 3;
      this.onclose?.({ code: 1000, reason: "" });
    }
  }
  return { FlakySocket, opened, instances, accept: () => (accept = true), fail: () => (accept = false) };
}

describe("live() reconnecting", () => {
  it("waits a random time up to 1 s, 2 s, 4 s … 30 s between failed attempts, and starts again once caught up", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"] });
    vi.spyOn(Math, "random").mockReturnValue(0.999);
    const sockets = flakySockets();
    const token = await clientTokenFor(unique("u"), { device: "phone" });
    const statuses: string[] = [];
    const postbox = new Postbox({ url: "http://postbox.test", token, WebSocket: sockets.FlakySocket, onStatus: (s) => void statuses.push(s) });
    postbox.live();
    await vi.advanceTimersByTimeAsync(0);
    expect(sockets.opened.length).toBe(1);
    const waits: number[] = [];
    for (let attempt = 0; attempt < 7; attempt++) {
      const before = sockets.opened.length;
      const from = Date.now();
      while (sockets.opened.length === before) await vi.advanceTimersByTimeAsync(100);
      waits.push(Math.round((Date.now() - from) / 100) * 100);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000]);
    expect(statuses).toEqual(["connecting", "reconnecting"]);

    // A connection that gets through and is caught up resets the wait.
    sockets.accept();
    await vi.advanceTimersByTimeAsync(30_000);
    expect(statuses.at(-1)).toBe("live");
    sockets.fail();
    const dropped = sockets.opened.length;
    // The server goes away: the socket closes, and the first wait is 1 s again.
    const last = sockets.instances.at(-1)!;
    last.readyState = 3;
    last.onclose?.({ code: 1006, reason: "gone" });
    await vi.advanceTimersByTimeAsync(900);
    expect(sockets.opened.length).toBe(dropped);
    await vi.advanceTimersByTimeAsync(200);
    expect(sockets.opened.length).toBe(dropped + 1);
    postbox.stop();
  });
});
