// What every push channel shares: the outbound fetch's timeout, and reading Retry-After.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { fetchWithTimeout, retryAfterMs } from "../src/push/channel";

describe("fetchWithTimeout", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A push service that never answers; the request fails only when its signal aborts. */
  const silent = (_: RequestInfo | URL, init?: RequestInit) =>
    new Promise<Response>((_, reject) => init!.signal!.addEventListener("abort", () => reject(init!.signal!.reason)));

  it("aborts a request that has no answer when the time is up, and not before", async () => {
    let settled = false;
    const request = fetchWithTimeout("https://push.stand-in.test/", {}, 5_000, silent).finally(() => (settled = true));
    request.catch(() => {}); // awaited below, after the clock moves
    await vi.advanceTimersByTimeAsync(4_999);
    expect(settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await expect(request).rejects.toMatchObject({ name: "TimeoutError" });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("clears its timer when the answer comes, and passes the request on as it was", async () => {
    const fetcher = vi.fn(async () => new Response("ok", { status: 201 }));
    const response = await fetchWithTimeout("https://push.stand-in.test/x", { method: "POST", body: "b" }, 5_000, fetcher);
    expect(response.status).toBe(201);
    expect(vi.getTimerCount()).toBe(0);
    expect(fetcher).toHaveBeenCalledWith("https://push.stand-in.test/x", expect.objectContaining({ method: "POST", body: "b" }));
  });

  it("clears its timer when the request fails", async () => {
    const unreachable = () => Promise.reject(new TypeError("Network connection lost."));
    await expect(fetchWithTimeout("https://push.stand-in.test/", {}, 5_000, unreachable)).rejects.toThrow(TypeError);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe("retryAfterMs", () => {
  const now = Date.parse("2026-12-01T10:00:00Z");

  it("reads delay-seconds", () => {
    expect([retryAfterMs("120", now), retryAfterMs("0", now), retryAfterMs(" 5 ", now)]).toEqual([120_000, 0, 5_000]);
  });

  it("reads an HTTP-date as the time until then, and a date passed as now", () => {
    expect(retryAfterMs("Tue, 01 Dec 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(retryAfterMs("Tue, 01 Dec 2026 09:59:00 GMT", now)).toBe(0);
    expect(retryAfterMs("Tuesday, 01-Dec-26 10:01:00 GMT", now)).toBe(60_000);
    expect(retryAfterMs("Tue Dec  1 10:00:10 2026", now)).toBe(10_000);
  });

  it("is undefined when absent or unreadable", () => {
    expect([null, "", "soon", "-5", "1.5", "Tue, 99 Foo 2026"].map((header) => retryAfterMs(header, now))).toEqual(Array(6).fill(undefined));
  });
});
