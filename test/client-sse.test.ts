// transport: "sse": the live connection as Server-Sent Events streamed with fetch (token in the
// Authorization header), acknowledged over HTTP, resumed with Last-Event-ID after the server restarts.
import { afterEach, describe, expect, it } from "vitest";
import { evictUser, pendingSeqs, publish, publishMany, range, unique, userWithMessages } from "./helpers";
import { waitFor } from "./live-helpers";
import { expectAcksAfterHandlers, stopClients, testClient, untilSeqs, untilStatus } from "./client-helpers";

afterEach(stopClients);

const PHONE = { device: "phone" };

describe("live() over Server-Sent Events", () => {
  it("handles the catch-up and live events and acknowledges them with POST /v1/inbox/ack", async () => {
    const user = await userWithMessages(2);
    const client = testClient(user, { claims: PHONE, transport: "sse" });
    client.postbox.live();
    await untilStatus(client, "live");
    await publish(user);
    expect(await untilSeqs(client, [1, 2, 3])).toEqual([1, 2, 3]);
    expect(client.delivered.every((d) => d.via === "live")).toBe(true);
    await waitFor(async () => (await pendingSeqs(user, PHONE)).length === 0, "the device's pending set to empty");
    expect(client.wire.acks.filter((ack) => ack.route === "post").at(-1)?.upTo).toBe(3);
    expect(client.wire.sockets).toEqual([]);
    expectAcksAfterHandlers(client);
  });

  it("resumes with Last-Event-ID after the server restarts: nothing lost, nothing repeated", async () => {
    const user = unique("u");
    const client = testClient(user, { claims: PHONE, transport: "sse" });
    client.postbox.live();
    await untilStatus(client, "live");
    await publishMany(user, 2);
    await untilSeqs(client, [1, 2]);
    await evictUser(user, { webSockets: "close" });
    await publishMany(user, 2);
    await untilStatus(client, "live", 2);
    await publish(user);
    expect(await untilSeqs(client, range(1, 5))).toEqual(range(1, 5));
    const streams = client.wire.requests.filter((r) => r.path === "/v1/inbox/live");
    expect(streams[0]!.lastEventId).toBeNull();
    expect(streams.slice(1).every((stream) => stream.lastEventId !== null)).toBe(true);
  });
});
