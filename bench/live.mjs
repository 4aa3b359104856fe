// Publish-to-receive latency over live WebSockets (Node 22's global WebSocket):
// N sockets, each a distinct user of one region (token claim), receive the
// catch-up frame; then announcements are published one at a time and each
// socket's arrival of that announcement is timed from the publish's start.
// Also: personal messages to one connected user. Every socket is closed at the end.
import { performance } from "node:perf_hooks";
import { setTimeout as sleep } from "node:timers/promises";
import { pool } from "./client.mjs";

const CONNECT_TIMEOUT_MS = 15_000;
const ROUND_TIMEOUT_MS = 15_000;

/** Opens one socket and resolves once its catch-up frame arrived. */
function connect(url, onFrame) {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    const timer = setTimeout(() => fail(new Error("no catch-up frame in time")), CONNECT_TIMEOUT_MS);
    const fail = (error) => {
      clearTimeout(timer);
      socket.close();
      reject(error);
    };
    socket.addEventListener("error", () => fail(new Error(`socket error on ${url.split("?")[0]}`)));
    socket.addEventListener("message", (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "catchup") {
        clearTimeout(timer);
        resolve(socket);
      } else {
        onFrame(frame, performance.now());
      }
    });
  });
}

export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export const ms = (value) => (value === null ? null : Math.round(value * 100) / 100);

/**
 * One round: `publish(tag)` starts at t0; resolves with each expected
 * receiver's latency once all of them have the frame whose body is `tag`,
 * or the round times out (the rest count as missing).
 */
async function timedRound(round, expected, publish) {
  round.arrivals = new Map();
  round.tag = `live-${Math.random().toString(36).slice(2)}`;
  let done;
  round.complete = new Promise((resolve) => (done = resolve));
  round.check = () => round.arrivals.size >= expected && done();
  const t0 = performance.now();
  await publish(round.tag);
  const publishMs = performance.now() - t0;
  await Promise.race([round.complete, sleep(ROUND_TIMEOUT_MS)]);
  const latencies = [...round.arrivals.values()].map((at) => at - t0);
  round.tag = null;
  return { latencies, missing: expected - latencies.length, publishMs };
}

/** The live figures for `count` open sockets in a fresh region. */
export async function measureLive(pb, { wsBase, count, rounds = 20, region, log = () => {} }) {
  const announcementRound = { tag: null };
  const personalRound = { tag: null };
  const onFrame = (index) => (frame, at) => {
    const round = frame.type === "announcement" ? announcementRound : frame.type === "personal" ? personalRound : null;
    if (!round?.tag || frame.message?.body !== round.tag || round.arrivals.has(index)) return;
    round.arrivals.set(index, at);
    round.check();
  };

  const users = Array.from({ length: count }, (_, i) => `${region}-u${i}`);
  const sockets = [];
  const openStarted = performance.now();
  try {
    await pool(users, 50, async (user, i) => {
      const url = `${wsBase}/v1/inbox/live?token=${pb.token(user, region)}`;
      sockets[i] = await connect(url, onFrame(i));
    });
    const openSeconds = (performance.now() - openStarted) / 1000;
    log(`  ${count} sockets open in ${openSeconds.toFixed(1)} s`);

    const announcement = { latencies: [], missing: 0, publishMs: [] };
    for (let r = 0; r < rounds; r++) {
      const result = await timedRound(announcementRound, count, (tag) => pb.announce(region, { body: tag }));
      announcement.latencies.push(...result.latencies);
      announcement.missing += result.missing;
      announcement.publishMs.push(result.publishMs);
    }

    const personal = { latencies: [], missing: 0 };
    for (let r = 0; r < rounds; r++) {
      const result = await timedRound(personalRound, 1, (tag) => pb.publish(users[0], { body: tag }));
      personal.latencies.push(...result.latencies);
      personal.missing += result.missing;
    }

    return {
      sockets: count,
      rounds,
      openSeconds: Math.round(openSeconds * 100) / 100,
      announcement: {
        p50Ms: ms(percentile(announcement.latencies, 50)),
        p99Ms: ms(percentile(announcement.latencies, 99)),
        maxMs: ms(percentile(announcement.latencies, 100)),
        received: announcement.latencies.length,
        missing: announcement.missing,
        publishP50Ms: ms(percentile(announcement.publishMs, 50)),
      },
      personal: {
        p50Ms: ms(percentile(personal.latencies, 50)),
        p99Ms: ms(percentile(personal.latencies, 99)),
        received: personal.latencies.length,
        missing: personal.missing,
      },
    };
  } finally {
    await closeAll(sockets.filter(Boolean));
  }
}

async function closeAll(sockets) {
  const closed = sockets.map(
    (socket) =>
      socket.readyState === WebSocket.CLOSED ||
      new Promise((resolve) => {
        socket.addEventListener("close", resolve, { once: true });
        socket.close(1000, "bench done");
      }),
  );
  await Promise.race([Promise.all(closed), sleep(10_000)]);
}
