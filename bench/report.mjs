// The bench's output: bench/results.json (every figure, machine-readable) and
// docs/PERFORMANCE.md (how to run it, what it measures, the tables).
import { writeFileSync } from "node:fs";

const KiB = (bytes) => `${(bytes / 1024).toFixed(1)} KiB`;
const num = (value, digits = 0) =>
  typeof value === "number" ? value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) : String(value ?? "—");

const cores = (value) => (typeof value === "number" ? `${value.toFixed(2)} cores` : "—");

function table(head, rows) {
  const line = (cells) => `| ${cells.join(" | ")} |`;
  return [line(head), line(head.map(() => "---")), ...rows.map(line)].join("\n");
}

export function tables(results) {
  const { bundle, load = [], storage = [], live = [], push = {} } = results;
  const floor = load.find((row) => row.id === "a");
  const health = floor?.reqPerSec;
  const healthCpu = floor?.workerdCpuUsPerRequest;
  const out = {};

  out.bundle = table(
    ["bundle", "size", "gzip", "goal"],
    [[`\`${bundle.file}\``, KiB(bundle.bytes), KiB(bundle.gzipBytes), `< 64 KiB gzip: ${bundle.gzipBytes < 64 * 1024 ? "met" : "**missed**"}`]],
  );

  out.load = table(
    ["", "scenario", "req/s", "p50 ms", "p99 ms", "non-2xx", "errors", "vs /health", "workerd CPU / req (vs /health)", "CPU elsewhere"],
    load.map((row) => [
      row.id,
      row.scenario,
      num(row.reqPerSec),
      num(row.p50Ms),
      num(row.p99Ms),
      num(row.non2xx),
      num(row.errors + row.timeouts),
      health ? `${((row.reqPerSec / health) * 100).toFixed(0)} %` : "—",
      typeof row.workerdCpuUsPerRequest === "number" && healthCpu
        ? `${num(row.workerdCpuUsPerRequest)} µs (${((healthCpu / row.workerdCpuUsPerRequest) * 100).toFixed(0)} %)`
        : "—",
      cores(row.otherCpuCores),
    ]),
  );
  const f = load.find((row) => row.id === "f");
  out.regionCalls = table(
    ["scenario (f)", "polls", "region-object calls per 1,000 polls"],
    [[f?.scenario ?? "—", num(f?.requests), num(f?.regionCallsPer1000Polls, 2)]],
  );

  out.storage = table(
    ["operation", "object", "rows read / op", "rows written / op", "region calls / op"],
    storage.map((row) => [
      row.operation + (row.detail ? ` (${row.detail})` : ""),
      row.object,
      row.note ?? num(row.rowsRead, 2),
      row.note ?? num(row.rowsWritten, 2),
      row.object === "region" ? row.note ?? num(row.regionCalls, 2) : "",
    ]),
  );

  // Anything that must not happen, said under the tables rather than lost in them.
  out.loadWarnings = load
    .filter((row) => row.non2xx > 0 || row.errors > 0 || row.timeouts > 0)
    .map((row) => {
      const codes = Object.entries(row.statusCodes)
        .filter(([code]) => !code.startsWith("2"))
        .map(([code, count]) => `${num(count)} × ${code}`);
      return `- **(${row.id}) had ${num(row.non2xx)} non-2xx answers** (${codes.join(", ") || "none"}), ${num(row.errors)} errors and ${num(row.timeouts)} timeouts; non-2xx must be 0. workerd's log of the run: \`bench/.work/workerd.log\`.`;
    })
    .join("\n");
  out.storageWarnings = storage
    .filter((row) => row.warning)
    .map((row) => `- **${row.operation}:** ${row.warning}.`)
    .join("\n");

  const logged = Object.entries(results.workerdLog ?? {}).sort(([, a], [, b]) => b - a);
  out.log =
    logged.length === 0
      ? "Nothing failed: no errors in workerd's log."
      : table(["workerd's log (bench/.work/workerd.log)", "lines"], logged.map(([key, count]) => [`\`${key.replaceAll("|", "\\|")}\``, num(count)]));

  out.live = table(
    ["open sockets", "announcement p50 ms", "p99 ms", "max ms", "received / expected", "publish answered p50 ms", "personal p50 ms", "personal p99 ms", "sockets opened in", "CPU elsewhere"],
    live.map((row) => [
      num(row.sockets),
      num(row.announcement.p50Ms, 1),
      num(row.announcement.p99Ms, 1),
      num(row.announcement.maxMs, 1),
      `${num(row.announcement.received)} / ${num(row.announcement.received + row.announcement.missing)}`,
      num(row.announcement.publishP50Ms, 1),
      num(row.personal.p50Ms, 1),
      num(row.personal.p99Ms, 1),
      `${num(row.openSeconds, 1)} s`,
      cores(row.otherCpuCores),
    ]),
  );

  const channelName = { none: "none (1 device known, no registration)", webpush: "Web Push", fcm: "FCM", apns: "APNs" };
  const spread = (figures) => (figures ? [num(figures.p50Ms, 1), num(figures.p90Ms, 1), num(figures.p99Ms, 1)] : ["—", "—", "—"]);
  out.pushLatency = table(
    ["device's channel", "publishes", "publish answered p50 ms", "p90 ms", "p99 ms", "at the push service p50 ms", "p90 ms", "p99 ms"],
    (push.latency ?? []).map((row) => [channelName[row.channel] ?? row.channel, num(row.publishes), ...spread(row.publish), ...spread(row.push)]),
  );
  out.pushThroughput = table(
    ["Web Push devices", "publishes (in flight)", "pushes", "publishes answered in ms", "first push ms", "all pushes ms", "pushes / s", "workerd CPU / push"],
    (push.throughput ?? []).map((row) => [
      num(row.devices),
      `${num(row.publishes)} (${num(row.inFlight)})`,
      num(row.pushes),
      num(row.publishedMs),
      num(row.firstMs, 1),
      num(row.allMs),
      num(row.pushesPerSec),
      typeof row.workerdCpuUsPerPush === "number" ? `${num(row.workerdCpuUsPerPush)} µs` : "—",
    ]),
  );
  out.pushCpu = `CPU used elsewhere during the push phase: ${cores(push.otherCpuCores)}.`;
  out.bulk = table(
    ["users", "requests", "published in p50 ms", "max ms", "retried (same Idempotency-Key) p50 ms", "Durable Object requests / publish"],
    (results.bulk ?? []).map((row) => [num(row.users), num(row.rounds), num(row.p50Ms, 1), num(row.maxMs, 1), num(row.retryP50Ms, 1), num(row.users)]),
  );
  return out;
}

/** A phase's tables, or why there are none. */
function section(results, phase, ...parts) {
  if (results.failed?.[phase]) return `**Failed in this run:** ${results.failed[phase]}`;
  if (!results[phase]) return "Not run.";
  return parts.filter(Boolean).join("\n\n");
}

export function printTables(results) {
  const t = tables(results);
  const sections = [
    t.bundle,
    section(results, "load", t.load, t.loadWarnings, t.regionCalls),
    section(results, "storage", t.storage, t.storageWarnings),
    section(results, "live", t.live),
    section(results, "push", t.pushLatency, t.pushThroughput, t.pushCpu),
    section(results, "bulk", t.bulk),
  ];
  console.log(`\n${[...sections, t.log].join("\n\n")}\n`);
}

export function writeResults(path, results) {
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}

export function writePerformanceDoc(path, results) {
  const t = tables(results);
  const { machine: m, settings: s } = results;
  writeFileSync(
    path,
    `# Performance

The figures below come from \`npm run bench\` (bench/run.mjs), last run on ${m.date.slice(0, 10)}. It is a
measurement, not a test: CI does not run it and nothing asserts a time. Every figure of that run is also
in [bench/results.json](../bench/results.json).

## How to run it

\`\`\`sh
npm install
npm run bench                    # ${Math.round(results.runSeconds / 60)} minutes last time; rewrites this file and bench/results.json
BENCH_SECONDS=3 npm run bench    # seconds per load scenario (default 10)
BENCH_CONNECTIONS=100 npm run bench   # connections per load scenario (default 50)
BENCH_PHASES=storage npm run bench    # some of load,storage,live,push: writes bench/.work/results.partial.json only
BENCH_WAIT_QUIET=0 npm run bench      # do not wait (default: up to 120 s) for other work on the machine to stop
\`\`\`

Only loopback traffic (127.0.0.1); nothing is deployed, and nothing is pushed to a real push service.
Work files go to \`bench/.work/\` (git-ignored).

## What it measures, and how

- **The real bundle on the real runtime.** \`wrangler deploy --dry-run --outdir bench/.work/dist\` builds the
  exact bundle that \`wrangler deploy\` uploads; its size and gzip size (node:zlib, default level) are
  reported. The bench then generates a workerd config from \`wrangler.toml\` (the bundle's main module,
  the compatibility date, \`UserInbox\` and \`RegionLog\` as SQLite-backed Durable Object namespaces on
  local disk in a fresh directory, the \`USERS\`/\`REGIONS\` bindings, \`[vars]\`, and random
  \`ADMIN_TOKEN\` and \`CLIENT_JWT_SECRET\`) and runs \`workerd serve\` from the \`workerd\` package
  directly, on a loopback port. Not \`wrangler dev\`: its proxy in front of workerd costs far more than
  a request this small. Bench overrides: \`ANNOUNCEMENT_LIMIT=100000\` (for the 100,000-retained case),
  \`REGION_CACHE_MS=1000\` and \`DEVICE_LIMIT=100\` (the push phase's user with 100 devices; no other
  phase has more than 5).
- **Push services: the tests' stand-ins** (\`test/push-services/\`), started in the bench's own Node
  process on a loopback port: Web Push (each push's aes128gcm body decrypted with http_ece and its VAPID
  token verified with jose, as a browser's push service and the browser would), FCM with its OAuth
  token endpoint, and APNs over HTTP/1.1, each checking what the real service checks. The Worker's
  settings point every channel at them (\`WEBPUSH_ORIGINS\` is their origin, a fresh VAPID key pair
  from \`scripts/vapid-keys.mjs\`, the service account and APNs key they issued), and its outbound
  fetches may reach loopback addresses only. Devices register with the subscriptions and tokens the
  stand-ins issue (\`PUT /v1/push\`); none holds a live connection, so every publish is pushed to each.
- **Throughput** with autocannon (in-process, HTTP/1.1 keep-alive, no pipelining): each scenario runs
  ${s.seconds} s on ${s.connections} connections. Client tokens are HS256 JWTs minted by the bench, one
  per user, taken round-robin. Every scenario must have 0 non-2xx answers. "vs /health" compares with
  the runtime's floor in the same run: a request that only passes through the Worker's Hono app.
  (a), (h) and (b), the three that the poll goal compares, are measured in turn in 5 rounds of a fifth
  of the time each, so that a slow stretch of this shared machine falls on all three alike; their
  req/s is over all rounds, their latencies the median of the rounds'. "workerd CPU /
  req" is the CPU time (user + system) workerd's process used during the run divided by the requests
  answered, and its ratio is /health's CPU per request to the scenario's: the same comparison seen
  from the runtime's side, less moved by how the load generator shares the machine.
  Each scenario is measured in a steady state of its own objects: first the previous scenario's
  objects are left to be evicted (15 s idle; a thousand evictions during a run cost the runtime about
  a quarter of its throughput), then a warm-up creates the scenario's objects (one request per user;
  a new SQLite object costs milliseconds, and the runtime stays slower for seconds after a thousand)
  and runs the scenario's own load for 5 s. Warm-ups are not in the figures.
  - (a) \`GET /health\`.
  - (h) the reference for a poll: the cheapest route through the Hono app that makes one Durable Object
    hop (the publisher's storage route, which reads two counters), to the 1,000 user objects that (b)
    then polls.
  - (b) polls by 1,000 users with nothing pending and no region. Each user repeats one poll (same token and
    query string), as clients do.
  - (c) polls by 1,000 users with 10 pending messages each (never acknowledged, so every poll returns 10).
  - (d) personal publishes spread over 1,000 users.
  - (e) announcements to one region: one object, so they are serialised.
  - (f) 10,000 users of one region (token claim \`region\`) polling; the region has 20 announcements,
    and each user polled once before the run, so its cursor is at the head. No warm-up load: with
    10,000 users, every object is evicted again before its next turn (see below).
- **Storage cost per operation**, measured one request at a time on fresh objects: each object counts
  the SQLite rows its statements read and wrote since it started (\`GET /admin/v1/users/{id}/storage\`,
  \`GET /admin/v1/regions/{id}/storage\`); a figure is the delta around ${s.storageOps} sequential operations
  divided by ${s.storageOps}. Rows read and written are what Durable Object SQLite storage is billed by;
  "region calls" is the region's count of reads served to polls and connects. The region's
  \`since(x)\` is measured with 100 and with 100,000 retained announcements (seeded by parallel
  publishes), twice: as the range read itself (the publisher's list route, \`since=head-10&limit=10\`),
  and as ${s.coldPolls} polls \`?since=<head-10>&region=\` by fresh users, each after the isolate's copy of
  the region expired (\`REGION_CACHE_MS\`), so that every one of them reaches the region. A poll that
  reaches the region also takes back a copy of the region's newest announcements for the isolate, so
  its rows read are those of that copy: what matters is that they do not grow with the history.
  Publishes pushed to 1 and to 5 devices registered on Web Push are measured in two parts each: the
  publish itself (its counters read as it answers: the publish, each device's push job scheduled, the
  first attempts leased), and its pushes' answers, read once the Worker has recorded them (each job
  ended, its outcome kept for the message's view, the stats in the state row). So that the two do not
  mix, the stand-in holds each answer 100 ms (a programmed \`delayMs\`), and the bench checks that
  every answer went out after the publish's counters were read; the answers' counters are read every
  20 ms until they moved and then stayed still for three reads. Compare with "publish personal, 1 device
  known" (and 5): the same publish with no registration.
- **Region-object calls per 1,000 polls** in scenario (f): the region's reads counter before and after
  the run, divided by the thousands of polls. A poll that always asked the region would make 1,000.
- **Live latency**: ${s.liveRounds} announcements published one at a time to a region with 1, 100 and
  1,000 open WebSockets (Node's WebSocket; each socket a distinct user, region from the token). A
  figure is the time from the start of the publish request to that announcement's frame arriving on a
  socket, over every socket and round; then ${s.liveRounds} personal messages to one connected user.
  "publish answered" is when the publisher got its 201. Every socket is closed at the end.
- **Bulk publish**: \`POST /admin/v1/messages\` to ${(s.bulkSizes ?? []).join(" and ")} fresh users (none
  known, so nothing is pushed: the fan-out itself, six users' objects at a time), ${s.bulkRounds} requests
  each, one after another; then each request again with its Idempotency-Key, as a publisher's retry
  (every user's object answers its first answer and stores nothing). Each user is one Durable Object
  request, the cost that dominates: $0.15 per million, so a 500-user publish costs 500 requests.
  Locally, each first publish to a user creates its object (a SQLite database and its schema's steps)
  on this machine's disk, which is most of the first figure. The 500-user retry is far slower per user
  than the 100-user one, as if those objects had to be loaded again; that was not investigated.
- **Publish to push service**: ${s.pushLatencyPublishes} sequential publishes per channel, each to a fresh
  user with one device registered on it: the time from the start of the publish request to its 201,
  and to the stand-in having the push (received, and for Web Push decrypted and its VAPID token
  verified: what a browser would show). The first publish per channel is not counted (it signs the
  isolate's VAPID token, gets the FCM access token). "none" is the same publish to a user whose one
  device is known and has no registration. Then pushes per second from one user's object: one user with
  10 and with 100 Web Push devices, 1 and 10 publishes; and one user with one device, 100 publishes one
  at a time and 10 at a time. A figure is from the start of the first publish until the stand-in
  received every push; "workerd CPU / push" is workerd's CPU time meanwhile (its publishes' included)
  divided by the pushes.

## Reading the figures

- workerd runs all JavaScript, the Worker's and every Durable Object's, on one thread, and the load
  generator shares the machine's ${m.cores} cores with it: absolute numbers are this machine's; the ratios
  to \`/health\` travel better. On Cloudflare, objects are spread over many machines, so per-object work
  does not add up on one thread the way it does here.
- workerd evicts a Durable Object after about 10 s without requests. When a scenario cycles through
  more users than it can serve in that time, as (f) may, each request finds its user's object evicted
  and starts it again (opening its SQLite file, running its constructor).
- Every live Durable Object keeps its SQLite files open (3 descriptors), so (f) can hold more than 20,000
  files open at once. The bench raises workerd's limit of open files as far as the machine lets it
  (see the machine table); below about 30,000, \`SQLITE_CANTOPEN\` errors in workerd's log and 500s in
  (f) come from that limit, not from postbox.
- This machine is a shared virtual machine whose speed changes over minutes: on the day of this run,
  the same bundle's \`/health\` measured anywhere from about 5,400 to 15,700 req/s (and its CPU per
  request from about 65 to 190 µs) with nothing else running. Compare ratios within one run, not
  absolute figures across runs.
- "CPU elsewhere" is the CPU time that processes other than the bench and its workerd used during a
  run, in cores (of ${m.cores}): above about 0.1, something else was running and that figure is low.
- With 1,000 sockets the client is one Node process reading 1,000 frames per announcement one after
  another: part of the spread is the client's.
- A user's object starts at most five push attempts per wake-up (\`PUSH_DUE_BATCH\`, src/user/push-jobs.ts:
  an invocation has six connections waiting for headers at a time, so no slow push service holds up
  another push). A publish starts up to five of the attempts due; the rest wait for the object's alarm,
  set for at once, and each alarm starts five more. So one publish to \`n\` devices reaches the last of
  them after about ⌈n/5⌉ − 1 alarm wake-ups, and one object's pushes per second are five per
  wake-up: the 100-device rows show what a wake-up costs here. With the default \`DEVICE_LIMIT\` of 10,
  a publish to every device reaches the last five one wake-up after the first five. Each push's encryption and signing run on the
  object's thread right after the publish is answered, so pushes also slow the publishes that follow.
- The stand-in push services share this machine's cores with workerd and the bench's client: their
  own checks (decrypting, verifying) are in "at the push service".

## Machine and versions

| | |
| --- | --- |
| CPU | ${m.cpu} × ${m.cores} |
| memory | ${m.memoryGiB} GiB |
| OS | ${m.os} |
| Node | ${m.node} |
| workerd | ${m.workerd} |
| wrangler | ${m.wrangler} |
| autocannon | ${m.autocannon} |
| date | ${m.date} |
| load average (1 min) at start | ${m.loadAverageAtStart} |
| CPU used elsewhere at start | ${cores(m.otherCpuCoresAtStart)} |
| workerd's limit of open files | ${num(m.workerdOpenFileLimit)} |

## Bundle

${t.bundle}

## Throughput (${s.seconds} s per scenario, ${s.connections} connections)

${section(results, "load", t.load, t.loadWarnings, t.regionCalls)}

## Storage cost per operation (rows, averaged over ${s.storageOps} operations)

${section(results, "storage", t.storage, t.storageWarnings)}

## Live delivery: publish to receive

${section(results, "live", t.live)}

## Push: publish to push service

${section(results, "push", t.pushLatency, t.pushThroughput, t.pushCpu)}

## Bulk publish: one message to many users

${section(results, "bulk", t.bulk)}

## Errors in the run

${t.log}
`,
  );
}
