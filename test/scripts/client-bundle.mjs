// The built client (client/dist/postbox.js, made by `npm run build:client` before this runs) as Node 22
// loads it: no valibot inside (the schemas' types are imported as types only), its exports, and a poll
// through a fetch that answers as postbox would.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

const bundleUrl = new URL("../../client/dist/postbox.js", import.meta.url);

describe("client/dist/postbox.js", () => {
  it("has no runtime dependency: nothing of valibot, no import statements", () => {
    const text = readFileSync(bundleUrl, "utf8");
    assert.doesNotMatch(text, /valibot|strictObject|safeParse/);
    assert.doesNotMatch(text, /^\s*import\s/m);
  });

  it("exports the client API and polls under Node 22", async () => {
    const { Postbox, PostboxError, memoryStorage, webStorage } = await import(bundleUrl.href);
    assert.equal(typeof webStorage, "function");
    assert.equal(typeof PostboxError, "function");
    const token = `e30.${Buffer.from(JSON.stringify({ sub: "alice", device: "node" })).toString("base64url")}.sig`;
    const requests = [];
    const answer = { personal: [{ seq: 1, body: "hi", createdAt: new Date().toISOString() }], announcements: [], region: null, cursor: null, epoch: null, ack: 1, dropped: 0, gap: false, reset: false, more: false };
    const fetch = async (url, init = {}) => {
      requests.push(`${init.method ?? "GET"} ${new URL(url).pathname}`);
      return Response.json(new URL(url).pathname === "/v1/inbox" ? answer : { pending: 0 });
    };
    const handled = [];
    const postbox = new Postbox({ url: "http://postbox.test", token, storage: memoryStorage(), fetch, onMessage: ({ message, via }) => void handled.push([message.seq, via]) });
    await postbox.poll();
    postbox.stop();
    assert.deepEqual(handled, [[1, "poll"]]);
    assert.deepEqual(requests, ["GET /v1/inbox", "POST /v1/inbox/ack"]);
  });
});
