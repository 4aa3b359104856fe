// Storage cost per operation, measured one request at a time (not under load):
// each object counts the SQLite rows its statements read and wrote since it
// started (GET /admin/v1/{users|regions}/{id}/storage); the cost of an
// operation is the delta around N of them on a fresh object, divided by N.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { pool } from "./client.mjs";
import { fire } from "./load.mjs";
import { registeredUser } from "./push.mjs";

const MISSING = "n/a (route missing)";
const RESTARTED = "n/a (object restarted during the measurement)";
/** The counters went back: the object started again between the two readings. */
const restarted = (from, to) => to.rowsRead < from.rowsRead || to.rowsWritten < from.rowsWritten;

/** The per-op delta of an object's counters around `run`, or why there is none. */
async function costOf(pb, kind, id, n, run) {
  const before = await pb.storage(kind, id);
  await run();
  const after = await pb.storage(kind, id);
  if (!before || !after) return { note: MISSING };
  if (restarted(before, after)) return { note: RESTARTED };
  const perOp = (key) => Math.round(((after[key] - before[key]) / n) * 100) / 100;
  return {
    rowsRead: perOp("rowsRead"),
    rowsWritten: perOp("rowsWritten"),
    ...(typeof after.reads === "number" && { regionCalls: perOp("reads") }),
  };
}

/** Adds the rows between two readings of an object's counters to `total`. */
function addDelta(total, from, to) {
  total.rowsRead += to.rowsRead - from.rowsRead;
  total.rowsWritten += to.rowsWritten - from.rowsWritten;
}

/** The stand-in holds each push's answer this long, so that a publish's counters are read before any answer is recorded. */
const ANSWER_DELAY_MS = 100;
/**
 * The user's stats go to their shard this long after the first publish (FLUSH_DELAY_MS in
 * src/stats/buffer.ts), by the object's alarm, which also writes the state row: a measurement that
 * takes longer may have that flush in it.
 */
const STATS_FLUSH_MS = 9_000;

/**
 * The user's counters once its pushes' answers are recorded: read every 20 ms until they moved by at
 * least `minWrites` rows written (each answer deletes its job's row) and then stayed still for 3 reads.
 */
async function settledStorage(pb, user, from, minWrites) {
  let last = null;
  let still = 0;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(20)) {
    const now = await pb.storage("users", user);
    still = last && now.rowsRead === last.rowsRead && now.rowsWritten === last.rowsWritten ? still + 1 : 0;
    if (now.rowsWritten - from.rowsWritten >= minWrites && still >= 2) return now;
    last = now;
  }
  throw new Error(`storage phase: the push answers of ${user} were not recorded within 10 s`);
}

/**
 * `n` publishes to a user whose devices are registered at the stand-in's `targets`, one at a time:
 * per publish, the rows of the publish itself (read as it answered) and, apart, those of its pushes'
 * answers (read once they are recorded, after every target had the answer to its push).
 */
async function pushCosts(pb, standIn, user, targets, n) {
  for (const target of targets) await standIn.setFaults(target, [{ delayMs: ANSWER_DELAY_MS, times: n }]);
  const publish = { rowsRead: 0, rowsWritten: 0 };
  const answers = { rowsRead: 0, rowsWritten: 0 };
  let before = await pb.storage("users", user);
  if (!before) return { publish: { note: MISSING }, answers: { note: MISSING } };
  const answerOf = (target, seq) => standIn.eventsOf("answered", target).find((event) => event.seq === seq);
  let seq;
  const started = Date.now();
  for (let i = 1; i <= n; i++) {
    ({ seq } = await pb.publish(user, { body: `m${i}` }));
    const published = await pb.storage("users", user);
    const readAt = performance.now();
    await standIn.until(() => targets.every((target) => answerOf(target, seq)), `the answers to the pushes of seq ${seq}`);
    expect(targets.every((target) => answerOf(target, seq).at > readAt), `every push of seq ${seq} answered after the publish's counters were read`);
    const answered = await settledStorage(pb, user, published, targets.length);
    if (restarted(before, published) || restarted(published, answered)) return { publish: { note: RESTARTED }, answers: { note: RESTARTED } };
    addDelta(publish, before, published);
    addDelta(answers, published, answered);
    before = answered;
  }
  const { devices } = await pb.delivery(user, seq);
  expect(Object.values(devices).every(({ push }) => push?.lastStatus === 201), `every device's push of seq ${seq} recorded as 201`);
  const seconds = (Date.now() - started) / 1000;
  const warning = seconds * 1000 > STATS_FLUSH_MS && `took ${seconds.toFixed(1)} s: the stats' flush by the alarm may be in the figures`;
  const perOp = ({ rowsRead, rowsWritten }) => ({
    rowsRead: Math.round((rowsRead / n) * 100) / 100,
    rowsWritten: Math.round((rowsWritten / n) * 100) / 100,
    ...(warning && { warning }),
  });
  return { publish: perOp(publish), answers: perOp(answers) };
}

async function times(n, fn) {
  for (let i = 1; i <= n; i++) await fn(i);
}

const expect = (condition, what) => {
  if (!condition) throw new Error(`storage phase: expected ${what}`);
};

/**
 * Seeds `count` announcements into `region` with parallel publishes. What is
 * checked is the outcome, the retained count; publishes that answered non-2xx
 * are counted and reported (a 500 may still have stored its announcement).
 */
async function fillRegion(pb, url, region, count) {
  let non2xx = 0;
  if (count > 1000) {
    const result = await fire({
      url,
      title: `seed ${count} announcements`,
      amount: count,
      connections: 32,
      request: {
        method: "POST",
        path: "/admin/v1/announcements",
        headers: { authorization: `Bearer ${pb.adminToken}`, "content-type": "application/json" },
        body: JSON.stringify({ regions: [region], body: "seed" }),
      },
    });
    non2xx = result.non2xx + result.errors;
  } else {
    await pool(Array.from({ length: count }), 16, () => pb.announce(region, { body: "seed" }));
  }
  const { head, oldest } = await pb.regionLog(region);
  expect(oldest !== null && head - oldest + 1 === count, `${count} retained announcements in ${region} (head ${head}, oldest ${oldest})`);
  return { head, non2xx };
}

/**
 * Every per-operation figure, on objects no other phase touches (the bench's
 * storage directory is fresh). `n` is the number of operations averaged
 * (`coldPolls` where each waits out the region copy's `cacheMs`); `bigRegion`
 * the retained count of the large since(x) case (100,000).
 */
export async function measureStorage(pb, { url, standIn, n = 20, coldPolls = 5, cacheMs = 1000, bigRegion = 100_000, log = () => {} }) {
  const name = (what) => `cost-${what}`;
  const rows = [];
  const add = (operation, object, cost, note) => rows.push({ operation, object, ...cost, ...(note && { detail: note }) });

  if ((await pb.storage("users", name("probe"))) === null) {
    log(`storage routes are missing in this build: every storage figure is "${MISSING}"`);
  }

  // Publish personal: the user's object.
  {
    const user = name("publish");
    add("publish personal", "user", await costOf(pb, "users", user, n, () => times(n, (i) => pb.publish(user, { body: `m${i}` }))));
  }

  // Poll with nothing pending and no region.
  {
    const user = name("poll-empty");
    const token = pb.token(user);
    add("poll, nothing pending (no region)", "user", await costOf(pb, "users", user, n, () => times(n, async () => {
      expect((await pb.poll(token)).personal.length === 0, "an empty poll");
    })));
  }

  // Poll returning 10 pending (not acknowledged, so each poll returns the same 10).
  {
    const user = name("poll-10");
    const token = pb.token(user);
    await times(10, (i) => pb.publish(user, { body: `m${i}` }));
    add("poll, 10 pending (returns 10)", "user", await costOf(pb, "users", user, n, () => times(n, async () => {
      expect((await pb.poll(token)).personal.length === 10, "10 pending messages in a poll");
    })));
  }

  // Poll with a region and nothing new: what each poll of scenario (f) costs the user's object.
  {
    const region = name("quiet");
    const user = name("poll-quiet");
    const token = pb.token(user, region);
    await pb.announce(region, { body: "one" });
    await pb.poll(token); // the first poll stores the cursor at the head
    add("poll, region with nothing new (cursor at head)", "user", await costOf(pb, "users", user, n, () => times(n, async () => {
      expect((await pb.poll(token)).announcements.length === 0, "no announcements");
    })));
  }

  // Poll returning k = 10 announcements (since = head - 10), from a region of 100.
  {
    const region = name("k10");
    const user = name("poll-k10");
    const token = pb.token(user, region);
    const { head } = await fillRegion(pb, url, region, 100);
    const polls = () => times(n, async () => {
      expect((await pb.poll(token, `?since=${head - 10}`)).announcements.length === 10, "10 announcements in a poll");
    });
    let regionCost;
    const userCost = await costOf(pb, "users", user, n, async () => {
      regionCost = await costOf(pb, "regions", region, n, polls);
    });
    add("poll returning k=10 announcements", "user", userCost);
    add("poll returning k=10 announcements", "region", regionCost, `${n} polls back to back: most served by the isolate's region copy`);
  }

  // Ack: each call acknowledges one more pending message.
  {
    const user = name("ack");
    const token = pb.token(user);
    await times(n, (i) => pb.publish(user, { body: `m${i}` }));
    add("ack (removes 1 pending)", "user", await costOf(pb, "users", user, n, () => times(n, (i) => pb.ack(token, i))));
  }

  // Read receipt: each call marks one message read (unread and pending).
  {
    const user = name("read");
    const token = pb.token(user);
    await times(n, (i) => pb.publish(user, { body: `m${i}` }));
    add("read receipt (1 seq)", "user", await costOf(pb, "users", user, n, () => times(n, (i) => pb.read(token, [i]))));
  }

  // Devices: publish, poll and ack for a user with 1 and with 5 known devices. A publish and a poll must
  // cost the same whatever the devices; an ack writes its device's row, plus the message's removal once
  // the last device has acknowledged it.
  for (const count of [1, 5]) {
    const devices = (user) => Array.from({ length: count }, (_, i) => pb.token(user, undefined, `device-${i}`));
    const known = async (user) => {
      const tokens = devices(user);
      for (const token of tokens) await pb.poll(token);
      return tokens;
    };
    const label = `${count} device${count === 1 ? "" : "s"}`;
    {
      const user = name(`publish-${count}d`);
      await known(user);
      add(`publish personal, ${label} known`, "user", await costOf(pb, "users", user, n, () => times(n, (i) => pb.publish(user, { body: `m${i}` }))));
    }
    {
      const user = name(`poll-${count}d`);
      const [first] = await known(user);
      await times(10, (i) => pb.publish(user, { body: `m${i}` }));
      add(`poll by one device, 10 pending (returns 10), ${label} known`, "user", await costOf(pb, "users", user, n, () => times(n, async () => {
        expect((await pb.poll(first)).personal.length === 10, "10 pending messages in a device's poll");
      })));
    }
    {
      const user = name(`ack-${count}d`);
      const tokens = await known(user);
      await times(n, (i) => pb.publish(user, { body: `m${i}` }));
      // Each message is acknowledged by every device in turn; the cost is per ack.
      const acks = n * count;
      add(`ack (1 message, every device in turn; per ack), ${label} known`, "user", await costOf(pb, "users", user, acks, () => times(n, async (i) => {
        for (const token of tokens) await pb.ack(token, i);
      })));
    }
  }

  // Publishes pushed to 1 and to 5 devices registered on Web Push (none live): the publish (its pushes'
  // jobs scheduled, their first attempts leased), and apart the answers, once they came back (each job
  // ended, its outcome kept for the message's view, the push counted in the stats the state row holds).
  for (const count of [1, 5]) {
    const label = `${count} device${count === 1 ? "" : "s"}`;
    const user = name(`publish-push-${count}d`);
    const targets = await registeredUser(pb, standIn, user, count, "webpush");
    const { publish, answers } = await pushCosts(pb, standIn, user, targets, n);
    add(`publish personal, pushed to ${label} registered on Web Push`, "user", publish, "read as the publish answered");
    const what = count === 1 ? "its push's answer" : `its ${count} pushes' answers`;
    add(`${what} (per publish), ${label} registered on Web Push`, "user", answers, "read once recorded");
  }

  // Publish an announcement: the region's object.
  {
    const region = name("announce");
    add("publish announcement", "region", await costOf(pb, "regions", region, n, () => times(n, (i) => pb.announce(region, { body: `a${i}` }))));
  }

  // The region's since(x), at 100 and at 100,000 retained: the range read itself (the publisher's list
  // route, limit 10), and a fresh user's poll ?since=<head-10>&region= after the isolate's copy of the
  // region has expired (REGION_CACHE_MS), so that every poll reaches the region.
  for (const retained of [100, bigRegion]) {
    const region = name(`since-${retained}`);
    const label = `${retained.toLocaleString("en-US")} retained`;
    log(`  seeding ${retained.toLocaleString("en-US")} announcements into ${region}`);
    const started = Date.now();
    let head;
    let seedNote;
    try {
      const seeded = await fillRegion(pb, url, region, retained);
      head = seeded.head;
      log(`  seeded in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      if (seeded.non2xx > 0) {
        const count = (value) => value.toLocaleString("en-US");
        seedNote = `${count(seeded.non2xx)} of the ${count(retained)} seeding publishes answered non-2xx, yet all are retained`;
        log(`  WARNING: ${seedNote}`);
      }
    } catch (error) {
      const note = `n/a (seeding failed: ${error.message})`;
      log(`  ${note}`);
      add(`region since(head-10), ${label}`, "region", { note });
      continue;
    }
    const { regionCalls, ...listCost } = await costOf(pb, "regions", region, n, () => times(n, async () => {
      expect((await pb.regionLog(region, head - 10, 10)).announcements.length === 10, "10 announcements listed");
    }));
    add(`region since(head-10) limit 10, ${label}`, "region", listCost, "publisher list route");
    if (seedNote) rows.at(-1).warning = seedNote;
    add(`fresh user polls ?since=head-10, ${label}`, "region", await costOf(pb, "regions", region, coldPolls, () => times(coldPolls, async (i) => {
      await sleep(cacheMs + 100);
      const answer = await pb.poll(pb.token(`${region}-reader-${i}`), `?since=${head - 10}&region=${region}`);
      expect(answer.announcements.length === 10, "10 announcements from since(head-10)");
    })), "region copy expired before each poll");
  }

  return rows;
}
