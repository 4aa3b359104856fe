// A page of the app with the postbox service worker registered, and the DevTools protocol's handles on
// it: headless Chromium has no push service of its own, so the tests hand the worker the pushes that
// postbox sent to the stand-in Web Push service (ServiceWorker.deliverPushMessage).
import assert from "node:assert/strict";
import { waitFor } from "./wait.mjs";

/**
 * Opens `pageUrl` in `context` (which must allow notifications for its origin), registers `script`
 * there and waits until it is active. The page records what the worker posts to it in
 * `window.fromWorker`.
 */
export async function openWithServiceWorker(context, pageUrl, script = "/postbox-sw.js") {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const registrations = new Map();
  cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations: updated }) => {
    for (const registration of updated) registrations.set(registration.registrationId, registration);
  });
  await cdp.send("ServiceWorker.enable");
  await page.goto(pageUrl);
  const scope = await page.evaluate(async (script) => {
    window.fromWorker = [];
    navigator.serviceWorker.addEventListener("message", (event) => window.fromWorker.push(event.data));
    await navigator.serviceWorker.register(script);
    return (await navigator.serviceWorker.ready).scope;
  }, script);
  const { registrationId } = await waitFor(
    () => [...registrations.values()].find((registration) => registration.scopeURL === scope && !registration.isDeleted),
    `the DevTools protocol to report the registration at ${scope}`,
  );
  const origin = new URL(pageUrl).origin;
  return {
    page,
    cdp,
    /** Hands the worker a push with this payload, as the browser's push service would. */
    deliver: (payload) => cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: JSON.stringify(payload) }),
    /** Playwright's handle on the worker, started again (with a message it ignores) when it was stopped. */
    running: async () => {
      const started = context.serviceWorkers().at(-1) ?? context.waitForEvent("serviceworker");
      await page.evaluate(async () => (await navigator.serviceWorker.ready).active.postMessage({ type: "wake" }));
      return started;
    },
    /** Ends the worker (the browser may do so at any time); the next event starts it again. */
    stopWorker: () => cdp.send("ServiceWorker.stopAllWorkers"),
    /** The notifications the registration shows now: title, body, tag and data. */
    notifications: () =>
      page.evaluate(async () => {
        const shown = await (await navigator.serviceWorker.ready).getNotifications();
        return shown.map(({ title, body, tag, data }) => ({ title, body, tag, data }));
      }),
    /** Posts the config the client would post after subscribeWebPush. */
    configure: (config) =>
      page.evaluate(async (config) => (await navigator.serviceWorker.ready).active.postMessage({ type: "postbox:config", ...config }), config),
    fromWorker: () => page.evaluate(() => window.fromWorker),
  };
}

/**
 * The browser's push service for one subscription at the stand-in (`webPush`: harness.mjs's
 * webPushControl): each call waits for postbox's next push to `endpoint`, hands its decrypted payload
 * to `worker` and answers it.
 */
export function relayPushes(webPush, endpoint, worker) {
  let relayed = 0;
  return async () => {
    const { received, refused } = await waitFor(async () => {
      const log = await webPush.log(endpoint);
      return log.received.length > relayed || log.refused.length > 0 ? log : null;
    }, `push ${relayed + 1} to ${endpoint}`);
    assert.deepEqual(refused, []);
    const { payload } = received[relayed++];
    await worker.deliver(payload);
    return payload;
  };
}
