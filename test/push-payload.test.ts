// The push payload per channel (the live frame, or the poll frame when it does not fit, judged on the
// bytes each channel sends), and the push's lifetime.
import { describe, expect, it } from "vitest";
import { pushAttemptFor, pushLifetimeSeconds, type MessagePush } from "../src/push/payload";
import { DAY, SECOND } from "./helpers";

const utf8 = new TextEncoder();
const bytesOf = (text: string) => utf8.encode(text).length;
const NOW = Date.UTC(2025, 0, 1);
const createdAt = new Date(NOW).toISOString();

/** A message of seq 7 whose live frame, {"type":"personal","message":…}, is exactly `bytes` long; padded with 3-byte "€" so bytes, not characters, count. */
function messageWithFrameBytes(bytes: number, alert: { title?: string } = {}, data?: object): MessagePush {
  const text = (body: string) => JSON.stringify({ seq: 7, ...alert, body, data, createdAt });
  const frameBytes = (body: string) => bytesOf(`{"type":"personal","message":${text(body)}}`);
  const room = bytes - frameBytes("");
  const body = "€".repeat(Math.floor(room / 3)) + "x".repeat(room % 3);
  expect(frameBytes(body)).toBe(bytes);
  return { seq: 7, message: text(body), ...alert, body, urgency: "normal" };
}

const livePayload = (push: MessagePush) => `{"type":"personal","message":${push.message}}`;
const POLL = '{"type":"poll","seq":7}';
const payloadOf = (...args: Parameters<typeof pushAttemptFor>) => pushAttemptFor(...args).payload;
const later = NOW + DAY;

describe("the push payload", () => {
  it("Web Push: the live frame up to 3993 bytes of payload, the poll frame from 3994", () => {
    const fits = messageWithFrameBytes(3993);
    expect(payloadOf("webpush", fits, later, NOW)).toBe(livePayload(fits));
    expect(payloadOf("webpush", messageWithFrameBytes(3994), later, NOW)).toBe(POLL);
  });

  it("FCM: the live frame while data.postbox's key and value fit 4096 bytes, the poll frame beyond", () => {
    const fits = messageWithFrameBytes(4096 - "postbox".length);
    expect(payloadOf("fcm", fits, later, NOW)).toBe(livePayload(fits));
    expect(payloadOf("fcm", messageWithFrameBytes(4096 - "postbox".length + 1), later, NOW)).toBe(POLL);
  });

  it("APNs: the live frame while the whole body, alert included, fits 4096 bytes, the poll frame beyond", () => {
    // The body APNs is sent: {"aps":{"alert":{"title":…,"body":…}},"postbox":<frame>}, the body text repeated in the alert.
    const bodyBytes = (push: MessagePush) =>
      bytesOf(`{"aps":{"alert":${JSON.stringify({ title: push.title, body: push.body })}},"postbox":${livePayload(push)}}`);
    const sizeFor = (target: number) => {
      // The texts are in the frame and the alert, so each byte more adds two; data one byte longer reaches the other parity.
      for (const data of [{ n: 1 }, { n: 10 }]) {
        for (let frame = 1500; frame < 2500; frame++) {
          const push = messageWithFrameBytes(frame, { title: "Your order" }, data);
          if (bodyBytes(push) === target) return push;
        }
      }
      throw new Error(`no frame gives a ${target}-byte body`);
    };
    const fits = sizeFor(4096);
    const attempt = pushAttemptFor("apns", fits, later, NOW);
    expect([attempt.payload, attempt.title, attempt.body]).toEqual([livePayload(fits), fits.title, fits.body]);
    const over = sizeFor(4097);
    const overAttempt = pushAttemptFor("apns", over, later, NOW);
    expect([overAttempt.payload, overAttempt.body]).toEqual([POLL, over.body]);
    // Only APNs sends the alert beside the payload: the same message fits Web Push and FCM whole.
    expect(payloadOf("webpush", over, later, NOW)).toBe(livePayload(over));
    expect(payloadOf("fcm", over, later, NOW)).toBe(livePayload(over));
  });

  it("APNs: a body text too long even beside the poll frame is shortened to the longest that fits, whole characters then …", () => {
    const push: MessagePush = { seq: 7, message: "{}", title: "t", body: "€".repeat(3000), urgency: "high" };
    const attempt = pushAttemptFor("apns", { ...push, message: JSON.stringify({ seq: 7, title: "t", body: push.body, createdAt }) }, later, NOW);
    const sent = (body: string) => bytesOf(`{"aps":{"alert":{"title":"t","body":"${body}"}},"postbox":${POLL}}`);
    expect(attempt.payload).toBe(POLL);
    expect(attempt.body).toMatch(/^€+…$/);
    expect(sent(attempt.body!)).toBeLessThanOrEqual(4096);
    expect(sent(`€${attempt.body!}`)).toBeGreaterThan(4096);
    expect([attempt.title, attempt.urgency]).toEqual(["t", "high"]);
  });

  it("passes the urgency and collapse key on, and sends no seq or message fields of its own", () => {
    const push = { ...messageWithFrameBytes(100), urgency: "high" as const, collapseKey: "order:42" };
    expect(pushAttemptFor("webpush", push, later, NOW)).toStrictEqual({
      payload: livePayload(push),
      ttlSeconds: DAY / SECOND,
      urgency: "high",
      collapseKey: "order:42",
      body: push.body,
    });
  });
});

describe("the push lifetime", () => {
  it("is the whole seconds left until the pending-set deadline, never below 0", () => {
    for (const channel of ["webpush", "fcm", "apns"] as const) {
      expect(pushLifetimeSeconds(channel, NOW + 1999, NOW)).toBe(1);
      expect(pushLifetimeSeconds(channel, NOW + 999, NOW)).toBe(0);
      expect(pushLifetimeSeconds(channel, NOW, NOW)).toBe(0);
      expect(pushLifetimeSeconds(channel, NOW - 5 * SECOND, NOW)).toBe(0);
    }
  });

  it("is capped at 28 days for FCM only", () => {
    const days = (n: number) => n * DAY;
    expect(pushLifetimeSeconds("fcm", NOW + days(28), NOW)).toBe(days(28) / SECOND);
    expect(pushLifetimeSeconds("fcm", NOW + days(28) + SECOND, NOW)).toBe(days(28) / SECOND);
    expect(pushLifetimeSeconds("webpush", NOW + days(60), NOW)).toBe(days(60) / SECOND);
    expect(pushLifetimeSeconds("apns", NOW + days(60), NOW)).toBe(days(60) / SECOND);
  });

  it("is what each attempt sends, counted from that attempt's time", () => {
    const push = messageWithFrameBytes(100);
    expect(pushAttemptFor("fcm", push, NOW + 90 * SECOND, NOW + 30 * SECOND).ttlSeconds).toBe(60);
  });
});
