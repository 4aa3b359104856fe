// The service worker (client/dist/postbox-sw.js) on a page of the app's origin, receiving what postbox
// really pushed: the stand-in Web Push service decrypts each push, and the DevTools protocol hands
// that payload to the worker as the browser's push service would.
import assert from "node:assert/strict";
import { before, test } from "node:test";
import { describeInBrowser, waitFor, webPushControl } from "./harness.mjs";
import { openWithServiceWorker, relayPushes } from "./service-worker-page.mjs";

describeInBrowser("the service worker", (world) => {
  const user = `sw-${Date.now()}`;
  const device = "laptop";
  let worker, webPush, deliverNextPush;

  before(async () => {
    const context = await world.browser.newContext();
    await context.grantPermissions(["notifications"], { origin: world.site.origin });
    worker = await openWithServiceWorker(context, `${world.site.origin}/index.html`);
    await worker.configure({ url: world.postbox.origin, token: world.postbox.clientToken({ sub: user, device }), device });
    // The page's device subscribes at the stand-in (headless Chromium has no push service).
    webPush = webPushControl(world.push.origin);
    const subscription = await webPush.subscribe(world.postbox.secrets.VAPID_PUBLIC_KEY);
    deliverNextPush = relayPushes(webPush, subscription.endpoint, worker);
    await world.postbox.client({ sub: user, device }, "/v1/push", { method: "PUT", json: { webpush: subscription } });
  });

  const outcomeOf = async (seq) => (await world.postbox.outcomes(user, seq))[device]?.outcome;
  const shownFor = async (seq) => (await worker.notifications()).filter(({ tag }) => tag === `postbox:${seq}`);

  test("a personal push shows the message, reports its arrival by push and tells the app's pages", async () => {
    const { seq } = await world.postbox.publish(user, { title: "Your order shipped", body: "Order 42 is on its way", data: { orderId: 42 } });
    assert.equal(await outcomeOf(seq), "pending");
    const payload = await deliverNextPush();
    assert.equal(payload.type, "personal");
    const [shown] = await waitFor(() => shownFor(seq).then((list) => list.length > 0 && list), `the notification of ${seq}`);
    assert.deepEqual(shown, {
      title: "Your order shipped",
      body: "Order 42 is on its way",
      tag: `postbox:${seq}`,
      data: { postbox: payload.message },
    });
    await waitFor(async () => (await outcomeOf(seq)) === "push", `postbox to record ${seq} as arrived by push`);
    const told = await waitFor(() => worker.fromWorker().then((list) => list.length > 0 && list), "the worker to tell the page");
    assert.deepEqual(told, [{ type: "postbox:push", message: payload.message }]);
  });

  test("a retract push closes the message's notification", async () => {
    const { seq } = await world.postbox.publish(user, { body: "Sale ends tonight" });
    await deliverNextPush();
    await waitFor(() => shownFor(seq).then((list) => list.length === 1), `the notification of ${seq}`);
    await world.postbox.admin(`/admin/v1/users/${user}/messages/${seq}`, { method: "DELETE" });
    assert.deepEqual(await deliverNextPush(), { type: "retract", seq });
    await waitFor(() => shownFor(seq).then((list) => list.length === 0), `the notification of ${seq} to close`);
  });

  test("a poll push (a message too big to push) makes a restarted worker fetch the message with the config it kept", async () => {
    const body = "A long story. ".repeat(400); // 5,600 bytes: more than a Web Push body holds
    const { seq } = await world.postbox.publish(user, { title: "Chapter 1", body });
    await worker.stopWorker(); // its config must come back from IndexedDB
    assert.deepEqual(await deliverNextPush(), { type: "poll", seq });
    const [shown] = await waitFor(() => shownFor(seq).then((list) => list.length > 0 && list), `the notification of ${seq}`);
    assert.equal(shown.title, "Chapter 1");
    assert.equal(shown.body, body);
    assert.equal(shown.data.postbox.seq, seq);
    await waitFor(async () => (await outcomeOf(seq)) === "push", `postbox to record ${seq} as arrived by push`);
  });

  test("a worker whose token was refused asks the app's token option for another, and reports the arrival with it", async () => {
    const fresh = world.postbox.clientToken({ sub: user, device });
    const refused = `${fresh.slice(0, -4)}AAAA`; // as good as expired: postbox answers 401
    await worker.configure({ url: world.postbox.origin, token: refused, device });
    const serviceWorker = await worker.running();
    await serviceWorker.evaluate((token) => (self.postboxServiceWorker = { token: () => token }), fresh);
    const { seq } = await world.postbox.publish(user, { body: "While the page slept" });
    assert.equal((await deliverNextPush()).message.seq, seq);
    await waitFor(async () => (await outcomeOf(seq)) === "push", `postbox to record ${seq} as arrived by push`);
  });
  test("a pushsubscriptionchange registers the browser's new subscription, to which postbox then pushes", async () => {
    const renewed = await webPush.subscribe(world.postbox.secrets.VAPID_PUBLIC_KEY);
    const serviceWorker = await worker.running();
    // The browser fires it when its push service rotates the subscription; here it is made by hand.
    // Its waitUntil is replaced, since only the browser's own (trusted) events may extend their life.
    await serviceWorker.evaluate(async (subscription) => {
      const event = new ExtendableEvent("pushsubscriptionchange");
      let registered;
      Object.defineProperty(event, "newSubscription", { value: { toJSON: () => subscription } });
      Object.defineProperty(event, "waitUntil", { value: (promise) => (registered = promise) });
      self.dispatchEvent(event);
      await registered;
    }, renewed);
    const { seq } = await world.postbox.publish(user, { body: "After the rotation" });
    const { received } = await waitFor(async () => {
      const log = await webPush.log(renewed.endpoint);
      return log.received.length > 0 && log;
    }, "postbox to push to the new subscription");
    assert.equal(received[0].payload.message.seq, seq);
  });

});
