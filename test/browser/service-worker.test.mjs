// The service worker (client/dist/postbox-sw.js) on a page of the app's origin, receiving what postbox
// really pushed: the stand-in Web Push service decrypts each push, and the DevTools protocol hands
// that payload to the worker as the browser's push service would.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { browserMissing, startWorld, waitFor, webPushControl } from "./harness.mjs";
import { openWithServiceWorker } from "./service-worker-page.mjs";

describe("the service worker", { skip: browserMissing() }, () => {
  const user = `sw-${Date.now()}`;
  const device = "laptop";
  let world, worker, webPush, endpoint;
  let pushesHandled = 0;

  before(async () => {
    world = await startWorld();
    const context = await world.browser.newContext();
    await context.grantPermissions(["notifications"], { origin: world.site.origin });
    worker = await openWithServiceWorker(context, `${world.site.origin}/index.html`);
    await worker.configure({ url: world.postbox.origin, token: world.postbox.clientToken({ sub: user, device }), device });
    // The page's device subscribes at the stand-in (headless Chromium has no push service).
    webPush = webPushControl(world.push.origin);
    const subscription = await webPush.subscribe(world.postbox.secrets.VAPID_PUBLIC_KEY);
    endpoint = subscription.endpoint;
    await world.postbox.client({ sub: user, device }, "/v1/push", { method: "PUT", json: { webpush: subscription } });
  });
  after(() => world?.close());

  /** Waits for postbox's next push to the device and hands its payload to the worker. */
  async function deliverNextPush() {
    const { received, refused } = await waitFor(async () => {
      const log = await webPush.log(endpoint);
      return log.received.length > pushesHandled || log.refused.length > 0 ? log : null;
    }, `push ${pushesHandled + 1} to the device`);
    assert.deepEqual(refused, []);
    const { payload } = received[pushesHandled++];
    await worker.deliver(payload);
    return payload;
  }

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
});
