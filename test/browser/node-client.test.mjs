// The built client (client/dist/postbox.js) in Node 22, against postbox on wrangler dev: Node's own
// fetch and WebSocket, nothing injected. Needs no browser, so it runs where Chromium is absent too.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { Postbox, memoryStorage } from "../../client/dist/postbox.js";
import { startPostbox } from "./postbox-server.mjs";
import { waitFor } from "./wait.mjs";

describe("the built client in Node 22", () => {
  let postbox;
  before(async () => (postbox = await startPostbox()));
  after(() => postbox.close());

  /** A client of `user`'s `device` recording what it is handed, read-synced and told about its status. */
  const client = (user, device, options = {}) => {
    const seen = { messages: [], reads: [], statuses: [] };
    const instance = new Postbox({
      url: postbox.origin,
      token: () => postbox.clientToken({ sub: user, device }),
      storage: memoryStorage(),
      reconnect: { initialMs: 100, maxMs: 500 },
      onMessage: ({ message, via }) => void seen.messages.push([message.seq, via]),
      onRead: ({ seqs }) => void seen.reads.push(...seqs),
      onStatus: (status) => void seen.statuses.push(status),
      ...options,
    });
    return { instance, seen, live: () => waitFor(() => seen.statuses.at(-1) === "live", `${device} live`) };
  };
  const publish = async (user, count) => {
    const seqs = [];
    for (let i = 0; i < count; i++) seqs.push((await postbox.publish(user, { body: `message ${i}` })).seq);
    return seqs;
  };

  for (const transport of ["websocket", "sse"]) {
    test(`live() over ${transport}: the catch-up, then live messages, acknowledged; a server restart loses and repeats nothing`, async () => {
      const user = `node-${transport}-${Date.now()}`;
      const early = await publish(user, 2);
      const phone = client(user, "phone", { transport });
      phone.instance.live();
      await phone.live();
      const live = await publish(user, 2);
      await waitFor(() => phone.seen.messages.length === 4, "four messages", { seen: () => phone.seen.messages });

      await postbox.restart();
      const afterRestart = await publish(user, 2);
      await waitFor(() => phone.seen.messages.length >= 6, "six messages", { seen: () => phone.seen.messages });
      phone.instance.stop();
      assert.deepEqual(phone.seen.messages.map(([seq]) => seq), [...early, ...live, ...afterRestart]);
      const pending = async () => (await postbox.admin(`/admin/v1/users/${user}`)).devices.phone.pending;
      await waitFor(async () => (await pending()) === 0, "every message acknowledged");
    });
  }

  test("two devices: a read on one reaches the other's onRead", async () => {
    const user = `node-read-${Date.now()}`;
    const [phone, laptop] = [client(user, "phone"), client(user, "laptop")];
    phone.instance.live();
    laptop.instance.live();
    await Promise.all([phone.live(), laptop.live()]);
    const [seq] = await publish(user, 1);
    await waitFor(() => laptop.seen.messages.length === 1 && phone.seen.messages.length === 1, "the message on both");
    assert.deepEqual(await phone.instance.read([seq]), { unread: 0 });
    await waitFor(() => laptop.seen.reads.includes(seq), "the read on the laptop", { seen: () => laptop.seen.reads });
    phone.instance.stop();
    laptop.instance.stop();
  });
});
