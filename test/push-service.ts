// The stand-in push services (test/push-services/, a Node server that globalSetup starts) as the tests
// in workerd drive them: subscriptions and device tokens issued as the real services issue them, faults
// programmed per target, and what each target received. postbox reaches them with the global fetch:
// vitest.config.ts points every channel's settings at them.
import { env } from "cloudflare:workers";
import type { JWTPayload } from "jose";
import { expect, inject, vi } from "vitest";
import type { PushChannel } from "../src/push/channel";
import type { WebPushSubscription } from "../src/shared/push-registration";
import { client, type ClientClaims } from "./helpers";

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
  /** The postbox payload: a live frame or a poll frame. */
  payload: { type: "personal"; message: Record<string, unknown> } | { type: "poll"; seq: number };
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

/** Waits until the target has received `count` pushes (polling the stand-in; a refusal fails at once), and answers them. */
export async function waitForPushes(target: string, count: number, timeout = 5_000) {
  return vi.waitFor(
    async () => {
      const { received, refused } = await logOf(target);
      expect(refused, "pushes the stand-in refused").toEqual([]);
      expect(received.length, `pushes received by ${target}`).toBeGreaterThanOrEqual(count);
      return received;
    },
    { timeout, interval: 20 },
  );
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
