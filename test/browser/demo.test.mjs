// The demo page (/demo, DEMO on) in Chromium against wrangler dev: its publisher form publishes, its
// inbox shows each message with the channel it came by and postbox's record of it, a read in one tab
// (a device of the user) is synced to another, and a retract removes the message.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { browserMissing, launchChromium, startPostbox, startPushServices, waitFor, webPushControl } from "./harness.mjs";

/** Hands pushes to the service worker `origin`'s page registers, as the browser's push service would. */
async function pushDelivery(cdp, origin) {
  const registrations = [];
  cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations: updated }) => registrations.push(...updated));
  await cdp.send("ServiceWorker.enable");
  return async (payload) => {
    const registrationId = await waitFor(
      () => registrations.find((registration) => !registration.isDeleted)?.registrationId,
      "the service worker's registration",
    );
    await cdp.send("ServiceWorker.deliverPushMessage", { origin, registrationId, data: JSON.stringify(payload) });
  };
}

describe("the demo page", { skip: browserMissing() }, () => {
  const user = `demo-${Date.now()}`;
  const region = `r${Date.now()}`;
  let push, postbox, browser, context;

  before(async () => {
    push = await startPushServices();
    [postbox, browser] = await Promise.all([startPostbox({ pushOrigin: push.origin, vars: { DEMO: "on" } }), launchChromium()]);
    context = await browser.newContext();
  });
  after(() => Promise.all([browser?.close(), postbox?.close(), push?.close()]));

  /** The demo as `device` of the user, once its live connection is up. */
  async function openDevice(device) {
    const page = await context.newPage();
    await page.goto(`${postbox.origin}/demo?${new URLSearchParams({ user, device, region })}`);
    await page.locator("#status[data-status=live]").waitFor();
    return page;
  }

  /** Fills a publisher form's fields and submits it; answers postbox's answer as the page shows it. */
  async function submit(page, form, fields) {
    for (const [name, value] of Object.entries(fields)) await page.fill(`#${form} [name=${name}]`, value);
    await page.click(`#${form} button`);
    await page.locator("#answer[data-state=done], #answer[data-state=failed]").waitFor();
    const text = await page.locator("#answer").textContent();
    assert.equal(await page.locator("#answer").getAttribute("data-state"), "done", text);
    return JSON.parse(text.slice(text.indexOf("\n")));
  }

  const personal = (page, seq) => page.locator(`#messages .message.personal[data-seq="${seq}"]`);

  let phone, laptop, seq;

  test("publishes a personal message with the form; both devices show it, arrived live, as postbox recorded", async () => {
    [phone, laptop] = await Promise.all([openDevice("phone"), openDevice("laptop")]);
    ({ seq } = await submit(phone, "personal", { user, title: "Your order shipped", body: "Order 42 is on its way" }));
    assert.equal(typeof seq, "number");
    for (const page of [phone, laptop]) {
      const item = personal(page, seq);
      await item.waitFor();
      assert.equal(await item.locator(".title").textContent(), "Your order shipped");
      assert.equal(await item.locator(".body").textContent(), "Order 42 is on its way");
      assert.equal(await item.locator(".via").textContent(), "via live");
      await item.locator(".outcome", { hasText: "postbox: live" }).waitFor();
    }
    assert.equal(await phone.locator("#unread").textContent(), "1 unread");
  });

  test("publishes an announcement with the form; the inbox shows it, arrived live", async () => {
    const { ids } = await submit(phone, "announcement", { regions: region, body: "Maintenance tonight" });
    const item = phone.locator(`#messages .message.announcement[data-region="${region}"][data-id="${ids[region]}"]`);
    await item.waitFor();
    assert.equal(await item.locator(".body").textContent(), "Maintenance tonight");
    assert.equal(await item.locator(".via").textContent(), "via live");
  });

  test("a read on one device shows as read on the other (read sync)", async () => {
    await personal(phone, seq).locator("button.read").click();
    for (const page of [phone, laptop]) {
      await page.locator(`#messages .message.personal.read[data-seq="${seq}"]`).waitFor();
      assert.equal(await personal(page, seq).locator("button.read").count(), 0);
      assert.equal(await page.locator("#unread").textContent(), "0 unread");
    }
    const outcomes = await postbox.outcomes(user, seq);
    assert.deepEqual([outcomes.phone.outcome, outcomes.laptop.outcome], ["live", "live"]);
  });

  test("a retract with the form removes the message from every device", async () => {
    const { seq: mistaken } = await submit(laptop, "personal", { user, title: "", body: "Sent by mistake" });
    await Promise.all([personal(phone, mistaken).waitFor(), personal(laptop, mistaken).waitFor()]);
    await submit(laptop, "retract-personal", { user, seq: String(mistaken) });
    for (const page of [phone, laptop]) await personal(page, mistaken).waitFor({ state: "detached" });
  });

  test("'Enable push' subscribes the device; a push the page's socket missed shows in the inbox, arrived by push", async () => {
    const pushContext = await browser.newContext();
    await pushContext.grantPermissions(["notifications"], { origin: postbox.origin });
    // Headless Chromium has no push service: the page's PushManager subscribes at the stand-in instead.
    const webPush = webPushControl(push.origin);
    let endpoint;
    await pushContext.exposeFunction("standInSubscription", async () => {
      const subscription = await webPush.subscribe(postbox.secrets.VAPID_PUBLIC_KEY);
      endpoint = subscription.endpoint;
      return subscription;
    });
    await pushContext.addInitScript(() => {
      let made = null;
      PushManager.prototype.getSubscription = async () => made;
      PushManager.prototype.subscribe = async () => {
        const json = await window.standInSubscription();
        made = { endpoint: json.endpoint, options: null, toJSON: () => json, unsubscribe: async () => true };
        return made;
      };
    });
    const page = await pushContext.newPage();
    const deliver = await pushDelivery(await pushContext.newCDPSession(page), postbox.origin);
    await page.goto(`${postbox.origin}/demo?${new URLSearchParams({ user, device: "tablet", region })}`);
    await page.locator("#status[data-status=live]").waitFor();
    await page.click("#enable-push");
    await page.locator("#log li", { hasText: "push is on for this device" }).waitFor();
    assert.equal(await page.evaluate(async () => (await navigator.serviceWorker.ready).scope), `${postbox.origin}/demo`);

    // Offline, the socket closes; the push (handed over as the browser's push service would) still arrives.
    await pushContext.setOffline(true);
    await page.locator("#status[data-status=offline]").waitFor();
    const { seq } = await postbox.publish(user, { title: "Flash sale", body: "Ends at noon" });
    const { received } = await waitFor(async () => {
      const log = await webPush.log(endpoint);
      return log.received.some(({ payload }) => payload.message?.seq === seq) && log;
    }, `postbox's push of ${seq}`);
    const { payload } = received.find(({ payload }) => payload.message?.seq === seq);
    await deliver(payload);
    // This user's earlier seqs were not all handed to the tablet (read or retracted before it came),
    // so the client asks postbox for anything older before showing the push, which it cannot while
    // offline: back online, the catch-up brings it, shown once, in order, as arrived by push.
    await pushContext.setOffline(false);
    await page.locator("#status[data-status=live]").waitFor();
    const item = personal(page, seq);
    await item.waitFor();
    assert.equal(await item.locator(".via").textContent(), "via push");
    await item.locator(".outcome", { hasText: /postbox: (push|live|poll)/ }).waitFor();
    assert.equal(await personal(page, seq).count(), 1);
    await pushContext.close();
  });

  test("'Open another device' opens the page as a new device of the same user", async () => {
    const href = await phone.locator("#another-device").getAttribute("href");
    const params = new URL(href, postbox.origin).searchParams;
    assert.equal(params.get("user"), user);
    assert.equal(params.get("region"), region);
    assert.notEqual(params.get("device"), "phone");
  });
});
