// Bulk publish (POST /admin/v1/messages): one message to 100 and to 500 users, each user's object
// publishing it (six users at a time, src/edge/bulk.ts). Fresh users for every request, none known,
// so nothing is pushed: this is the fan-out itself. Then the same request again with its
// Idempotency-Key, as a publisher's retry: each user's object answers its first answer.
import { performance } from "node:perf_hooks";
import { ms, percentile } from "./live.mjs";

export async function measureBulk(pb, { sizes, rounds, log }) {
  const rows = [];
  for (const users of sizes) {
    const first = [];
    const retried = [];
    for (let round = 0; round < rounds; round++) {
      const names = Array.from({ length: users }, (_, i) => `bulk-${users}-${round}-${i}`);
      const key = `bench-bulk-${users}-${round}`;
      const body = { users: names, title: "Bench", body: "one message to many users" };
      let started = performance.now();
      await pb.bulkPublish(body, key);
      first.push(performance.now() - started);
      started = performance.now();
      await pb.bulkPublish(body, key);
      retried.push(performance.now() - started);
    }
    const row = { users, rounds, p50Ms: ms(percentile(first, 50)), maxMs: ms(percentile(first, 100)), retryP50Ms: ms(percentile(retried, 50)) };
    log(`bulk: ${users} users, p50 ${row.p50Ms} ms, retry p50 ${row.retryP50Ms} ms`);
    rows.push(row);
  }
  return rows;
}
