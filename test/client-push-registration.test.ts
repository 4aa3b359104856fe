// subscribeWebPush(registration): the VAPID key from GET /v1/push, the registration's subscription made
// with it (the stand-in Web Push service issues it), PUT /v1/push, and the service worker's config;
// unsubscribePush(); the config again when the token changes; no VAPID key: a PostboxError.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it } from "vitest";
import { PostboxError, type PushSubscriptionLike, type ServiceWorkerRegistrationLike } from "../client/src/index.ts";
import { base64UrlBytes } from "../client/src/base64url.ts";
import { clientToken, publish, unique } from "./helpers";
import { channelOf, subscribe, waitForPushes } from "./push-service";
import { stopClients, testClient } from "./client-helpers";

afterEach(stopClients);

const PHONE = { device: "phone" };
const base64Url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** A ServiceWorkerRegistration whose push manager subscribes at the stand-in Web Push service. */
function fakeRegistration() {
  const posted: unknown[] = [];
  const subscribed: { userVisibleOnly: boolean; applicationServerKey: Uint8Array }[] = [];
  const unsubscribed: string[] = [];
  let current: (PushSubscriptionLike & { endpoint: string }) | null = null;
  const subscriptionFor = async (applicationServerKey: Uint8Array<ArrayBuffer>) => {
    const json = await subscribe(base64Url(applicationServerKey));
    const subscription = {
      endpoint: json.endpoint,
      options: { applicationServerKey: applicationServerKey.buffer },
      toJSON: () => json,
      unsubscribe: async () => {
        unsubscribed.push(json.endpoint);
        if (current === subscription) current = null;
        return true;
      },
    };
    return subscription;
  };
  const registration: ServiceWorkerRegistrationLike = {
    pushManager: {
      getSubscription: async () => current,
      subscribe: async (options) => {
        subscribed.push(options);
        return (current = await subscriptionFor(options.applicationServerKey));
      },
    },
    active: { postMessage: (message) => void posted.push(message) },
  };
  return {
    registration,
    posted,
    subscribed,
    unsubscribed,
    current: () => current,
    /** A subscription made earlier with another application server key. */
    subscribedWithOtherKey: async () => (current = await subscriptionFor(base64UrlBytes(env.VAPID_PUBLIC_KEY!).map((b, i) => (i === 1 ? b ^ 1 : b)))),
  };
}

describe("subscribeWebPush", () => {
  it("subscribes with postbox's VAPID key, registers the subscription, and configures the service worker", async () => {
    const user = unique("u");
    const browser = fakeRegistration();
    const client = testClient(user, { claims: PHONE });
    expect(await client.postbox.subscribeWebPush(browser.registration)).toEqual({ device: "phone", channel: "webpush" });
    expect(browser.subscribed).toHaveLength(1);
    expect(browser.subscribed[0]!.userVisibleOnly).toBe(true);
    expect(base64Url(browser.subscribed[0]!.applicationServerKey)).toBe(env.VAPID_PUBLIC_KEY);
    expect(await channelOf(user, PHONE)).toBe("webpush");
    expect(browser.posted).toEqual([
      { type: "postbox:config", url: "http://postbox.test", token: expect.any(String), device: "phone" },
    ]);
    // postbox now pushes to it.
    await publish(user, { body: "pushed" });
    const [push] = await waitForPushes(browser.current()!.endpoint, 1);
    expect(push!.payload).toMatchObject({ type: "personal", message: { seq: 1, body: "pushed" } });
  });

  it("keeps a subscription made with the same key, and replaces one made with another", async () => {
    const user = unique("u");
    const browser = fakeRegistration();
    const client = testClient(user, { claims: PHONE });
    const stale = await browser.subscribedWithOtherKey();
    await client.postbox.subscribeWebPush(browser.registration);
    expect(browser.unsubscribed).toEqual([stale.endpoint]);
    const fresh = browser.current()!;
    await client.postbox.subscribeWebPush(browser.registration);
    expect(browser.subscribed).toHaveLength(1);
    expect(browser.current()).toBe(fresh);
  });

  it("tells the service worker each new token", async () => {
    const user = unique("u");
    const browser = fakeRegistration();
    let expiresIn = "1h";
    const client = testClient(user, { claims: PHONE, token: () => clientToken({ sub: user, ...PHONE }, { expiresIn }) });
    await client.postbox.subscribeWebPush(browser.registration);
    await client.postbox.unread();
    expect(browser.posted).toHaveLength(1);
    expiresIn = "2h"; // the app's backend hands out a new token
    await client.postbox.unread();
    expect(browser.posted).toHaveLength(2);
    expect((browser.posted[1] as { token: string }).token).not.toBe((browser.posted[0] as { token: string }).token);
  });

  it("answers a PostboxError when postbox has no VAPID key", async () => {
    const browser = fakeRegistration();
    const client = testClient(unique("u"), { claims: PHONE, env: { VAPID_SUBJECT: undefined } });
    const error = await client.postbox.subscribeWebPush(browser.registration).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PostboxError);
    expect(browser.subscribed).toEqual([]);
  });
});

describe("unsubscribePush", () => {
  it("removes the registration from postbox and the browser's subscription", async () => {
    const user = unique("u");
    const browser = fakeRegistration();
    const client = testClient(user, { claims: PHONE });
    await client.postbox.subscribeWebPush(browser.registration);
    const { endpoint } = browser.current()!;
    expect(await client.postbox.unsubscribePush()).toEqual({ device: "phone", channel: null });
    expect(await channelOf(user, PHONE)).toBeNull();
    expect(browser.unsubscribed).toEqual([endpoint]);
  });
});
