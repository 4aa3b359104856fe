// Live connections per device (v1.1), as WebSockets and as Server-Sent Events:
// a device's catch-up, live frames, socket acks and Last-Event-ID resume are
// its own; and read sync: a read receipt, over HTTP or a socket, is sent as
// {"type":"read","seqs":[…],"unread":n} to every live connection of the user,
// on every device, except the socket that sent it.
import { afterEach, describe, expect, it } from "vitest";
import {
  ackUpTo,
  announce,
  announceMany,
  LAPTOP,
  makeKnown,
  markRead,
  pendingSeqs,
  PHONE,
  poll,
  publish,
  regionWithAnnouncements,
  unique,
  userView,
  userWithMessages,
  type InboxAnswer,
} from "./helpers";
import {
  announcementIds,
  caughtUpEventStream,
  caughtUpSocket,
  closeAllLive,
  liveCatchup,
  openEventStream,
  personalSeqs,
  readFrames,
  untilUnfollowed,
  type Frame,
} from "./live-helpers";

afterEach(closeAllLive);

const seqsOf = (answer: InboxAnswer) => answer.personal.map((m) => m.seq);
const idsOf = (answer: InboxAnswer) => answer.announcements.map((a) => a.id);

/** A read frame with its seqs in ascending order: the contract lists them in no particular order. */
const withSortedSeqs = (frame: Frame) =>
  frame.type === "read" ? { ...frame, seqs: [...frame.seqs].sort((a, b) => a - b) } : frame;

describe("catch-up and live frames per device", () => {
  it("a device's catch-up is its own pending set", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP, PHONE);
    await ackUpTo(user, 2, PHONE);
    const phone = await liveCatchup(user, PHONE);
    expect([seqsOf(phone), phone.ack]).toEqual([[3], 3]);
    const laptop = await liveCatchup(user, LAPTOP);
    expect([seqsOf(laptop), laptop.ack]).toEqual([[1, 2, 3], 3]);
  });

  it("a new device's catch-up has the whole pending set and starts at the region's head", async () => {
    const user = await userWithMessages(2);
    const region = await regionWithAnnouncements(2);
    await poll(user, "?ack=1", { region, ...LAPTOP }); // the only known device: seq 1 leaves the pending set
    await announceMany(region, 1);
    const phone = await liveCatchup(user, { region, ...PHONE });
    expect([seqsOf(phone), idsOf(phone), phone.cursor]).toEqual([[2], [], 3]);
  });

  it("a published message reaches the live connections of every device", async () => {
    const user = unique("u");
    const phone = await caughtUpSocket(user, PHONE, "phone's socket");
    const laptop = await caughtUpEventStream(user, LAPTOP, "laptop's stream");
    const unnamed = await caughtUpSocket(user, {}, "default device's socket");
    const { seq, createdAt } = await publish(user, { body: "to all" });
    const frames = [await phone.waitForPersonal(seq), (await laptop.waitForPersonal(seq)).frame, await unnamed.waitForPersonal(seq)];
    expect(frames).toEqual(Array(3).fill({ type: "personal", message: { seq, body: "to all", createdAt } }));
  });

  it("an announcement delivered live moves the cursor of the device it was sent to, and no other", async () => {
    const user = unique("u");
    const region = await regionWithAnnouncements(1);
    await poll(user, "", { region, ...LAPTOP });
    const phone = await caughtUpSocket(user, { region, ...PHONE });
    await announceMany(region, 2);
    await phone.waitForAnnouncement(3);
    const { devices } = await userView(user);
    expect([devices.laptop?.cursors, devices.phone?.cursors]).toEqual([{ [region]: 1 }, { [region]: 3 }]);
    expect(idsOf(await poll(user, "", { region, ...LAPTOP }))).toEqual([2, 3]);
  });
});

describe("socket acks per device", () => {
  it("an ack frame acknowledges for its device: the ok carries that device's pending, the laptop keeps its messages", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP);
    const phone = await caughtUpSocket(user, PHONE);
    expect(await phone.request({ type: "ack", upTo: 2 })).toEqual({ type: "ok", for: "ack", pending: 1 });
    const { pending, devices } = await userView(user);
    expect([pending.count, devices.phone?.pending, devices.laptop?.pending]).toEqual([3, 1, 3]);
    expect(await pendingSeqs(user, LAPTOP)).toEqual([1, 2, 3]);
  });

  it("the sockets of one device share its pending; another device's do not", async () => {
    const user = await userWithMessages(3);
    const phoneA = await caughtUpSocket(user, PHONE, "phone's first socket");
    const phoneB = await caughtUpSocket(user, PHONE, "phone's second socket");
    const laptop = await caughtUpSocket(user, LAPTOP, "laptop's socket");
    expect(await phoneA.request({ type: "ack", upTo: 3 })).toEqual({ type: "ok", for: "ack", pending: 0 });
    expect(await phoneB.request({ type: "ack", upTo: 0 })).toEqual({ type: "ok", for: "ack", pending: 0 });
    expect(await laptop.request({ type: "ack", upTo: 0 })).toEqual({ type: "ok", for: "ack", pending: 3 });
  });

  it("a read frame on the phone's socket removes the messages from every device's pending", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP);
    const phone = await caughtUpSocket(user, PHONE);
    expect(await phone.request({ type: "read", seqs: [1] })).toEqual({ type: "ok", for: "read", unread: 2 });
    expect(await pendingSeqs(user, LAPTOP)).toEqual([2, 3]);
  });
});

describe("Server-Sent Events per device", () => {
  it("a device's event stream starts with its own catch-up", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP, PHONE);
    await ackUpTo(user, 2, PHONE);
    const streams = [await caughtUpEventStream(user, PHONE, "phone's stream"), await caughtUpEventStream(user, LAPTOP, "laptop's stream")];
    const catchups = streams.map((stream) => stream.frames[0]);
    expect(catchups.map((f) => f?.type === "catchup" && seqsOf(f))).toEqual([[3], [1, 2, 3]]);
  });

  it("a Last-Event-ID resume replays what is pending for that device, whatever another device acknowledged", async () => {
    const user = unique("u");
    await makeKnown(user, LAPTOP);
    const first = await caughtUpEventStream(user, PHONE, "phone's first stream");
    await publish(user, { body: "m1" });
    const resumeFrom = (await first.waitForPersonal(1)).id!;
    await first.close();

    await publish(user, { body: "m2" });
    await publish(user, { body: "m3" });
    expect(await (await ackUpTo(user, 3, LAPTOP)).json()).toStrictEqual({ pending: 0 });

    const second = await openEventStream(user, { ...PHONE, headers: { "Last-Event-ID": resumeFrom } }, "phone's resumed stream");
    await second.waitForPersonal(3);
    await publish(user, { body: "marker" });
    await second.waitForPersonal(4);
    expect(second.events.map((e) => e.event)).toEqual(["personal", "personal", "personal"]);
    expect(personalSeqs(second.frames)).toEqual([2, 3, 4]);
  });

  it("a resume's replayed announcements move the cursor of its device alone", async () => {
    const user = unique("u");
    const region = unique("r");
    await poll(user, "", { region, ...LAPTOP });
    const first = await caughtUpEventStream(user, { region, ...PHONE }, "phone's first stream");
    await announce([region]);
    const resumeFrom = (await first.waitForAnnouncement(1)).id!;
    await first.close();
    await untilUnfollowed(region, user);

    await announce([region]); // id 2, while the phone is away
    const second = await openEventStream(user, { region, ...PHONE, headers: { "Last-Event-ID": resumeFrom } }, "phone's resumed stream");
    await second.waitForAnnouncement(2);
    await announce([region]);
    await second.waitForAnnouncement(3);
    expect(announcementIds(second.frames)).toEqual([2, 3]);
    const { devices } = await userView(user);
    expect([devices.laptop?.cursors, devices.phone?.cursors]).toEqual([{ [region]: 0 }, { [region]: 3 }]);
  });
});

describe("read sync", () => {
  it("a read receipt over HTTP is sent to every live connection of the user, on every device, WebSocket and SSE", async () => {
    const user = await userWithMessages(3);
    const sockets = [
      await caughtUpSocket(user, PHONE, "phone's socket"),
      await caughtUpSocket(user, LAPTOP, "laptop's socket"),
      await caughtUpSocket(user, {}, "default device's socket"),
    ];
    const stream = await caughtUpEventStream(user, LAPTOP, "laptop's stream");
    expect(await (await markRead(user, { seqs: [1, 3] }, PHONE)).json()).toStrictEqual({ unread: 1 });

    const expected = { type: "read", seqs: [1, 3], unread: 1 };
    for (const socket of sockets) expect(withSortedSeqs(await socket.waitForRead())).toEqual(expected);
    const event = await stream.waitForRead();
    expect([event.event, withSortedSeqs(event.frame)]).toEqual(["read", expected]);
  });

  it("a read frame on a socket is sent to every other live connection; the sending socket gets only its ok", async () => {
    const user = await userWithMessages(3);
    const sender = await caughtUpSocket(user, PHONE, "phone's sending socket");
    const others = [await caughtUpSocket(user, PHONE, "phone's other socket"), await caughtUpSocket(user, LAPTOP, "laptop's socket")];
    const stream = await caughtUpEventStream(user, LAPTOP, "laptop's stream");
    expect(await sender.request({ type: "read", upTo: 2 })).toEqual({ type: "ok", for: "read", unread: 1 });

    const expected = { type: "read", seqs: [1, 2], unread: 1 };
    for (const socket of others) expect(withSortedSeqs(await socket.waitForRead())).toEqual(expected);
    expect(withSortedSeqs((await stream.waitForRead()).frame)).toEqual(expected);
    await sender.barrier();
    expect(readFrames(sender.frames)).toEqual([]);
  });

  it("seqs are the ones the receipt removed from the unread set, not the ones it listed", async () => {
    const user = await userWithMessages(3);
    await markRead(user, { seqs: [2] });
    const laptop = await caughtUpSocket(user, LAPTOP);
    await markRead(user, { seqs: [1, 2, 3, 99] }, PHONE);
    expect(withSortedSeqs(await laptop.waitForRead())).toEqual({ type: "read", seqs: [1, 3], unread: 0 });
  });

  it("after a receipt with upTo, seqs are every seq it removed from the unread set", async () => {
    const user = await userWithMessages(4);
    await markRead(user, { seqs: [2] });
    const laptop = await caughtUpSocket(user, LAPTOP);
    await markRead(user, { upTo: 3 }, PHONE);
    expect(withSortedSeqs(await laptop.waitForRead())).toEqual({ type: "read", seqs: [1, 3], unread: 1 });
  });

  it("no read frame for a receipt that removes nothing from the unread set, nor for an acknowledgement", async () => {
    const user = await userWithMessages(2);
    const laptop = await caughtUpSocket(user, LAPTOP);
    expect(await (await markRead(user, { seqs: [99] }, PHONE)).json()).toStrictEqual({ unread: 2 });
    await ackUpTo(user, 2, PHONE);
    await markRead(user, { seqs: [1] }, PHONE);
    await laptop.waitForRead();
    // Frames reach a socket in the order they were sent: anything the first two had caused is here by now.
    expect(readFrames(laptop.frames).map(withSortedSeqs)).toEqual([{ type: "read", seqs: [1], unread: 1 }]);
  });
});
