// Two tabs of one browser as one device (webStorage(localStorage) shares its state): while one tab is
// offline the other handles and acknowledges what arrives, so the server will not send it again; the
// tabs share what they handle over a BroadcastChannel, and each still shows every message once.
import { test } from "node:test";
import { describeInBrowser } from "./harness.mjs";
import { assertShownExactly, openInbox, publishMany } from "./inbox-page.mjs";

describeInBrowser("two tabs, one device", (world) => {
  test("each tab shows every message once, the one offline meanwhile too", async () => {
    const user = `shared-${Date.now()}`;
    const context = await world.browser.newContext();
    const open = () => openInbox(world, context, { claims: { sub: user }, device: "browser", storage: "local" });
    const [first, second] = [await open(), await open()];
    await Promise.all([first.until("live"), second.until("live")]);
    const seqs = await publishMany(world, user, 2, "both online");
    await Promise.all([first.untilShown(2), second.untilShown(2)]);

    // Only the second tab goes offline (the DevTools protocol's network emulation is per page).
    const network = await context.newCDPSession(second.page);
    const offline = (offline) => network.send("Network.emulateNetworkConditions", { offline, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
    await offline(true);
    await second.until("offline");
    seqs.push(...(await publishMany(world, user, 2, "one offline")));
    await first.untilShown(4);
    await offline(false);
    await second.until("live");
    await assertShownExactly(world, user, [first, second], seqs);
  });
});
