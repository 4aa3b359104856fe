// Devices (v1.1): how a client request names its device (the token's `device`
// claim, the `device` parameter, else `default`) and what is refused; pending,
// acked, dropped and announcement cursors kept per device, while read receipts
// count for every device; new devices, devices forgotten by DEVICE_LIMIT and,
// through the object's alarm (clock moved), by DEVICE_TTL_SECONDS; the
// publisher's view of them. Every test runs with the contract's defaults.
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  ackUpTo,
  aheadOfNow,
  announceMany,
  call,
  client,
  clientToken,
  DAY,
  DEVICE_LIMIT,
  DEVICE_TTL,
  expectInvalid,
  expectProblem,
  freezeTime,
  LAPTOP,
  makeKnown,
  markRead,
  pendingSeqs,
  PHONE,
  poll,
  publish,
  publishMany,
  range,
  regionWithAnnouncements,
  runUserAlarm,
  SECOND,
  setRegion,
  travel,
  unique,
  unreadOf,
  userStub,
  userView,
  userWithMessages,
  type ClientClaims,
  type InboxAnswer,
} from "./helpers";
import { adoptSocket, caughtUpSocket, closeAllLive, liveUpgrade } from "./live-helpers";

afterEach(closeAllLive);

const MINUTE = 60 * SECOND;

const seqsOf = (answer: InboxAnswer) => answer.personal.map((m) => m.seq);
const idsOf = (answer: InboxAnswer) => answer.announcements.map((a) => a.id);
const iso = (ms: number) => new Date(ms).toISOString();

/** The answer of POST /v1/inbox/ack, which must be a 200. */
async function ackAnswer(userId: string, upTo: number, claims: ClientClaims) {
  const res = await ackUpTo(userId, upTo, claims);
  expect(res.status).toBe(200);
  return res.json();
}

/** The ids of the user's known devices, sorted. */
const knownDevices = async (userId: string) => Object.keys((await userView(userId)).devices).sort();

/** Each client route with a request it accepts; `query` is "" or "?device=…". A socket it opens is closed after the test. */
const CLIENT_ROUTES: { route: string; ok: number; send: (userId: string, query: string, claims: ClientClaims) => Promise<Response> }[] = [
  { route: "GET /v1/inbox", ok: 200, send: (user, query, claims) => client(user, `/v1/inbox${query}`, claims) },
  { route: "GET /v1/inbox/unread", ok: 200, send: (user, query, claims) => client(user, `/v1/inbox/unread${query}`, claims) },
  {
    route: "POST /v1/inbox/ack",
    ok: 200,
    send: (user, query, claims) => client(user, `/v1/inbox/ack${query}`, { ...claims, method: "POST", json: { upTo: 0 } }),
  },
  {
    route: "POST /v1/inbox/read",
    ok: 200,
    send: (user, query, claims) => client(user, `/v1/inbox/read${query}`, { ...claims, method: "POST", json: { upTo: 0 } }),
  },
  {
    route: "GET /v1/inbox/live",
    ok: 101,
    send: async (user, query, claims) => {
      const res = await liveUpgrade(user, { ...claims, query });
      if (res.status === 101) adoptSocket(res);
      return res;
    },
  },
];

/** Each client route with each way of naming the device phone. */
const NAMING_THE_PHONE = CLIENT_ROUTES.flatMap((route) =>
  [
    { naming: "the token's device claim", query: "", claims: PHONE },
    { naming: "the device parameter, without a claim,", query: "?device=phone", claims: {} },
    { naming: "a parameter equal to the claim", query: "?device=phone", claims: PHONE },
  ].map((naming) => ({ ...route, ...naming })),
);

/** Not deviceIds: empty, a space, 65 characters, a slash, a letter outside A-Za-z. */
const INVALID_DEVICE_IDS = ["", "has space", "x".repeat(65), "a/b", "é"];
/** 64 characters, every kind the contract allows. */
const LONGEST_DEVICE_ID = "Az09._-".padEnd(64, "x");

/** Freezes the clock at a whole second ahead of now before each test of the describe block; returns t0's getter. */
function frozenClock() {
  let t0 = 0;
  beforeEach(() => {
    t0 = freezeTime(aheadOfNow());
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  return () => t0;
}

describe("naming the device", () => {
  it.each(NAMING_THE_PHONE)("$route: $naming names the device", async ({ send, ok, query, claims }) => {
    const user = unique("u");
    expect((await send(user, query, claims)).status).toBe(ok);
    expect(await knownDevices(user)).toEqual(["phone"]);
  });

  it.each(CLIENT_ROUTES)("$route: naming none is the device default", async ({ send, ok }) => {
    const user = unique("u");
    expect((await send(user, "", {})).status).toBe(ok);
    expect(await knownDevices(user)).toEqual(["default"]);
  });

  it.each(CLIENT_ROUTES)("$route: a parameter other than the claim is 403, and no device becomes known", async ({ send }) => {
    const user = unique("u");
    await expectProblem(await send(user, "?device=laptop", PHONE), 403);
    expect((await userView(user)).devices).toStrictEqual({});
  });

  it.each(CLIENT_ROUTES)("$route: an invalid device claim is 401, and no device becomes known", async ({ send }) => {
    const user = unique("u");
    for (const device of INVALID_DEVICE_IDS) await expectProblem(await send(user, "", { device }), 401);
    expect((await userView(user)).devices).toStrictEqual({});
  });

  it.each(CLIENT_ROUTES)("$route: an invalid device parameter is 400 naming device, and no device becomes known", async ({ send }) => {
    const user = unique("u");
    for (const device of INVALID_DEVICE_IDS) {
      await expectInvalid(await send(user, `?device=${encodeURIComponent(device)}`, {}), "device");
    }
    expect((await userView(user)).devices).toStrictEqual({});
  });

  it("a device claim that is not a string is 401", async () => {
    const user = unique("u");
    for (const device of [42, true, ["phone"], { id: "phone" }]) {
      const token = await clientToken({ sub: user, device });
      await expectProblem(await call("/v1/inbox", { headers: { Authorization: `Bearer ${token}` } }), 401);
    }
    expect((await userView(user)).devices).toStrictEqual({});
  });

  it("64 characters of A-Za-z0-9._- name a device, as a claim and as a parameter", async () => {
    const byClaim = unique("u");
    const byParameter = unique("u");
    await poll(byClaim, "", { device: LONGEST_DEVICE_ID });
    await poll(byParameter, `?device=${LONGEST_DEVICE_ID}`);
    expect(await knownDevices(byClaim)).toEqual([LONGEST_DEVICE_ID]);
    expect(await knownDevices(byParameter)).toEqual([LONGEST_DEVICE_ID]);
  });

  it("the claim and the parameter name the same device", async () => {
    const user = await userWithMessages(3);
    expect(seqsOf(await poll(user, "?ack=1", PHONE))).toEqual([2, 3]);
    expect(seqsOf(await poll(user, "?device=phone"))).toEqual([2, 3]);
    expect(await knownDevices(user)).toEqual(["phone"]);
  });

  it("a request refused for another reason (400, 403) makes its device not known", async () => {
    const user = unique("u");
    await expectInvalid(await client(user, "/v1/inbox?limit=0", PHONE), "limit");
    await expectInvalid(await ackUpTo(user, "3", PHONE), "upTo");
    await expectProblem(await client(user, `/v1/inbox?region=${unique("r")}`, { ...PHONE, region: unique("r") }), 403);
    expect((await userView(user)).devices).toStrictEqual({});
  });

  it("publisher requests make no device known", async () => {
    const user = unique("u");
    await publish(user);
    await setRegion(user, unique("r"));
    await userView(user);
    expect((await userView(user)).devices).toStrictEqual({});
  });
});

describe("pending per device", () => {
  it("ack= on the phone leaves the messages pending for the laptop", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP);
    expect(seqsOf(await poll(user, "?ack=3", PHONE))).toEqual([]);
    expect(await pendingSeqs(user, LAPTOP)).toEqual([1, 2, 3]);
  });

  it("POST /v1/inbox/ack answers the requesting device's pending count and acknowledges for it alone", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP, PHONE);
    expect(await ackAnswer(user, 2, PHONE)).toStrictEqual({ pending: 1 });
    expect(await ackAnswer(user, 0, LAPTOP)).toStrictEqual({ pending: 3 });
    expect(await pendingSeqs(user, LAPTOP)).toEqual([1, 2, 3]);
    expect(await pendingSeqs(user, PHONE)).toEqual([3]);
  });

  it("consume=true on the phone removes what the phone was returned, for the phone alone", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP);
    expect(seqsOf(await poll(user, "?consume=true&limit=2", PHONE))).toEqual([1, 2]);
    expect(await pendingSeqs(user, PHONE)).toEqual([3]);
    expect(await pendingSeqs(user, LAPTOP)).toEqual([1, 2, 3]);
  });

  it("an answer's personal, ack and more are the requesting device's", async () => {
    const user = await userWithMessages(4);
    await makeKnown(user, LAPTOP, PHONE);
    await ackAnswer(user, 3, PHONE);
    expect(await poll(user, "?limit=2", LAPTOP)).toMatchObject({ ack: 2, more: true });
    const phone = await poll(user, "?limit=2", PHONE);
    expect(seqsOf(phone)).toEqual([4]);
    expect(phone).toMatchObject({ ack: 4, more: false });
  });

  it("the pending set holds a message while any known device has it pending", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP, PHONE);
    await ackAnswer(user, 3, PHONE);
    expect((await userView(user)).pending).toMatchObject({ count: 3, oldestSeq: 1, newestSeq: 3 });
    await ackAnswer(user, 2, LAPTOP);
    expect((await userView(user)).pending).toMatchObject({ count: 1, oldestSeq: 3, newestSeq: 3 });
    await ackAnswer(user, 3, LAPTOP);
    expect((await userView(user)).pending).toStrictEqual({ count: 0, oldestSeq: null, newestSeq: null, expiresAt: null });
  });

  it("the admin view's devices count each device's own pending messages", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP, PHONE);
    await ackAnswer(user, 2, PHONE);
    const { devices } = await userView(user);
    expect([devices.laptop?.pending, devices.phone?.pending]).toEqual([3, 1]);
  });
});

describe("read receipts count for every device", () => {
  it("seqs read on the phone leave the laptop's pending too", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP, PHONE);
    expect(await (await markRead(user, { seqs: [1, 3] }, PHONE)).json()).toStrictEqual({ unread: 1 });
    expect(await pendingSeqs(user, LAPTOP)).toEqual([2]);
    expect(await pendingSeqs(user, PHONE)).toEqual([2]);
    expect((await userView(user)).pending).toMatchObject({ count: 1, oldestSeq: 2, newestSeq: 2 });
  });

  it("upTo read on the laptop leaves the phone's pending too (a read, unlike an ack's upTo)", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP, PHONE);
    expect(await (await markRead(user, { upTo: 2 }, LAPTOP)).json()).toStrictEqual({ unread: 1 });
    expect(await pendingSeqs(user, PHONE)).toEqual([3]);
  });

  it("the unread set is the user's: an ack leaves it, and every device reads the same", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP, PHONE);
    await ackAnswer(user, 3, PHONE);
    for (const claims of [PHONE, LAPTOP]) {
      const unread = await unreadOf(user, "", claims);
      expect([unread.count, unread.messages.map((m) => m.seq)]).toEqual([3, [1, 2, 3]]);
    }
  });
});

describe("announcement cursors per device", () => {
  it("a new device starts at the region's head, whatever another device's cursor", async () => {
    const user = unique("u");
    const region = await regionWithAnnouncements(2);
    expect((await poll(user, "", { region, ...LAPTOP })).cursor).toBe(2);
    await announceMany(region, 2);
    const phone = await poll(user, "", { region, ...PHONE });
    expect([idsOf(phone), phone.cursor]).toEqual([[], 4]);
    const laptop = await poll(user, "", { region, ...LAPTOP });
    expect([idsOf(laptop), laptop.cursor]).toEqual([[3, 4], 4]);
  });

  it("the phone's polls never move the laptop's cursor", async () => {
    const user = unique("u");
    const region = await regionWithAnnouncements(2);
    await makeKnown(user, { region, ...LAPTOP }, { region, ...PHONE });
    await announceMany(region, 3);
    expect(idsOf(await poll(user, "", { region, ...PHONE }))).toEqual([3, 4, 5]);
    expect(idsOf(await poll(user, "?since=0", { region, ...PHONE }))).toEqual([1, 2, 3, 4, 5]);
    const { devices } = await userView(user);
    expect([devices.laptop?.cursors, devices.phone?.cursors]).toEqual([{ [region]: 2 }, { [region]: 5 }]);
    expect(idsOf(await poll(user, "", { region, ...LAPTOP }))).toEqual([3, 4, 5]);
  });

  it("the top-level cursors are the default device's alone", async () => {
    const user = unique("u");
    const region = await regionWithAnnouncements(1);
    await poll(user, "", { region, ...PHONE });
    expect((await userView(user)).cursors).toStrictEqual({});
    await poll(user, "", { region });
    await announceMany(region, 1);
    await poll(user, "", { region, ...PHONE });
    const view = await userView(user);
    expect(view.cursors).toStrictEqual({ [region]: 1 });
    expect(view.devices.phone?.cursors).toStrictEqual({ [region]: 2 });
  });
});

describe("dropped per device (PENDING_LIMIT 100)", () => {
  it("an eviction is reported once to each device it was pending for, in that device's next answer", async () => {
    const user = await userWithMessages(100);
    await makeKnown(user, LAPTOP, PHONE);
    expect((await publish(user)).evicted).toBe(1);
    expect((await poll(user, "", PHONE)).dropped).toBe(1);
    expect((await poll(user, "", PHONE)).dropped).toBe(0);
    expect((await poll(user, "", LAPTOP)).dropped).toBe(1);
    expect((await poll(user, "", LAPTOP)).dropped).toBe(0);
  });

  it("an evicted message the device had acknowledged is not in its dropped", async () => {
    const user = await userWithMessages(100);
    await makeKnown(user, LAPTOP, PHONE);
    await ackAnswer(user, 50, PHONE);
    expect((await publish(user)).evicted).toBe(1); // seq 1: pending for the laptop only
    expect((await poll(user, "", PHONE)).dropped).toBe(0);
    expect((await poll(user, "", LAPTOP)).dropped).toBe(1);
  });

  it("each device adds up the evictions since its own last answer", async () => {
    const user = await userWithMessages(100);
    await makeKnown(user, LAPTOP, PHONE);
    await publishMany(user, 2);
    expect((await poll(user, "", PHONE)).dropped).toBe(2);
    await publish(user);
    expect((await poll(user, "", PHONE)).dropped).toBe(1);
    expect((await poll(user, "", LAPTOP)).dropped).toBe(3);
  });

  it("evictions while no device was known count for the first device seen, and for no other", async () => {
    const user = await userWithMessages(102);
    expect((await poll(user, "", PHONE)).dropped).toBe(2);
    expect((await poll(user, "", LAPTOP)).dropped).toBe(0);
    expect((await poll(user, "", PHONE)).dropped).toBe(0);
  });
});

describe("new devices", () => {
  it("a device seen for the first time has pending the whole pending set", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP, PHONE);
    await ackAnswer(user, 3, PHONE); // still in the pending set: the laptop has them pending
    expect(await pendingSeqs(user, { device: "tablet" })).toEqual([1, 2, 3]);
  });

  it("messages every known device acknowledged leave the pending set: a device seen later does not get them", async () => {
    const user = await userWithMessages(3);
    await makeKnown(user, LAPTOP);
    await ackAnswer(user, 2, LAPTOP);
    expect((await userView(user)).pending).toMatchObject({ count: 1, oldestSeq: 3, newestSeq: 3 });
    expect(await pendingSeqs(user, PHONE)).toEqual([3]);
  });
});

describe("DEVICE_LIMIT (10): the least recently seen device is forgotten", () => {
  frozenClock();
  const DEVICES = range(1, DEVICE_LIMIT + 1).map((i) => `d${String(i).padStart(2, "0")}`);

  /** Each device polls once, a second after the one before: the first is then the least recently seen. */
  async function seeInTurn(userId: string, devices: string[], claims: ClientClaims = {}) {
    for (const device of devices) {
      travel(SECOND);
      await poll(userId, "", { ...claims, device });
    }
  }

  it("ten devices are known; the eleventh makes the least recently seen one forgotten at once", async () => {
    const user = unique("u");
    await seeInTurn(user, DEVICES.slice(0, DEVICE_LIMIT));
    expect(await knownDevices(user)).toEqual(DEVICES.slice(0, DEVICE_LIMIT));
    await seeInTurn(user, DEVICES.slice(DEVICE_LIMIT));
    expect(await knownDevices(user)).toEqual(DEVICES.slice(1));
  });

  it("least recently seen, not first seen: any client request of a device makes it seen", async () => {
    const user = unique("u");
    await seeInTurn(user, DEVICES.slice(0, DEVICE_LIMIT));
    travel(SECOND);
    await ackAnswer(user, 0, { device: "d01" });
    await seeInTurn(user, DEVICES.slice(DEVICE_LIMIT));
    expect(await knownDevices(user)).toEqual(DEVICES.filter((device) => device !== "d02"));
  });

  it("a device forgotten by the limit that comes back has pending the whole pending set again", async () => {
    const user = await userWithMessages(1);
    // d02 is seen first, so that seq 1 stays in the pending set after d01 acknowledges it.
    await seeInTurn(user, ["d02", "d01"]);
    expect(await ackAnswer(user, 1, { device: "d01" })).toStrictEqual({ pending: 0 });
    // d02 seen again: d01 is the least recently seen when d11 comes.
    await seeInTurn(user, [...DEVICES.slice(2, DEVICE_LIMIT), "d02", "d11"]);
    expect(await knownDevices(user)).toEqual(DEVICES.slice(1));
    expect(await pendingSeqs(user, { device: "d01" })).toEqual([1]);
  });

  // The contract keeps the cursors of at most DEVICE_LIMIT devices, known or
  // forgotten, the least recently seen losing theirs first: with eleven devices
  // holding cursors, the forgotten one's go.
  it("a device forgotten by the limit loses its cursors once an eleventh device has some: it comes back at the head", async () => {
    const user = unique("u");
    const region = await regionWithAnnouncements(1);
    await seeInTurn(user, DEVICES, { region });
    await announceMany(region, 2);
    const back = await poll(user, "", { region, device: "d01" });
    expect([idsOf(back), back.cursor]).toEqual([[], 3]);
    expect(idsOf(await poll(user, "", { region, device: "d03" }))).toEqual([2, 3]);
  });
});

describe("DEVICE_TTL_SECONDS (7 days): an unseen device is forgotten by the object's alarm", () => {
  const t0 = frozenClock();
  const at = (ms: number) => vi.setSystemTime(t0() + ms);

  it("the object's alarm is due by the time its least recently seen device is to be forgotten", async () => {
    const user = unique("u");
    await poll(user, "", PHONE);
    const alarm = await runInDurableObject(userStub(user), (_instance, state) => state.storage.getAlarm());
    expect(alarm).not.toBeNull();
    expect(alarm!).toBeLessThanOrEqual(t0() + DEVICE_TTL);
  });

  it("forgets a device unseen for DEVICE_TTL_SECONDS when the alarm runs, and not a second before", async () => {
    const user = unique("u");
    await poll(user, "", PHONE);
    at(DAY);
    await poll(user, "", LAPTOP);
    at(DEVICE_TTL - SECOND);
    expect(await runUserAlarm(user)).toBe(true);
    expect(await knownDevices(user)).toEqual(["laptop", "phone"]);
    at(DEVICE_TTL);
    expect(await runUserAlarm(user)).toBe(true);
    expect(await knownDevices(user)).toEqual(["laptop"]);
  });

  it("a forgotten device that comes back has pending the whole pending set again", async () => {
    const user = await userWithMessages(1);
    await makeKnown(user, LAPTOP, PHONE);
    expect(await ackAnswer(user, 1, PHONE)).toStrictEqual({ pending: 0 });
    at(6 * DAY);
    await publish(user, { body: "m2" }); // the pending set is cleared PENDING_TTL after its last insert: not yet
    await poll(user, "", LAPTOP);
    at(DEVICE_TTL);
    await runUserAlarm(user);
    expect(await knownDevices(user)).toEqual(["laptop"]);
    expect(await pendingSeqs(user, PHONE)).toEqual([1, 2]);
  });

  it("a forgotten device keeps its announcement cursors: back, it gets the retained announcements it missed", async () => {
    const user = unique("u");
    const region = await regionWithAnnouncements(2);
    expect((await poll(user, "", { region, ...PHONE })).cursor).toBe(2);
    await announceMany(region, 3);
    at(DEVICE_TTL);
    await runUserAlarm(user);
    expect((await userView(user)).devices).toStrictEqual({});
    const back = await poll(user, "", { region, ...PHONE });
    expect([idsOf(back), back.cursor]).toEqual([[3, 4, 5], 5]);
  });

  it("an open live connection keeps its device seen", async () => {
    const user = unique("u");
    await caughtUpSocket(user, PHONE);
    await poll(user, "", LAPTOP);
    at(DEVICE_TTL + DAY);
    await runUserAlarm(user);
    expect(await knownDevices(user)).toEqual(["phone"]);
  });
});

describe("GET /admin/v1/users/{userId}: devices", () => {
  const t0 = frozenClock();

  it("lists each known device with its pending count, acked, lastSeenAt, cursors and push", async () => {
    const user = await userWithMessages(3);
    const region = await regionWithAnnouncements(1);
    await poll(user, "", { region, ...PHONE });
    travel(MINUTE);
    await ackUpTo(user, 2, PHONE);
    travel(MINUTE);
    await poll(user, "", LAPTOP);
    const view = await userView(user);
    // The phone's ack came while it was the only known device: 1 and 2 left the set before the laptop was seen.
    expect(view.devices).toStrictEqual({
      phone: { pending: 1, acked: 2, lastSeenAt: iso(t0() + MINUTE), cursors: { [region]: 1 }, push: null },
      laptop: { pending: 1, acked: 0, lastSeenAt: iso(t0() + 2 * MINUTE), cursors: {}, push: null },
    });
    expect(view.pending.count).toBe(1);
  });

  it("a client that names no device is listed as default; the top-level cursors are its cursors", async () => {
    const user = await userWithMessages(2);
    const region = await regionWithAnnouncements(1);
    await poll(user, "?ack=1", { region });
    const view = await userView(user);
    expect(view.devices).toStrictEqual({
      default: { pending: 1, acked: 1, lastSeenAt: iso(t0()), cursors: { [region]: 1 }, push: null },
    });
    expect(view.cursors).toStrictEqual({ [region]: 1 });
  });

  it("lastSeenAt is the time of the device's last client request; publisher requests leave it", async () => {
    const user = unique("u");
    await poll(user, "", PHONE);
    travel(MINUTE);
    await publish(user);
    expect((await userView(user)).devices.phone?.lastSeenAt).toBe(iso(t0()));
    travel(MINUTE);
    await markRead(user, { upTo: 0 }, PHONE);
    expect((await userView(user)).devices.phone?.lastSeenAt).toBe(iso(t0() + 2 * MINUTE));
  });
});

describe("a client that names no device", () => {
  it("gets v1's answers: its pending counts are the user's pending set", async () => {
    const user = await userWithMessages(3);
    expect(await pendingSeqs(user, {})).toEqual([1, 2, 3]);
    expect(await ackAnswer(user, 1, {})).toStrictEqual({ pending: 2 });
    expect((await userView(user)).pending).toMatchObject({ count: 2, oldestSeq: 2, newestSeq: 3 });
    expect(await (await markRead(user, { seqs: [2] })).json()).toStrictEqual({ unread: 2 });
    expect(await pendingSeqs(user, {})).toEqual([3]);
  });

  it("is the device default: naming default, by claim or parameter, is the same device", async () => {
    const user = await userWithMessages(3);
    await poll(user, "?ack=1");
    expect(await pendingSeqs(user, { device: "default" })).toEqual([2, 3]);
    expect(seqsOf(await poll(user, "?device=default&ack=2"))).toEqual([3]);
    expect(await pendingSeqs(user, {})).toEqual([3]);
  });
});
