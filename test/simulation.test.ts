// End to end: users whose devices go on- and offline while messages are published, through a Web
// Push service that silently loses 30 % of the pushes. Each simulated device does what the
// integration guide says (docs/INTEGRATION.md): on a push it reports `arrived`; online it holds a
// live connection and acknowledges each frame; coming back it polls and acknowledges. In the end
// every message reached every device, and GET /admin/v1/stats agrees with what the devices saw:
// arrival by push alone, with the backstop, and the backstop's share.
import { afterEach, expect, it, vi } from "vitest";
import { FLUSH_DELAY_MS } from "../src/stats/buffer";
import {
  LAPTOP,
  PHONE,
  SECOND,
  ackUpTo,
  freezeTime,
  makeKnown,
  poll,
  publish,
  reportArrived,
  runUserAlarm,
  seededRandom,
  statsOf,
  unique,
  windowQuery,
  type ClientClaims,
} from "./helpers";
import { caughtUpSocket, closeAllLive, type LiveSocket } from "./live-helpers";
import { logOf, registerPush, seqOf, setFaults, waitForPushes } from "./push-service";

const USERS = 3;
const ROUNDS = 12;
const LOSS = 0.3;

type Route = "push" | "live" | "poll";

/** One simulated installation: its push target, its socket while online, and how each seq first reached it. */
class Device {
  socket: LiveSocket | null = null;
  readonly firstBy = new Map<number, Route>();
  pushesTaken = 0;

  constructor(
    readonly user: string,
    readonly claims: ClientClaims,
    readonly target: string,
  ) {}

  private saw(seqs: number[], route: Route) {
    for (const seq of seqs) if (!this.firstBy.has(seq)) this.firstBy.set(seq, route);
  }

  async goOnline() {
    this.socket = await caughtUpSocket(this.user, this.claims);
    const { personal } = await this.socket.catchup();
    this.saw(personal.map((message) => message.seq), "live");
    await this.ackOnSocket();
  }

  async goOffline() {
    await this.socket?.close();
    this.socket = null;
  }

  /** Online: each live frame is shown and acknowledged on the socket. */
  async takeLiveFrame(seq: number) {
    await this.socket!.waitForPersonal(seq);
    this.saw([seq], "live");
    await this.ackOnSocket();
  }

  /** Offline: the push service's next push, if it reached the device, is shown and reported arrived. */
  async takePush() {
    this.pushesTaken += 1;
    const push = (await waitForPushes(this.target, this.pushesTaken))[this.pushesTaken - 1]!;
    if (!push.delivered) return;
    this.saw([seqOf(push)], "push");
    expect((await reportArrived(this.user, [seqOf(push)], this.claims)).status).toBe(200);
  }

  /** The app comes to the foreground for a moment: a poll, shown, acknowledged. */
  async pollAndAck() {
    const { personal } = await poll(this.user, "", this.claims);
    this.saw(personal.map((message) => message.seq), "poll");
    const last = personal.at(-1)?.seq;
    if (last !== undefined) expect((await ackUpTo(this.user, last, this.claims)).status).toBe(200);
  }

  private async ackOnSocket() {
    const newest = Math.max(0, ...this.firstBy.keys());
    await this.socket!.request({ type: "ack", upTo: newest });
  }
}

afterEach(async () => {
  await closeAllLive();
  vi.useRealTimers();
});

it("every message reaches every device, and the stats agree with what the devices saw", { timeout: 60_000 }, async () => {
  const random = seededRandom(11);
  const start = Date.now() - SECOND;
  const devices: Device[] = [];
  const published = new Map<string, number[]>();
  for (let i = 0; i < USERS; i++) {
    const user = unique("sim");
    await makeKnown(user, PHONE, LAPTOP);
    for (const claims of [PHONE, LAPTOP]) devices.push(new Device(user, claims, await registerPush(user, "webpush", claims)));
    published.set(user, []);
  }

  for (let round = 0; round < ROUNDS; round++) {
    for (const device of devices) {
      const online = random() < 0.4;
      if (online && !device.socket) await device.goOnline();
      if (!online && device.socket) await device.goOffline();
      // The push service loses this round's push to the device, or not.
      await setFaults(device.target, ...(random() < LOSS ? [{ lose: true as const }] : []));
    }
    for (const [user, seqs] of published) {
      const { seq, pushed } = await publish(user, { body: `round ${round}` });
      seqs.push(seq);
      const mine = devices.filter((device) => device.user === user);
      expect(pushed).toBe(mine.filter((device) => !device.socket).length);
      for (const device of mine) await (device.socket ? device.takeLiveFrame(seq) : device.takePush());
    }
    for (const device of devices) if (!device.socket && random() < 0.25) await device.pollAndAck();
  }
  for (const device of devices) {
    await device.goOffline();
    await device.pollAndAck();
  }

  for (const device of devices) expect([...device.firstBy.keys()].sort((a, b) => a - b)).toEqual(published.get(device.user));
  const lost = (await Promise.all(devices.map(async (device) => (await logOf(device.target)).received))).flat();
  expect(lost.some((push) => !push.delivered)).toBe(true);

  // Every count is flushed by each user's alarm, FLUSH_DELAY_MS after its first change.
  const end = Date.now();
  freezeTime(end + FLUSH_DELAY_MS);
  for (const user of published.keys()) await runUserAlarm(user);
  const { personal } = await statsOf(windowQuery(start, end + SECOND));
  const saw = (route: Route) => devices.reduce((n, device) => n + [...device.firstBy.values()].filter((r) => r === route).length, 0);
  const arrived = { push: saw("push"), live: saw("live"), poll: saw("poll") };
  const all = arrived.push + arrived.live + arrived.poll;
  expect(personal).toMatchObject({
    messages: USERS * ROUNDS,
    deliveries: 2 * USERS * ROUNDS,
    arrived,
    withdrawn: { read: 0, retracted: 0 },
    notArrived: { expired: 0, evicted: 0, forgotten: 0, pending: 0 },
    arrivalRate: 1,
    backstopShare: (arrived.live + arrived.poll) / all,
  });
  expect(arrived.push).toBeGreaterThan(0);
  expect(arrived.live + arrived.poll).toBeGreaterThan(0);
});
