// A page on the app's origin with the built client goes offline, misses what is published meanwhile,
// comes back: it shows every message once, in order. Chromium keeps an open WebSocket open when the
// context goes offline (its frames wait until it is back online); the client closes its socket on
// the `offline` event and reconnects on `online`.
import assert from "node:assert/strict";
import { test } from "node:test";
import { describeInBrowser, waitFor } from "./harness.mjs";
import { assertShownExactly, openInbox, publishMany } from "./inbox-page.mjs";

describeInBrowser("offline, then online again", (world) => {
  test("every personal message and announcement is shown once, in order", async () => {
    const [user, region] = [`offline-${Date.now()}`, `r-${Date.now()}`];
    const context = await world.browser.newContext();
    const inbox = await openInbox(world, context, { claims: { sub: user, region }, device: "laptop" });
    await inbox.until("live");
    const before = await publishMany(world, user, 2, "before");
    await inbox.untilShown(2);

    await context.setOffline(true);
    await inbox.until("offline");
    const missed = await publishMany(world, user, 3, "missed");
    const { ids } = await world.postbox.admin("/admin/v1/announcements", { json: { regions: [region], body: "missed announcement" } });
    await context.setOffline(false);

    await inbox.until("live");
    await inbox.untilShown(5);
    const shownAnnouncements = await waitFor(async () => {
      const { shown } = await inbox.inbox();
      const announcements = shown.filter(({ kind }) => kind === "announcement");
      return announcements.length > 0 && announcements;
    }, "the announcement");
    assert.deepEqual(shownAnnouncements.map(({ id, region }) => ({ id, region })), [{ id: ids[region], region }]);
    await assertShownExactly(world, user, [inbox], [...before, ...missed]);
  });
});
