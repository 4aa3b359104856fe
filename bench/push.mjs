// Publish to push service, on the stand-in push services (push-stand-in.mjs): how long a publish to a
// user with a registered device takes to answer and to reach the push service, and how many pushes per
// second one user's object sends. Each figure is on users no other phase touches; no device here holds
// a live connection, so every publish is pushed to each registered device.
import { performance } from "node:perf_hooks";
import { ms, percentile } from "./live.mjs";
import { pool } from "./client.mjs";
import { CHANNELS } from "./push-stand-in.mjs";

const spread = (values) => ({ p50Ms: ms(percentile(values, 50)), p90Ms: ms(percentile(values, 90)), p99Ms: ms(percentile(values, 99)), maxMs: ms(percentile(values, 100)) });

/** A user whose `count` devices are known and registered on `channel` (null: known, none registered); answers each device's target. */
export async function registeredUser(pb, standIn, user, count, channel) {
  const targets = [];
  await pool(Array.from({ length: count }, (_, i) => `device-${i}`), 8, async (device) => {
    const token = pb.token(user, undefined, device);
    if (channel === null) return pb.poll(token);
    const { body, target } = await standIn.registration(channel);
    await pb.registerPush(token, body);
    targets.push(target);
  });
  return targets;
}

/** Resolves when every target has received the push of `seq`. */
export function pushesOf(standIn, targets, seq) {
  const arrived = () => targets.every((target) => standIn.eventsOf("received", target).some((event) => event.seq === seq));
  return standIn.until(arrived, `push of seq ${seq} to ${targets.length} device(s)`);
}

/**
 * (1) `n` sequential publishes, each to a fresh user with one device registered on the channel (or,
 * for comparison, one known device and no registration): the publish's answer, and the push's arrival
 * at the stand-in (decrypted and verified), both timed from the start of the publish request.
 * A first publish per channel warms the isolate's caches (VAPID token, FCM access token) and is not counted.
 */
async function latency(pb, standIn, { n, log }) {
  const rows = [];
  for (const channel of [null, ...CHANNELS]) {
    const name = channel ?? "none";
    log(`  latency: ${n} publishes, one device each, ${channel ? `registered on ${channel}` : "no registration"}`);
    const answered = [];
    const arrived = [];
    for (let i = 0; i <= n; i++) {
      const user = `push-latency-${name}-${i}`;
      const targets = await registeredUser(pb, standIn, user, 1, channel);
      const t0 = performance.now();
      const { seq, pushed } = await pb.publish(user, { title: "bench", body: `push ${i}` });
      const t1 = performance.now();
      if (pushed !== targets.length) throw new Error(`push phase: a publish to ${user} answered pushed ${pushed}, not ${targets.length}`);
      if (channel) await pushesOf(standIn, targets, seq);
      if (i === 0) continue;
      answered.push(t1 - t0);
      if (channel) arrived.push(standIn.eventsOf("received", targets[0]).find((event) => event.seq === seq).at - t0);
    }
    rows.push({ channel: name, publishes: n, publish: spread(answered), push: channel ? spread(arrived) : null });
  }
  return rows;
}

/**
 * (2) Pushes per second from one user's object: `publishes` publishes (at most `inFlight` at a time)
 * to one user with `devices` registered Web Push devices; from the first publish's start until the
 * stand-in received every push.
 */
async function throughput(pb, standIn, { user, devices, publishes, inFlight, watchWorkerd, log }) {
  log(`  throughput: ${publishes} publish(es), ${inFlight} in flight, to one user with ${devices} Web Push device(s)`);
  const targets = await registeredUser(pb, standIn, user, devices, "webpush");
  const expected = devices * publishes;
  const received = () => targets.reduce((sum, target) => sum + standIn.eventsOf("received", target).length, 0);
  const workerd = watchWorkerd();
  const t0 = performance.now();
  const answers = await pool(Array.from({ length: publishes }, (_, i) => i), inFlight, async (i) => {
    const { pushed } = await pb.publish(user, { title: "bench", body: `burst ${i}` });
    if (pushed !== devices) throw new Error(`push phase: a publish to ${user} answered pushed ${pushed}, not ${devices}`);
    return performance.now();
  });
  await standIn.until(() => received() >= expected, `${expected} pushes to ${user}`, 120_000);
  const workerdCpuUs = workerd.stop();
  const arrivals = targets.flatMap((target) => standIn.eventsOf("received", target).map((event) => event.at - t0)).sort((a, b) => a - b);
  const allMs = arrivals.at(-1);
  return {
    devices,
    publishes,
    inFlight,
    pushes: arrivals.length,
    publishedMs: ms(Math.max(...answers) - t0),
    firstMs: ms(arrivals[0]),
    allMs: ms(allMs),
    pushesPerSec: Math.round(arrivals.length / (allMs / 1000)),
    // The publishes' own CPU included; ticks of 10 ms, so a short run's figure is coarse.
    workerdCpuUsPerPush: workerdCpuUs === null ? null : Math.round(workerdCpuUs / arrivals.length),
  };
}

/**
 * Every figure of the push phase. `deviceLimit` is the DEVICE_LIMIT the Worker runs with;
 * `watchWorkerd()` measures the CPU time workerd uses.
 */
export async function measurePush(pb, standIn, { n = 50, deviceLimit, watchWorkerd = () => ({ stop: () => null }), log = () => {} }) {
  const latencyRows = await latency(pb, standIn, { n, log });
  const throughputRows = [];
  const scenarios = [
    { devices: 10, publishes: 1, inFlight: 1 },
    { devices: deviceLimit, publishes: 1, inFlight: 1 },
    { devices: deviceLimit, publishes: 10, inFlight: 1 },
    { devices: 1, publishes: 100, inFlight: 1 },
    { devices: 1, publishes: 100, inFlight: 10 },
  ];
  for (const [i, scenario] of scenarios.entries()) {
    throughputRows.push(await throughput(pb, standIn, { user: `push-throughput-${i}`, ...scenario, watchWorkerd, log }));
  }
  return { latency: latencyRows, throughput: throughputRows };
}
