// The built client's subscribeWebPush on a page with the service worker: it registers the browser's
// subscription with postbox and hands the worker its config, with which the worker then reports a
// push's arrival. Headless Chromium has no push service: the page's PushManager answers with a
// subscription the stand-in Web Push service made for postbox's VAPID key.
import assert from "node:assert/strict";
import { test } from "node:test";
import { describeInBrowser, waitFor, webPushControl } from "./harness.mjs";
import { openWithServiceWorker, relayPushes } from "./service-worker-page.mjs";

describeInBrowser("subscribeWebPush", (world) => {
  test("registers the subscription and configures the worker, which reports arrivals by push", async () => {
    const [user, device] = [`subscribe-${Date.now()}`, "tablet"];
    const context = await world.browser.newContext();
    await context.grantPermissions(["notifications"], { origin: world.site.origin });
    const worker = await openWithServiceWorker(context, `${world.site.origin}/index.html`);
    const webPush = webPushControl(world.push.origin);
    const subscription = await webPush.subscribe(world.postbox.secrets.VAPID_PUBLIC_KEY);
    const registered = await worker.page.evaluate(
      async ({ url, token, device, subscription }) => {
        const registration = await navigator.serviceWorker.ready;
        const made = { toJSON: () => subscription, unsubscribe: async () => true, options: { applicationServerKey: null } };
        Object.assign(registration.pushManager, { getSubscription: async () => null, subscribe: async () => made });
        const { Postbox } = await import("/client/postbox.js");
        return new Postbox({ url, token, device }).subscribeWebPush(registration);
      },
      { url: world.postbox.origin, token: world.postbox.clientToken({ sub: user }), device, subscription },
    );
    assert.deepEqual(registered, { device, channel: "webpush" });

    const { seq } = await world.postbox.publish(user, { body: "Pushed to the tablet" });
    assert.equal((await relayPushes(webPush, subscription.endpoint, worker)()).type, "personal");
    await waitFor(async () => (await world.postbox.outcomes(user, seq))[device]?.outcome === "push", `${seq} to arrive by push`);
  });
});
