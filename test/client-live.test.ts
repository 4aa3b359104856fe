// The client's live(): catch-up then live frames, acknowledged on the socket after each handler;
// reconnects after a server restart or a throwing handler without loss or repeats; a cut catch-up
// completed over HTTP; read and retract frames; read() on the socket; heartbeat; online/offline; stop().
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  announce,
  evictUser,
  markRead,
  pendingSeqs,
  publish,
  publishMany,
  range,
  retract,
  retractAnnouncement,
  unique,
  userView,
  userWithMessages,
} from "./helpers";
import { userSocketStates, waitFor } from "./live-helpers";
import { expectAcksAfterHandlers, stopClients, testClient, untilSeqs, untilStatus } from "./client-helpers";

afterEach(() => {
  stopClients();
  vi.unstubAllGlobals();
});

const PHONE = { device: "phone" };
const pendingOf = async (user: string, device = "phone") => (await userView(user)).devices[device]?.pending;

describe("live()", () => {
  it("handles the catch-up, then each message as it is published, via live, and acknowledges them on the socket", async () => {
    const user = await userWithMessages(2);
    const client = testClient(user, { claims: PHONE });
    client.postbox.live();
    await untilStatus(client, "live");
    expect(client.statuses.slice(0, 2)).toEqual(["connecting", "live"]);
    await publishMany(user, 2);
    expect(await untilSeqs(client, [1, 2, 3, 4])).toEqual([1, 2, 3, 4]);
    expect(client.delivered.every((d) => d.via === "live")).toBe(true);
    await waitFor(async () => (await pendingOf(user)) === 0, "the device's pending set to empty");
    expect(client.wire.acks.some((ack) => ack.route === "socket" && ack.upTo === 4)).toBe(true);
    expect(client.wire.requests.filter((r) => r.path === "/v1/inbox/ack")).toEqual([]);
    expectAcksAfterHandlers(client);
  });

  it("is idempotent: a second live() opens no second connection", async () => {
    const client = testClient(unique("u"), { claims: PHONE });
    client.postbox.live();
    client.postbox.live();
    await untilStatus(client, "live");
    expect(client.wire.sockets.length).toBe(1);
  });

  it("reconnects after the server restarts, with nothing lost and nothing repeated", async () => {
    const user = await userWithMessages(1);
    const client = testClient(user, { claims: PHONE });
    client.postbox.live();
    await untilSeqs(client, [1]);
    await publish(user, { body: "m2" });
    await untilSeqs(client, [1, 2]);
    await evictUser(user, { webSockets: "close" }); // a restart: the object's sockets close with it
    await publishMany(user, 3); // while the client is away (or reconnecting)
    await untilStatus(client, "live", 2);
    await publish(user, { body: "after" });
    expect(await untilSeqs(client, range(1, 6))).toEqual(range(1, 6));
    expect(client.statuses).toContain("reconnecting");
    expect(client.wire.sockets.length).toBeGreaterThanOrEqual(2);
    expectAcksAfterHandlers(client);
  });

  it("a handler that throws: not acknowledged, onError, and the reconnect's catch-up delivers it again", async () => {
    const user = unique("u");
    let failures = 0;
    const handled: number[] = [];
    const client = testClient(user, {
      claims: PHONE,
      onMessage: ({ message }) => {
        const seq = (message as { seq: number }).seq;
        if (seq === 2 && failures++ === 0) throw new Error("the app failed on 2");
        handled.push(seq);
      },
    });
    client.postbox.live();
    await untilStatus(client, "live");
    await publishMany(user, 3);
    await waitFor(() => handled.length >= 3, "seqs 1-3 handled", () => handled);
    expect(handled).toEqual([1, 2, 3]);
    expect(client.errors.map((e) => e.message)).toEqual(["the app failed on 2"]);
    expect(client.wire.sockets.length).toBe(2);
    // No acknowledgement ever covered 2 before its handler succeeded.
    expect(client.wire.acks.filter((ack) => ack.upTo >= 2 && !handled.slice(0, 2).includes(2))).toEqual([]);
    await waitFor(async () => (await pendingOf(user)) === 0, "the device's pending set to empty");
  });

  it("completes a cut catch-up over HTTP, holding the live frames that arrive meanwhile", async () => {
    const user = await userWithMessages(60);
    const region = unique("r");
    const client = testClient(user, {
      claims: { ...PHONE, region },
      onMessage: async (delivered) => {
        // While the cut catch-up is being handled, more is published: those frames must wait.
        if (delivered.kind === "announcement" && delivered.message.id === 50) await publish(user, { body: "during" });
      },
    });
    await client.postbox.poll(); // places the device at the region's head
    await client.postbox.poll();
    expect(client.seqs()).toEqual(range(1, 60));
    await client.postbox.poll();
    for (let i = 0; i < 120; i++) await announce([region], { body: `a${i}` });
    client.postbox.live();
    await untilStatus(client, "live");
    await waitFor(() => client.seqs().includes(61), "seq 61", () => client.seqs());
    expect(client.ids()).toEqual(range(1, 120));
    expect(client.seqs()).toEqual(range(1, 61));
    // The catch-up was cut at 100 announcements; the poll completing it brought seq 61 and the rest,
    // and seq 61's live frame, held meanwhile, was then dropped as handled.
    const vias = client.delivered.slice(60).map((d) => [d.kind === "announcement" ? d.message.id : d.message.seq, d.via]);
    expect(vias).toEqual([
      ...range(1, 100).map((id) => [id, "live"]),
      [61, "poll"],
      ...range(101, 120).map((id) => [id, "poll"]),
    ]);
    expectAcksAfterHandlers(client);
  });

  it("hands read frames to onRead and retract frames to onRetract", async () => {
    const user = unique("u");
    const region = unique("r");
    const client = testClient(user, { claims: { ...PHONE, region } });
    client.postbox.live();
    await untilStatus(client, "live");
    const [{ seq }] = [await publish(user, { body: "to retract" })];
    const { ids } = await announce([region]);
    await publish(user, { body: "to read" });
    await untilSeqs(client, [1, 2]);
    await waitFor(() => client.ids().length === 1, "the announcement");
    await retract(user, seq);
    await retractAnnouncement(region, ids[region]!);
    await markRead(user, { seqs: [2] }, { device: "laptop" });
    await waitFor(() => client.retracts.length === 2 && client.reads.length === 1, "the retract and read frames");
    expect(client.retracts).toEqual([{ seq: 1 }, { region, id: ids[region] }]);
    expect(client.reads).toEqual([{ seqs: [2], unread: 0 }]);
  });

  it("read() goes over the open socket and answers the unread count", async () => {
    const user = await userWithMessages(3);
    const client = testClient(user, { claims: PHONE });
    client.postbox.live();
    await untilSeqs(client, [1, 2, 3]);
    const before = client.wire.requests.length;
    expect(await client.postbox.read([1, 2])).toEqual({ unread: 1 });
    expect(client.wire.requests.slice(before)).toEqual([]);
  });

  it("drops a connection that stops answering its heartbeat ping, and reconnects", async () => {
    const user = unique("u");
    const client = testClient(user, { claims: PHONE, heartbeatMs: 30, heartbeatTimeoutMs: 30 });
    client.postbox.live();
    await untilStatus(client, "live");
    client.wire.sockets[0]!.swallowPongs = true;
    await waitFor(() => client.wire.sockets.length >= 2, "a second connection");
    expect(client.wire.sockets[0]!.readyState).toBe(3);
    await publish(user);
    await untilSeqs(client, [1]);
  });

  it("closes while the browser is offline and reconnects at once when it is online", async () => {
    const events = new EventTarget();
    vi.stubGlobal("addEventListener", events.addEventListener.bind(events));
    vi.stubGlobal("removeEventListener", events.removeEventListener.bind(events));
    const user = unique("u");
    // A minute's wait before any reconnect: only the online event can explain a quick one.
    const client = testClient(user, { claims: PHONE, reconnect: { initialMs: 60_000, maxMs: 60_000 } });
    client.postbox.live();
    await untilStatus(client, "live");
    events.dispatchEvent(new Event("offline"));
    expect(client.statuses.at(-1)).toBe("offline");
    await waitFor(async () => (await userSocketStates(user)).length === 0, "the socket to close");
    await publish(user);
    events.dispatchEvent(new Event("online"));
    await untilStatus(client, "live", 2);
    expect(await untilSeqs(client, [1])).toEqual([1]);
  });

  it("hands over a read frame that was waiting behind a handler when the connection dropped", async () => {
    const events = new EventTarget();
    vi.stubGlobal("addEventListener", events.addEventListener.bind(events));
    vi.stubGlobal("removeEventListener", events.removeEventListener.bind(events));
    const user = unique("u");
    let release = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const client = testClient(user, {
      claims: PHONE,
      reconnect: { initialMs: 60_000, maxMs: 60_000 },
      onMessage: async ({ message }) => void ("seq" in message && message.seq === 2 && (await gate)),
    });
    client.postbox.live();
    await untilStatus(client, "live");
    const socket = client.wire.sockets[0]!;
    const handOver = socket.onmessage!;
    let readArrived = false;
    socket.onmessage = (event) => {
      readArrived ||= String(event.data).includes('"type":"read"');
      handOver(event);
    };
    await publish(user);
    await publish(user); // its handler waits for the gate
    await untilSeqs(client, [1]);
    await markRead(user, { seqs: [1] }, { device: "laptop" });
    await waitFor(() => readArrived, "the read frame");
    events.dispatchEvent(new Event("offline")); // the connection drops while the read frame waits
    release();
    await waitFor(() => client.reads.length === 1, "the read frame handed over", () => client.reads);
    expect(client.reads).toEqual([{ seqs: [1], unread: 1 }]);
  });

  it("stop() closes the connection for good", async () => {
    const user = unique("u");
    const client = testClient(user, { claims: PHONE });
    client.postbox.live();
    await untilStatus(client, "live");
    client.postbox.stop();
    expect(client.statuses.at(-1)).toBe("stopped");
    await waitFor(async () => (await userSocketStates(user)).length === 0, "the socket to close");
    await publish(user);
    expect(await pendingSeqs(user, PHONE)).toEqual([1]);
    expect(client.wire.sockets.length).toBe(1);
  });
});
