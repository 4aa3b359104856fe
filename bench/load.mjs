// Throughput under load with autocannon (programmatic): each scenario runs for
// a fixed time with a fixed number of connections, and every run is also
// capped in requests and stopped by a watchdog, so nothing runs on by itself.
import autocannon from "autocannon";
import { setTimeout as sleep } from "node:timers/promises";
import { pool } from "./client.mjs";

/**
 * One autocannon run. `request` is { method, path, headers, body } or a
 * function (i) => that for the i-th request (round-robin over users). Either
 * `seconds` (a timed run) or `amount` (exactly that many requests) bounds it.
 */
export async function fire({ url, request, connections, seconds, amount, title }) {
  const build = typeof request === "function" ? request : () => request;
  let i = 0;
  const options = {
    url,
    title,
    connections,
    pipelining: 1,
    timeout: 10,
    ...(amount ? { amount } : { duration: seconds }),
    // Also capped in count: far above what a timed run can reach on loopback.
    ...(!amount && { maxOverallRequests: Math.max(connections, Math.ceil(seconds * 200_000)) }),
    requests: [{ setupRequest: (req) => ({ ...req, ...build(i++) }) }],
  };
  const instance = autocannon(options);
  // The watchdog: a timed run gets its time plus 30 s, a counted one 10 minutes.
  const watchdog = setTimeout(() => instance.stop(), (amount ? 600 : seconds + 30) * 1000);
  try {
    return summarize(await instance);
  } finally {
    clearTimeout(watchdog);
  }
}

function summarize(result) {
  const completed = result.requests.total;
  return {
    requests: completed,
    seconds: result.duration,
    reqPerSec: round(completed / result.duration),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    maxMs: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes: Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, { count }]) => [code, Number(count)])),
  };
}

const round = (value) => Math.round(value * 10) / 10;

/** A seeding run: exactly `amount` requests, and every one of them must succeed. */
export async function seed({ url, request, amount, connections = 32, title }) {
  const result = await fire({ url, request, amount, connections, title });
  if (result.non2xx > 0 || result.errors > 0 || result.requests < amount) {
    throw new Error(`seeding "${title}" failed: ${JSON.stringify(result)}`);
  }
  return result;
}

export const get = (path, token) => ({
  method: "GET",
  path,
  headers: token ? { authorization: `Bearer ${token}` } : {},
});

const USERS = 1_000;
const REGION_USERS = 10_000;
export const POLL_REGION = "bench-region";

/** Rounds of the interleaved scenarios: each round runs each of them for seconds / ROUNDS. */
const ROUNDS = 5;

/**
 * Runs of one scenario as one row: requests over the total time, latency
 * percentiles the median of the runs', counts summed, CPU per request overall.
 */
function combined(runs) {
  const sum = (key) => runs.reduce((total, r) => total + r[key], 0);
  const median = (key) => [...runs.map((r) => r[key])].sort((x, y) => x - y)[Math.floor(runs.length / 2)];
  const requests = sum("requests");
  const workerdCpu = runs.every((r) => typeof r.workerdCpuUs === "number") ? sum("workerdCpuUs") : null;
  const statusCodes = {};
  for (const r of runs) for (const [code, count] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + count;
  return {
    requests,
    seconds: sum("seconds"),
    reqPerSec: round(requests / sum("seconds")),
    p50Ms: median("p50Ms"),
    p99Ms: median("p99Ms"),
    maxMs: Math.max(...runs.map((r) => r.maxMs)),
    non2xx: sum("non2xx"),
    errors: sum("errors"),
    timeouts: sum("timeouts"),
    statusCodes,
    workerdCpuUsPerRequest: workerdCpu === null ? null : round(workerdCpu / requests),
    otherCpuCores: runs.every((r) => typeof r.otherCpuCores === "number") ? round(sum("otherCpuCores") / runs.length) : null,
  };
}

/** workerd evicts an object after about 10 s without requests; after this long, all of them are gone. */
const EVICTED_AFTER_MS = 15_000;
const WARM_UP_SECONDS = 5;

/**
 * The throughput scenarios, in order; /health first, as the runtime's floor,
 * interleaved with the two it is most compared with.
 * Each gets `seconds` with `connections`; seeding and warm-ups are counted runs.
 * `watchCpu()` measures the CPU used elsewhere on the machine during each.
 *
 * Each scenario is measured in a steady state of its own objects. Its warm-up
 * creates them (a new SQLite object costs milliseconds, and the runtime is
 * slower for seconds after creating a thousand) and then runs the scenario's
 * load for WARM_UP_SECONDS. Before that, the previous scenario's objects are
 * left to be evicted: a thousand evictions during a run cost the runtime about
 * a quarter of its throughput, a cost of the bench's order, not of the scenario.
 */
export async function runLoadScenarios(
  pb,
  { url, seconds, connections, watchCpu = () => ({ stop: () => null }), watchWorkerd = () => ({ stop: () => null }), log = () => {} },
) {
  const results = [];
  const admin = { authorization: `Bearer ${pb.adminToken}`, "content-type": "application/json" };
  const message = JSON.stringify({ title: "bench", body: "a personal message from the bench", data: { n: 1 } });
  const tokens = (prefix, count, region) => Array.from({ length: count }, (_, i) => pb.token(`${prefix}-${i}`, region));
  const roundRobin = (list, make) => (i) => make(list[i % list.length], i % list.length);
  /** One timed run of a scenario, with the CPU it cost workerd and what ran elsewhere meanwhile. */
  const run = async (label, request, runSeconds) => {
    const cpu = watchCpu();
    const workerd = watchWorkerd();
    const result = await fire({ url, request, connections, seconds: runSeconds, title: label });
    return { ...result, workerdCpuUs: workerd.stop(), otherCpuCores: cpu.stop() };
  };
  const record = (id, label, runs, extra) => {
    const row = { id, scenario: label, connections, ...combined(runs), ...(runs.length > 1 && { rounds: runs.length }), ...extra };
    results.push(row);
    return row;
  };
  const measure = async (id, label, request, extra = {}) => {
    log(`  (${id}) ${label}`);
    return record(id, label, [await run(label, request, seconds)], extra);
  };
  /**
   * Scenarios whose ratios matter most, measured in turn, ROUNDS times, so
   * that a slow stretch of this shared machine falls on each of them alike.
   */
  const measureInRounds = async (scenarios) => {
    log(`  ${scenarios.map(({ id }) => `(${id})`).join(" ")} in ${ROUNDS} interleaved rounds of ${seconds / ROUNDS} s each`);
    const runs = new Map(scenarios.map(({ id }) => [id, []]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const { id, label, request } of scenarios) runs.get(id).push(await run(label, request, seconds / ROUNDS));
    }
    for (const { id, label, extra } of scenarios) record(id, label, runs.get(id), extra);
  };
  const settle = async () => {
    log(`  waiting ${EVICTED_AFTER_MS / 1000} s for the previous scenario's objects to be evicted`);
    await sleep(EVICTED_AFTER_MS);
  };
  /** One request per user (`amount`, if given; each must succeed), then WARM_UP_SECONDS of the load itself. */
  const warmUp = async (title, request, amount) => {
    const created = amount ? await seed({ url, title: `warm-up: ${title}`, amount, request }) : null;
    const loaded = await fire({ url, request, connections, seconds: WARM_UP_SECONDS, title: `warm-up: ${title}` });
    return { created, loaded };
  };

  // The reference for a poll: the cheapest route that makes one Durable Object hop (a counter read),
  // to the same objects the idle polls then use.
  const idle = tokens("idle", USERS);
  const hop = (i) => ({ method: "GET", path: `/admin/v1/users/idle-${i % USERS}/storage`, headers: admin });
  const pollIdle = roundRobin(idle, (token) => get("/v1/inbox", token));
  const hopWarmUp = await warmUp("one hop per user", hop, USERS);
  const idleWarmUp = await warmUp("polls by idle users", pollIdle);
  await measureInRounds([
    { id: "a", label: "GET /health", request: get("/health") },
    { id: "h", label: "one Durable Object hop: GET /admin/v1/users/{id}/storage (the 1,000 users of b)", request: hop, extra: { warmUp: hopWarmUp } },
    { id: "b", label: "GET /v1/inbox, nothing pending, no region (1,000 users)", request: pollIdle, extra: { warmUp: idleWarmUp } },
  ]);

  await settle();
  const busy = tokens("pending", USERS);
  log("  seeding 10 pending messages for each of 1,000 users");
  await pool(Array.from({ length: USERS }, (_, i) => `pending-${i}`), 32, async (user) => {
    for (let n = 1; n <= 10; n++) await pb.publish(user, { title: "bench", body: `pending ${n}`, data: { n } });
  });
  if ((await pb.poll(busy[0])).personal.length !== 10) throw new Error("seeding: a user should have 10 pending");
  const pollBusy = roundRobin(busy, (token) => get("/v1/inbox", token));
  const busyWarmUp = await warmUp("polls by users with 10 pending", pollBusy);
  await measure("c", "GET /v1/inbox, 10 pending each (1,000 users)", pollBusy, { warmUp: busyWarmUp });

  await settle();
  const publish = (i) => ({ method: "POST", path: `/admin/v1/users/publish-${i % USERS}/messages`, headers: admin, body: message });
  const publishWarmUp = await warmUp("publishes", publish, USERS);
  await measure("d", "POST /admin/v1/users/{id}/messages (1,000 users)", publish, { warmUp: publishWarmUp });

  await settle();
  const announcement = {
    method: "POST",
    path: "/admin/v1/announcements",
    headers: admin,
    body: JSON.stringify({ regions: ["bench-announce"], title: "bench", body: "an announcement from the bench" }),
  };
  const announceWarmUp = await warmUp("announcements", announcement);
  await measure("e", "POST /admin/v1/announcements (one region)", announcement, { warmUp: announceWarmUp });

  await settle();
  const readers = tokens("reader", REGION_USERS, POLL_REGION);
  for (let i = 1; i <= 20; i++) await pb.announce(POLL_REGION, { body: `seed ${i}` });
  const pollRegion = roundRobin(readers, (token) => get("/v1/inbox", token));
  log(`  warm-up: one poll for each of ${REGION_USERS.toLocaleString("en-US")} users`);
  const regionWarmUp = await seed({ url, title: "warm-up: one poll per region user", amount: REGION_USERS, connections, request: pollRegion });
  const before = await pb.storage("regions", POLL_REGION);
  const polled = await measure("f", `GET /v1/inbox, ${REGION_USERS.toLocaleString("en-US")} users of one region`, pollRegion, {
    warmUp: regionWarmUp,
  });
  const after = await pb.storage("regions", POLL_REGION);
  const f = results.at(-1);
  f.regionCallsPer1000Polls =
    typeof before?.reads !== "number" || typeof after?.reads !== "number"
      ? "n/a (route missing)"
      : after.reads < before.reads
        ? "n/a (region object restarted)"
        : Math.round(((after.reads - before.reads) / (polled.requests / 1000)) * 100) / 100;
  for (const row of results) row.vsHealth = Math.round((row.reqPerSec / results[0].reqPerSec) * 1000) / 1000;
  return results;
}
