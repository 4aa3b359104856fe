// What the client keeps per (url, user, device) survives a reload (a new Postbox on the same storage):
// the device id created once, the highest seq handled, the announcement cursor. webStorage's keys.
import { afterEach, describe, expect, it } from "vitest";
import { memoryStorage, webStorage } from "../client/src/index.ts";
import { announceMany, pendingSeqs, publishMany, unique, userView } from "./helpers";
import { stopClients, testClient } from "./client-helpers";

afterEach(stopClients);

describe("the device", () => {
  it("is created once for (url, user), fits a deviceId, and is the same after a reload", async () => {
    const user = unique("u");
    const storage = memoryStorage();
    const first = testClient(user, { storage });
    const { device } = await first.postbox.ready();
    expect(device).toMatch(/^[A-Za-z0-9._-]{1,64}$/);
    expect(first.postbox.device).toBe(device);
    await first.postbox.poll();
    const again = testClient(user, { storage });
    expect((await again.postbox.ready()).device).toBe(device);
    expect(Object.keys((await userView(user)).devices)).toEqual([device]);
    // Another user on the same storage is another device.
    expect((await testClient(unique("u"), { storage }).postbox.ready()).device).not.toBe(device);
  });

  it("is the one the options name, else the token's claim", async () => {
    const user = unique("u");
    expect((await testClient(user, { claims: { device: "tablet" } }).postbox.ready()).device).toBe("tablet");
    expect((await testClient(user, { device: "desk" }).postbox.ready()).device).toBe("desk");
  });
});

describe("after a reload", () => {
  it("nothing handled before is handled again, even when its acknowledgement was lost", async () => {
    const user = unique("u");
    const region = unique("r");
    const storage = memoryStorage();
    const claims = { device: "phone", region };
    const first = testClient(user, { storage, claims });
    await first.postbox.poll();
    await publishMany(user, 3);
    await announceMany(region, 2);
    // The page goes away before its acknowledgement reaches postbox.
    first.wire.failWhen = (request) => new URL(request.url).pathname === "/v1/inbox/ack";
    await first.postbox.poll();
    expect(first.seqs()).toEqual([1, 2, 3]);
    expect(await pendingSeqs(user, { device: "phone" })).toEqual([1, 2, 3]);

    await publishMany(user, 1);
    await announceMany(region, 1);
    const reloaded = testClient(user, { storage, claims });
    await reloaded.postbox.poll();
    expect(reloaded.seqs()).toEqual([4]);
    expect(reloaded.ids()).toEqual([3]);
    expect(await pendingSeqs(user, { device: "phone" })).toEqual([]);
  });
});

describe("webStorage", () => {
  it("keeps everything under its prefix in a Web Storage", async () => {
    const user = unique("u");
    const items = new Map<string, string>();
    const local = { getItem: (key: string) => items.get(key) ?? null, setItem: (key: string, value: string) => void items.set(key, value) };
    const client = testClient(user, { storage: webStorage(local, "app:") });
    await publishMany(user, 1);
    await client.postbox.poll();
    const { device } = await client.postbox.ready();
    expect([...items.keys()].sort()).toEqual([`app:device:http://postbox.test:${user}`, `app:state:http://postbox.test:${user}:${device}`]);
    expect(JSON.parse(items.get(`app:state:http://postbox.test:${user}:${device}`)!)).toMatchObject({ lastSeq: 1 });
    expect(webStorage(local).get("x")).toBeNull();
  });
});
