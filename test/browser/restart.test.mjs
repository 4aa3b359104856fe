// The server (wrangler dev) stops and starts again on the same port and storage while a page holds a
// live connection: the client reconnects by itself, and every message published before, while it
// was reconnecting and after is shown once, in order.
import { test } from "node:test";
import { describeInBrowser, waitFor } from "./harness.mjs";
import { assertShownExactly, openInbox, publishMany } from "./inbox-page.mjs";

describeInBrowser("the server restarts", (world) => {
  test("the client reconnects: nothing lost, nothing shown twice", async () => {
    const user = `restart-${Date.now()}`;
    const context = await world.browser.newContext();
    const inbox = await openInbox(world, context, { claims: { sub: user }, device: "laptop" });
    await inbox.until("live");
    const before = await publishMany(world, user, 2, "before");
    await inbox.untilShown(2);

    await world.postbox.stop();
    await inbox.until("reconnecting", "connecting");
    await world.postbox.start();
    // Published as soon as the server is back, while the client still waits to reconnect.
    const during = await publishMany(world, user, 2, "during");
    // The client's next attempt may be up to 16 s away by now (1 s, 2 s, 4 s, 8 s … of full jitter).
    await waitFor(async () => (await inbox.status()) === "live", "the client to reconnect", { timeoutMs: 45_000 });
    const afterwards = await publishMany(world, user, 2, "after");
    // Each attempt while the server was down is reported.
    const errorsAllowed = /The live connection failed/;
    await assertShownExactly(world, user, [inbox], [...before, ...during, ...afterwards], { errorsAllowed });
  });
});
