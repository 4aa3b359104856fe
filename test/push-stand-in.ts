// What the push channel tests share: stand-ins for the push services, passed to the senders as their
// `fetcher` (postbox never reaches a real push service from a test), and the check that a timed-out
// request leaves no timer behind.
import { exportPKCS8, generateKeyPair } from "jose";
import { expect, vi } from "vitest";
import type { PushAttempt, PushResult } from "../src/push/channel";
import { PUSH_TIMEOUT_MS } from "../src/push/http";

/** A routine attempt: a high-priority message with both texts, a day to live. */
export const ATTEMPT: PushAttempt = {
  payload: JSON.stringify({ type: "personal", message: { seq: 1, title: "Order shipped", body: "On its way", data: { order: 42 } } }),
  ttlSeconds: 86_400,
  urgency: "high",
  title: "Order shipped",
  body: "On its way",
};

export const MINUTE = 60_000;

/** A key pair as a push service's account holds it: the private key as PKCS#8 PEM, the public one for the stand-in to verify with. */
export async function keyPair(alg: "RS256" | "ES256") {
  const pair = await generateKeyPair(alg, { extractable: true });
  return { publicKey: pair.publicKey, privatePem: await exportPKCS8(pair.privateKey) };
}

/** A JSON answer, as the push services give their errors and tokens. */
export const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  Response.json(body, { status, headers });

/** A fetcher that hands every request to `answer` (a stand-in for a push service and its token endpoint). */
export function standIn(answer: (request: Request) => Response | Promise<Response>): typeof fetch {
  return async (input, init) => answer(new Request(input, init));
}

/** A fetcher that fails every request as the network does. */
export const unreachable: typeof fetch = async () => {
  throw new TypeError("Network connection lost.");
};

/**
 * Runs `send` with timers faked, against a fetcher that passes what `answer` returns on but stalls the
 * URLs `hangsOn` matches (sends no answer, or, with `stall: "body"`, a 200 whose body never ends; both
 * fail when the request is aborted, as fetch's do): the send gives up after PUSH_TIMEOUT_MS as a retry
 * with no status, and its timer is gone (the Durable Object can sleep).
 */
export async function expectTimesOut(
  answer: (request: Request) => Response | Promise<Response>,
  hangsOn: RegExp,
  send: (fetcher: typeof fetch) => Promise<PushResult>,
  stall: "answer" | "body" = "answer",
) {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    let entered!: () => void;
    const hanging = new Promise<void>((resolve) => (entered = resolve));
    const fetcher: typeof fetch = (input, init) => {
      const request = new Request(input, init);
      if (!hangsOn.test(request.url)) return Promise.resolve(answer(request));
      entered();
      const signal = init!.signal!;
      if (stall === "body") {
        const body = new ReadableStream({ start: (body) => signal.addEventListener("abort", () => body.error(signal.reason)) });
        return Promise.resolve(new Response(body, { status: 200 }));
      }
      return new Promise((_, reject) => signal.addEventListener("abort", () => reject(signal.reason)));
    };
    const result = send(fetcher);
    await hanging;
    await vi.advanceTimersByTimeAsync(PUSH_TIMEOUT_MS - 1);
    expect(vi.getTimerCount(), "the timeout is still pending").toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await result).toEqual({ outcome: "retry", status: null });
    expect(vi.getTimerCount(), "timers left running").toBe(0);
  } finally {
    vi.useRealTimers();
  }
}

/** Runs `send` with timers faked: it succeeds and leaves no timer running. */
export async function expectNoTimerLeft(send: () => Promise<PushResult>) {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    expect(await send()).toMatchObject({ outcome: "sent" });
    expect(vi.getTimerCount(), "timers left running").toBe(0);
  } finally {
    vi.useRealTimers();
  }
}
