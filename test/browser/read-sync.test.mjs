// Two tabs as two devices of one user: each shows every message, and a message read in one is
// marked read in the other through the read frame.
import assert from "node:assert/strict";
import { test } from "node:test";
import { describeInBrowser, waitFor } from "./harness.mjs";
import { assertShownExactly, openInbox, publishMany } from "./inbox-page.mjs";

describeInBrowser("two tabs, two devices", (world) => {
  test("reading in one tab clears the message in the other", async () => {
    const user = `read-${Date.now()}`;
    const context = await world.browser.newContext();
    const [phone, laptop] = await Promise.all(
      ["phone", "laptop"].map((device) => openInbox(world, context, { claims: { sub: user }, device, storage: "local" })),
    );
    await Promise.all([phone.until("live"), laptop.until("live")]);
    const seqs = await publishMany(world, user, 3);
    await Promise.all([phone.untilShown(3), laptop.untilShown(3)]);

    const readOnPhone = (receipt) => phone.page.evaluate((receipt) => window.postbox.read(receipt), receipt);
    await readOnPhone([seqs[0]]);
    const receiptOf = (view, seqsRead) =>
      waitFor(async () => (await view.inbox()).reads.find(({ seqs }) => seqs.includes(seqsRead.at(-1))), `the read frame on the laptop`, {
        seen: view.inbox,
      });
    assert.deepEqual(await receiptOf(laptop, [seqs[0]]), { seqs: [seqs[0]], unread: 2 });
    assert.equal(await laptop.page.locator(`li[data-seq="${seqs[0]}"].read`).count(), 1);
    await readOnPhone({ upTo: seqs[2] });
    assert.deepEqual(await receiptOf(laptop, [seqs[1], seqs[2]]), { seqs: [seqs[1], seqs[2]], unread: 0 });
    assert.equal(await laptop.page.evaluate(() => window.postbox.unread().then((answer) => answer.count ?? answer)), 0);
    await assertShownExactly(world, user, [phone, laptop], seqs);
  });
});
