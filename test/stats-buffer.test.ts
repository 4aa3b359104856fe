// The stats an object buffers before its flush (src/stats/buffer.ts): counts
// per publish second, pairs moving between outcomes, latency bins and their
// percentiles, batches numbered once and kept until confirmed, the flush
// deadline, and the trip through JSON that storing it takes.
import { afterEach, describe, expect, it, vi } from "vitest";
import { FLUSH_DELAY_MS, StatsBuffer, type StatsBufferData } from "../src/stats/buffer";
import { latencyBin, percentiles } from "../src/stats/histogram";
import { freezeTime, SECOND } from "./helpers";

const T = Date.UTC(2026, 10, 25, 10, 0, 0);
const second = (ms: number) => String(Math.floor(ms / 1000));

/** A buffer as the object gets it back from storage. */
const stored = (buffer: StatsBuffer) => StatsBuffer.from(JSON.parse(JSON.stringify(buffer)) as StatsBufferData);

afterEach(() => {
  vi.useRealTimers();
});

describe("counts", () => {
  it("are kept per publish second, whatever the time they are recorded at", () => {
    const buffer = StatsBuffer.from();
    buffer.message(T);
    buffer.message(T + 999);
    buffer.message(T + 1000);
    buffer.announcements(T + 1500, 3);
    buffer.push(T, "fcm", "sent");
    buffer.push(T, "fcm", "sent");
    buffer.push(T, "apns", "removed");
    expect(buffer.drain()!.buckets).toEqual({
      [second(T)]: { messages: 2, "push.fcm.sent": 2, "push.apns.removed": 1 },
      [second(T + 1000)]: { messages: 1, announcements: 3 },
    });
  });

  it("move a pair from one outcome to the next, latency included, and leave out what comes back to 0", () => {
    const buffer = StatsBuffer.from();
    buffer.pair(T, null, { outcome: "pending", at: null });
    buffer.pair(T, null, { outcome: "pending", at: null });
    buffer.pair(T, { outcome: "pending", at: null }, { outcome: "push", at: T + 5000 });
    expect(buffer.drain()!.buckets[second(T)]).toEqual({
      "outcome.pending": 1,
      "outcome.push": 1,
      [`latency.push.${latencyBin(5000)}`]: 1,
    });
  });

  it("replace an arrival's latency when an earlier one replaces it (push → poll), also across batches", () => {
    const buffer = StatsBuffer.from();
    buffer.pair(T, null, { outcome: "push", at: T + 9000 });
    buffer.confirm(buffer.drain()!.number);
    buffer.pair(T, { outcome: "push", at: T + 9000 }, { outcome: "poll", at: T + 300 });
    expect(buffer.drain()!.buckets[second(T)]).toEqual({
      "outcome.push": -1,
      [`latency.push.${latencyBin(9000)}`]: -1,
      "outcome.poll": 1,
      "latency.poll.300": 1,
    });
  });

  it("count no latency for outcomes that are not arrivals", () => {
    const buffer = StatsBuffer.from();
    buffer.pair(T, null, { outcome: "expired", at: T + 7000 });
    buffer.pair(T, null, { outcome: "read", at: T + 50 });
    expect(buffer.drain()!.buckets[second(T)]).toEqual({ "outcome.expired": 1, "outcome.read": 1 });
  });
});

describe("latency bins", () => {
  it("are exact below 2048 ms and count a negative latency (clocks apart) as 0", () => {
    for (const ms of [0, 1, 2, 1000, 2047]) expect(latencyBin(ms)).toBe(ms);
    expect(latencyBin(12.9)).toBe(12);
    expect(latencyBin(-40)).toBe(0);
  });

  it("keep 11 significant bits above, so a value reads back within 0.05 % (the worst cases: each bin's ends)", () => {
    for (let exponent = 11; exponent <= 40; exponent++) {
      const width = 2 ** (exponent - 10);
      for (const value of [2 ** exponent, 2 ** exponent + width - 1, 2 ** (exponent + 1) - 1, 3 * 2 ** (exponent - 1) + 7]) {
        const bin = latencyBin(value);
        expect(bin, `bin of ${value}`).toBeLessThanOrEqual(value);
        expect(value - bin, `bin of ${value}`).toBeLessThan(width);
        const read = percentiles([[bin, 1]]).p50!;
        expect(Math.abs(read - value) / value, `${value} read as ${read}`).toBeLessThanOrEqual(0.0005);
      }
    }
  });

  it("number at most 2048 + 1024 per doubling", () => {
    const bins = new Set<number>();
    for (let ms = 0; ms < 2 ** 14; ms++) bins.add(latencyBin(ms));
    expect(bins.size).toBe(2048 + 3 * 1024);
  });
});

describe("percentiles", () => {
  it("are nearest-rank: the value at rank ⌈p·N/100⌉", () => {
    const oneToHundred = Array.from({ length: 100 }, (_, i): [number, number] => [i + 1, 1]);
    expect(percentiles(oneToHundred)).toEqual({ p50: 50, p90: 90, p99: 99 });
    expect(percentiles([[7, 1]])).toEqual({ p50: 7, p90: 7, p99: 7 });
    // 10 values: ranks 5, 9 and 10; 7 values: ranks ⌈3.5⌉, ⌈6.3⌉ and ⌈6.93⌉.
    expect(percentiles([[1, 5], [2, 4], [3, 1]])).toEqual({ p50: 1, p90: 2, p99: 3 });
    expect(percentiles([7, 6, 5, 4, 3, 2, 1].map((ms): [number, number] => [ms, 1]))).toEqual({ p50: 4, p90: 7, p99: 7 });
  });

  it("are null without values, and leave out bins whose count is not positive", () => {
    expect(percentiles([])).toEqual({ p50: null, p90: null, p99: null });
    expect(percentiles([[5, 0], [9, -1]])).toEqual({ p50: null, p90: null, p99: null });
    expect(percentiles([[5, 0], [9, 2]])).toEqual({ p50: 9, p90: 9, p99: 9 });
  });
});

describe("batches", () => {
  it("are numbered when drained, and the same batch is drained again until it is confirmed", () => {
    const buffer = StatsBuffer.from();
    expect(buffer.drain()).toBeNull();
    buffer.message(T);
    const first = buffer.drain()!;
    expect(first.number).toBe(1);
    buffer.message(T + SECOND);
    expect(buffer.drain()).toEqual(first);
    buffer.confirm(first.number);
    const second = buffer.drain()!;
    expect(second.number).toBe(2);
    expect(second.epoch).toBe(first.epoch);
    expect(Object.keys(second.buckets)).toEqual([String(T / 1000 + 1)]);
  });

  it("ignore a confirmation of another number", () => {
    const buffer = StatsBuffer.from();
    buffer.message(T);
    const batch = buffer.drain()!;
    buffer.confirm(batch.number + 1);
    expect(buffer.isEmpty()).toBe(false);
    expect(buffer.drain()).toEqual(batch);
    buffer.confirm(batch.number);
    expect(buffer.isEmpty()).toBe(true);
  });

  it("survive storage: a buffer stored after its drain sends the same batch; a new buffer has another epoch", () => {
    const buffer = StatsBuffer.from();
    buffer.message(T);
    const batch = buffer.drain()!;
    buffer.pair(T, null, { outcome: "pending", at: null });
    const restarted = stored(buffer);
    expect(restarted.drain()).toEqual(batch);
    restarted.confirm(batch.number);
    expect(restarted.drain()).toMatchObject({ number: 2, buckets: { [second(T)]: { "outcome.pending": 1 } } });
    expect(StatsBuffer.from().drain()).toBeNull();
    const other = StatsBuffer.from();
    other.message(T);
    expect(other.drain()!.epoch).not.toBe(batch.epoch);
  });

  it("is empty with nothing recorded and nothing unconfirmed", () => {
    const buffer = StatsBuffer.from();
    expect(buffer.isEmpty()).toBe(true);
    buffer.message(T);
    expect(buffer.isEmpty()).toBe(false);
    buffer.drain();
    expect(buffer.isEmpty()).toBe(false);
  });
});

describe("the flush deadline", () => {
  it("is FLUSH_DELAY_MS (under the contract's 10 s) after the first change since the last flush", () => {
    expect(FLUSH_DELAY_MS).toBeLessThan(10 * SECOND);
    const t0 = freezeTime(T);
    const buffer = StatsBuffer.from();
    expect(buffer.flushDueAt).toBeNull();
    buffer.message(T - 60 * SECOND);
    vi.setSystemTime(t0 + 4 * SECOND);
    buffer.message(T);
    expect(buffer.flushDueAt).toBe(t0 + FLUSH_DELAY_MS);
    expect(buffer.isDue(t0 + FLUSH_DELAY_MS - 1)).toBe(false);
    expect(buffer.isDue(t0 + FLUSH_DELAY_MS)).toBe(true);
    expect(stored(buffer).flushDueAt).toBe(t0 + FLUSH_DELAY_MS);
  });

  it("is gone once the batch is confirmed, unless changes came while it was sent (they keep the drain's deadline)", () => {
    const t0 = freezeTime(T);
    const buffer = StatsBuffer.from();
    buffer.message(T);
    vi.setSystemTime(t0 + FLUSH_DELAY_MS);
    const batch = buffer.drain()!;
    // Unconfirmed, it is sent again FLUSH_DELAY_MS later.
    expect(buffer.flushDueAt).toBe(t0 + 2 * FLUSH_DELAY_MS);
    vi.setSystemTime(t0 + FLUSH_DELAY_MS + 3 * SECOND);
    buffer.message(T);
    buffer.confirm(batch.number);
    expect(buffer.flushDueAt).toBe(t0 + 2 * FLUSH_DELAY_MS);
    buffer.confirm(buffer.drain()!.number);
    expect(buffer.flushDueAt).toBeNull();
    expect(buffer.drain()).toBeNull();
  });
});
