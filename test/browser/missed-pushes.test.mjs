// An app as the README's quick start builds it, on another origin than postbox: the client imported
// from postbox's own /client/postbox.js (cross-origin, with CORS), the service worker from the app's
// origin, Web Push subscribed. Offline, it misses pushes (two of four reach the worker; the rest are
// lost), then comes back: every message is shown once, in seq order — the pushed ones are held until
// the older ones whose pushes were lost have come — and a second tab, another device, sees the read.
import assert from "node:assert/strict";
import { test } from "node:test";
import { describeInBrowser, waitFor, webPushControl } from "./harness.mjs";
import { publishMany } from "./inbox-page.mjs";
import { openWithServiceWorker } from "./service-worker-page.mjs";

/** Starts the app's client in `page` (which has the service worker): a Postbox for `device`, its pushes subscribed. */
async function startApp(page, { url, token, device, subscription }) {
  await page.evaluate(
    async ({ url, token, device, subscription }) => {
      const { Postbox, webStorage } = await import(`${url}/client/postbox.js`);
      const app = (window.app = { shown: [], reads: [], statuses: [] });
      const registration = await navigator.serviceWorker.ready;
      if (subscription) {
        // Headless Chromium has no push service: the subscription is the stand-in's.
        const made = { toJSON: () => subscription, unsubscribe: async () => true, options: { applicationServerKey: null } };
        Object.assign(registration.pushManager, { getSubscription: async () => null, subscribe: async () => made });
      }
      const postbox = (window.postbox = new Postbox({
        url,
        token,
        device,
        storage: webStorage(sessionStorage),
        onMessage: ({ kind, message, via }) => void app.shown.push({ kind, seq: message.seq, via }),
        onRead: ({ seqs }) => void app.reads.push(...seqs),
        onStatus: (status) => void app.statuses.push(status),
      }));
      postbox.live();
      if (subscription) await postbox.subscribeWebPush(registration);
    },
    { url, token, device, subscription },
  );
  const app = () => page.evaluate(() => window.app);
  return {
    app,
    seqs: async () => (await app()).shown.map(({ seq }) => seq),
    until: (status) => waitFor(async () => (await app()).statuses.at(-1) === status, `${device} to be ${status}`, { seen: app }),
  };
}

describeInBrowser("an app on another origin misses pushes while offline", (world) => {
  test("every message is shown once, in order, and a read reaches the second tab", async () => {
    const user = `missed-${Date.now()}`;
    const context = await world.browser.newContext();
    await context.grantPermissions(["notifications"], { origin: world.site.origin });
    const webPush = webPushControl(world.push.origin);
    const subscription = await webPush.subscribe(world.postbox.secrets.VAPID_PUBLIC_KEY);
    const worker = await openWithServiceWorker(context, `${world.site.origin}/index.html`);
    const token = world.postbox.clientToken({ sub: user });
    const laptop = await startApp(worker.page, { url: world.postbox.origin, token, device: "laptop", subscription });
    await laptop.until("live");
    // The second tab: another device of the same user (each tab keeps its device in sessionStorage).
    const second = await context.newPage();
    await second.goto(`${world.site.origin}/index.html`);
    const phone = await startApp(second, { url: world.postbox.origin, token, device: "phone" });
    await phone.until("live");
    const before = await publishMany(world, user, 2, "before");
    await waitFor(async () => (await laptop.seqs()).length === 2, "the first two");

    await context.setOffline(true);
    await laptop.until("offline");
    const missed = await publishMany(world, user, 4, "missed"); // pushed: the laptop has no live connection now
    const { received } = await waitFor(async () => {
      const log = await webPush.log(subscription.endpoint);
      return log.received.length === 4 && log;
    }, "postbox's four pushes");
    // The second and the fourth reach the worker; the first and the third are lost.
    for (const { payload } of [received[1], received[3]]) await worker.deliver(payload);
    await waitFor(async () => (await worker.fromWorker()).length === 2, "the worker to tell the page of both pushes");

    await context.setOffline(false);
    await waitFor(async () => (await laptop.seqs()).length === 6, "all six");
    assert.deepEqual(await laptop.seqs(), [...before, ...missed]);
    // The two whose pushes were lost came with the catch-up (or with the poll a push started, when it
    // ran after the network was back); the pushed ones say so.
    const via = (await laptop.app()).shown.slice(2).map(({ via }) => (via === "poll" ? "live" : via));
    assert.deepEqual(via, ["live", "push", "live", "push"]);

    await waitFor(async () => (await phone.seqs()).length === 6, "all six in the second tab");
    assert.deepEqual(await phone.seqs(), [...before, ...missed]);
    await worker.page.evaluate((seqs) => window.postbox.read(seqs), [before[0], missed[0]]);
    await waitFor(async () => (await phone.app()).reads.length === 2, "the read in the second tab");
    assert.deepEqual((await phone.app()).reads, [before[0], missed[0]]);
  });
});
