// The stand-in push services (test/push-services/, a Node server that globalSetup starts) as the tests
// in workerd drive them: subscriptions and device tokens issued as the real services issue them, faults
// programmed per target, and what each target received. postbox reaches them with the global fetch:
// vitest.config.ts points every channel's settings at them.
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import type { JWTPayload } from "jose";
import { expect, inject } from "vitest";
import type { PushChannel } from "../src/push/channel";
import type { WebPushSubscription } from "../src/shared/push-registration";
import type { MessageDelivery } from "../src/shared/responses";
import type { PushCount } from "../src/stats/recorder";
import { admin, client, userStub, type ClientClaims } from "./helpers";
import { waitFor } from "./live-helpers";

/** What globalSetup provides: the services' origin and the credentials they issued. */
export interface PushServices {
  origin: string;
  /** The service account's JSON key (FCM_SERVICE_ACCOUNT). */
  fcmServiceAccount: string;
  /** The provider key (APNS_KEY) and the ids and topic that go with it. */
  apns: { key: string; keyId: string; teamId: string; topic: string };
}

declare module "vitest" {
  export interface ProvidedContext {
    pushServices: PushServices;
  }
}

export const pushServices = () => inject("pushServices");

/** A fault for a target's next `times` requests (1 unless given); see test/push-services/targets.mjs. */
export type Fault = ({ lose: true } | { status: number; retryAfter?: string } | { delayMs: number } | { hang: true }) & { times?: number };

/** A push a service took (it passed the service's checks), however it was answered. */
export interface Received {
  service: PushChannel;
  /** When it arrived, and when it was answered (absent while unanswered), in ms on the real clock. */
  at: number;
  answeredAt?: number;
  /** The status answered (null while unanswered) and whether it reached the device. */
  status: number | null;
  delivered: boolean;
  /** Lowercase names, as Node gives them. */
  headers: Record<string, string>;
  /** The postbox payload: a live frame, a poll frame or a retract frame. */
  payload:
    | { type: "personal"; message: { seq: number } & Record<string, unknown> }
    | { type: "poll"; seq: number }
    | { type: "retract"; seq: number };
  /** Web Push: the decrypted body's size and the VAPID token's claims and key. */
  bodyBytes?: number;
  vapid?: { claims: JWTPayload; k: string };
  /** FCM: the message as sent. */
  message?: { token: string; data: Record<string, string>; notification?: { title?: string; body?: string }; android: Record<string, string> };
  /** APNs: the body and the provider token's header and claims. */
  body?: { aps: Record<string, unknown>; postbox: unknown };
  provider?: { header: Record<string, unknown>; claims: JWTPayload };
}

export interface Refused {
  service: PushChannel;
  at: number;
  status: number;
  reason: string;
}

async function control<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  const body = json === undefined ? rest.body : JSON.stringify(json);
  const res = await fetch(`${pushServices().origin}/control/${path}`, { ...rest, body });
  if (!res.ok) throw new Error(`push stand-in ${path} answered ${res.status}: ${await res.text()}`);
  return (res.status === 204 ? undefined : await res.json()) as T;
}

/** A browser's subscription to the stand-in Web Push service (PushSubscription.toJSON()), made with postbox's VAPID key. */
export const subscribe = (applicationServerKey = env.VAPID_PUBLIC_KEY!) =>
  control<WebPushSubscription & { expirationTime: null }>("webpush/subscriptions", { method: "POST", json: { applicationServerKey } });

/** A device token, as the FCM SDK or APNs gives an app one. */
export const deviceToken = async (channel: "fcm" | "apns") =>
  (await control<{ token: string }>(`${channel}/tokens`, { method: "POST" })).token;

/** The target's next requests are answered with these faults, in order (any programmed before are replaced). */
export const setFaults = (target: string, ...faults: Fault[]) => control<void>("faults", { method: "PUT", json: { target, faults } });

export const logOf = (target: string) => control<{ received: Received[]; refused: Refused[] }>(`log?target=${encodeURIComponent(target)}`);

/** The seq a push is of, whichever frame it carries. */
export const seqOf = ({ payload }: Received) => (payload.type === "personal" ? payload.message.seq : payload.seq);

/** The seqs of the pushes the target has received so far, in arrival order. */
export const seqsPushedTo = async (target: string) => (await logOf(target)).received.map(seqOf);

// The waits below poll on the real timers and leave a stopped clock where it is (vi.waitFor would move
// it on as it polls), so that the times postbox computes stay exact.

/** Waits until the target has received `count` pushes (a refusal fails at once), and answers them. */
export async function waitForPushes(target: string, count: number) {
  let log: Awaited<ReturnType<typeof logOf>> = { received: [], refused: [] };
  const enough = async () => {
    log = await logOf(target);
    if (log.refused.length > 0) throw new Error(`the stand-in refused pushes to ${target}: ${JSON.stringify(log.refused)}`);
    return log.received.length >= count;
  };
  await waitFor(enough, `${count} push(es) to ${target}`, () => log.received.map(({ status, payload }) => ({ status, payload })));
  return log.received;
}

/** Waits until the user's object has recorded the pushes of `seq` as `expected` (by device; matchers allowed). */
export async function waitForPushOf(userId: string, seq: number, expected: Record<string, unknown>) {
  let seen: Record<string, unknown> = {};
  const matches = async () => {
    seen = await pushOf(userId, seq);
    try {
      expect(seen).toEqual(expected);
      return true;
    } catch {
      return false;
    }
  };
  await waitFor(matches, `the pushes of seq ${seq} to be ${JSON.stringify(expected)}`, () => seen);
}

/**
 * Registers the device's push channel with a target the stand-in issued (a Web Push subscription or a
 * device token); answers the target, the name its pushes are logged under.
 */
export async function registerPush(userId: string, channel: PushChannel, claims: ClientClaims = {}) {
  const subscription = channel === "webpush" ? await subscribe() : null;
  const token = subscription ? null : await deviceToken(channel as "fcm" | "apns");
  const body = subscription ? { webpush: subscription } : { [channel]: { token } };
  const res = await client(userId, "/v1/push", { ...claims, method: "PUT", json: body });
  if (res.status !== 200) throw new Error(`PUT /v1/push answered ${res.status}: ${await res.text()}`);
  return subscription?.endpoint ?? token!;
}

/** Each device's push of message `seq` as the message view shows it (channel, attempts, last status, at in ms), by device. */
export async function pushOf(userId: string, seq: number) {
  const res = await admin(`/admin/v1/users/${encodeURIComponent(userId)}/messages/${seq}`);
  if (res.status !== 200) throw new Error(`the message view answered ${res.status}: ${await res.text()}`);
  const { devices } = (await res.json()) as MessageDelivery;
  return Object.fromEntries(
    Object.entries(devices).flatMap(([device, { push }]) => (push ? [[device, { ...push, at: Date.parse(push.at) }]] : [])),
  );
}

/** How many push jobs the user's object still holds (each one wakes it again). */
export const pushJobsLeft = (userId: string) =>
  runInDurableObject(userStub(userId), (_instance, { storage }) => storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM push_jobs").one().n);

/** The push counters the user's object reports from now on: [publishedAt, channel, count], in order. */
export async function countersOf(user: string) {
  const counted: [number, PushChannel, PushCount][] = [];
  const push = (publishedAt: number, channel: PushChannel, count: PushCount) => void counted.push([publishedAt, channel, count]);
  // The object records into the stats buffer in its state row: its push counts are heard here instead.
  await runInDurableObject(userStub(user), (instance) => {
    Object.assign((instance as unknown as { state: { stats: object } }).state.stats, { push });
  });
  return counted;
}

/** The device's registered channel, as GET /v1/push answers it. */
export async function channelOf(userId: string, claims: ClientClaims = {}) {
  const res = await client(userId, "/v1/push", claims);
  return ((await res.json()) as { channel: PushChannel | null }).channel;
}
