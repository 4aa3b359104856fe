// The inbox page (pages/inbox.html, on the built client) opened in a browser context, and what the
// tests ask of it.
import assert from "node:assert/strict";
import { waitFor } from "./wait.mjs";

/**
 * Opens the inbox of `claims.sub` on the app's site for `world`: `claims` go into its token
 * ({ sub, device?, region? }); `device` and `storage: "local"` into its options.
 */
export async function openInbox(world, context, { claims, device, storage }) {
  const query = new URLSearchParams({ url: world.postbox.origin, token: world.postbox.clientToken(claims) });
  if (device) query.set("device", device);
  if (storage) query.set("storage", storage);
  const page = await context.newPage();
  page.on("pageerror", (error) => console.error(`inbox page (${claims.sub}):`, error));
  await page.goto(`${world.site.origin}/inbox.html?${query}`);
  const inbox = () => page.evaluate(() => window.inbox);
  const view = {
    page,
    inbox,
    /** The seqs of the personal messages shown, in the order shown. */
    shownSeqs: async () => (await inbox()).shown.filter(({ kind }) => kind === "personal").map(({ seq }) => seq),
    status: async () => (await inbox()).statuses.at(-1),
    /** Waits until the client's status is one of `statuses`. */
    until: (...statuses) =>
      waitFor(async () => statuses.includes(await view.status()), `the inbox of ${claims.sub} to be ${statuses.join(" or ")}`, { seen: inbox }),
    /** Waits until at least `count` personal messages are shown. */
    untilShown: (count) =>
      waitFor(async () => (await view.shownSeqs()).length >= count, `${count} message(s) shown to ${claims.sub}`, { seen: inbox }),
  };
  return view;
}

/**
 * Asserts each inbox page of `user` showed exactly the messages `seqs`, once each and in order: a
 * last message is published and awaited first, so that a repeat still on its way would be shown
 * before it. The client reported no error, except those matching `errorsAllowed`.
 */
export async function assertShownExactly(world, user, views, seqs, { errorsAllowed = null } = {}) {
  const { seq: last } = await world.postbox.publish(user, { body: "the last one" });
  for (const view of views) {
    await waitFor(async () => (await view.shownSeqs()).includes(last), `the last message to reach ${user}`, { seen: view.inbox });
    assert.deepEqual(await view.shownSeqs(), [...seqs, last]);
    assert.deepEqual((await view.inbox()).errors.filter((error) => !errorsAllowed?.test(error)), []);
  }
}

/** Publishes `count` personal messages to `user`; answers their seqs. */
export async function publishMany(world, user, count, text = "message") {
  const seqs = [];
  for (let n = 1; n <= count; n++) seqs.push((await world.postbox.publish(user, { body: `${text} ${n}` })).seq);
  return seqs;
}
