// What one push of a personal message carries on each channel: the live frame when it fits the
// channel's limit, else a frame telling the client to poll; and how long the push service may keep it.
// Each limit is judged on the bytes the channel's sender actually sends (webpush.ts, fcm.ts, apns.ts).
import { personalFrame, retractFrame } from "../shared/frames";
import { apnsBody } from "./apns";
import type { PushAttempt, PushChannel } from "./channel";
import { FCM_MAX_TTL_SECONDS, fcmMessage } from "./fcm";
import { WEBPUSH_MAX_PAYLOAD_BYTES } from "./webpush";

/** FCM takes 4 KB of data: its keys and values (https://firebase.google.com/docs/cloud-messaging/concept-options). */
export const FCM_MAX_DATA_BYTES = 4096;
/** APNs refuses a notification whose JSON body is larger (PayloadTooLarge). */
export const APNS_MAX_BODY_BYTES = 4096;

/** A message to push: its seq, its stored JSON text, and what the attempt sends besides the payload. */
export type MessagePush = { seq: number; message: string } & Omit<PushAttempt, "payload" | "ttlSeconds">;

const utf8 = new TextEncoder();
const bytesOf = (text: string) => utf8.encode(text).length;

const fits: Record<PushChannel, (attempt: PushAttempt) => boolean> = {
  webpush: ({ payload }) => bytesOf(payload) <= WEBPUSH_MAX_PAYLOAD_BYTES,
  fcm: (attempt) =>
    Object.entries(fcmMessage("", attempt).message.data).reduce((n, [key, value]) => n + bytesOf(key) + bytesOf(value), 0) <=
    FCM_MAX_DATA_BYTES,
  apns: (attempt) => bytesOf(apnsBody(attempt)) <= APNS_MAX_BODY_BYTES,
};

export const pollFrame = (seq: number) => `{"type":"poll","seq":${seq}}`;

/**
 * The attempt to send at `now` for a message that leaves the pending set at `pendingDeadline` (ms):
 * the live frame, or the poll frame when the frame does not fit. APNs also sends the alert texts in
 * the same body; when even the poll frame does not fit beside them, the body text is shortened (the
 * title, at most 256 characters, always fits), since the alert is only what the lock screen shows.
 */
export function pushAttemptFor(channel: PushChannel, push: MessagePush, pendingDeadline: number, now: number): PushAttempt {
  const { seq, message, ...rest } = push;
  const ttlSeconds = pushLifetimeSeconds(channel, pendingDeadline, now);
  const live: PushAttempt = { ...rest, payload: personalFrame(message), ttlSeconds };
  if (fits[channel](live)) return live;
  const poll: PushAttempt = { ...live, payload: pollFrame(seq) };
  if (fits[channel](poll) || poll.body === undefined) return poll;
  return { ...poll, body: longestFittingBody(channel, poll, poll.body) };
}

/**
 * The retract push of `seq` at `now`, kept by the push service until `until` (ms): the retracted
 * message's own lifetime's end, past which no push of it is held anywhere. It has no texts, so no
 * platform shows anything of it by itself.
 */
export function retractAttemptFor(channel: PushChannel, seq: number, until: number, now: number): PushAttempt {
  return { payload: retractFrame(seq), ttlSeconds: pushLifetimeSeconds(channel, until, now), urgency: "normal" };
}

/** The whole seconds left until the pending-set deadline, never below 0, capped at the channel's maximum. */
export function pushLifetimeSeconds(channel: PushChannel, pendingDeadline: number, now: number) {
  const left = Math.max(0, Math.floor((pendingDeadline - now) / 1000));
  return channel === "fcm" ? Math.min(left, FCM_MAX_TTL_SECONDS) : left;
}

/** The longest prefix of `body` (whole code points, then "…") with which the attempt fits; bytes grow with the prefix. */
function longestFittingBody(channel: PushChannel, attempt: PushAttempt, body: string) {
  const points = [...body];
  const shortened = (length: number) => `${points.slice(0, length).join("")}…`;
  let [low, high] = [0, points.length - 1]; // the empty prefix fits: the title and the poll frame leave room
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (fits[channel]({ ...attempt, body: shortened(middle) })) low = middle;
    else high = middle - 1;
  }
  return shortened(low);
}
