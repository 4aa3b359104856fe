// npm run bench: builds the deployable bundle, runs it on workerd directly
// (not `wrangler dev`), and measures throughput, storage cost per operation,
// live latency, and the time from a publish to the push service (on the tests'
// stand-in push services). Writes bench/results.json and docs/PERFORMANCE.md.
//
// BENCH_SECONDS (default 10) and BENCH_CONNECTIONS (default 50) shape the load
// runs; BENCH_PHASES=load,storage,live,push,bulk runs only some phases (then only
// bench/.work/results.partial.json is written); BENCH_WAIT_QUIET (default 120)
// is how many seconds to wait, at most, for other work on the machine to stop.
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, platform, release, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { postbox } from "./client.mjs";
import { waitForQuiet, watchOtherCpu, watchProcessCpu } from "./cpu.mjs";
import { measureLive } from "./live.mjs";
import { runLoadScenarios } from "./load.mjs";
import { printTables, writePerformanceDoc, writeResults } from "./report.mjs";
import { measureBulk } from "./bulk.mjs";
import { measurePush } from "./push.mjs";
import { startPushStandIn } from "./push-stand-in.mjs";
import { measureStorage } from "./storage.mjs";
import { freePort, readWranglerToml, startWorkerd, summarizeLog, workerdConfig, workerdVersion } from "./workerd.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const work = join(root, "bench/.work");
const integer = (name, fallback, min = 1) => {
  const value = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(value) || value < min) throw new Error(`${name} must be an integer ≥ ${min}`);
  return value;
};
const settings = {
  seconds: integer("BENCH_SECONDS", 10),
  connections: integer("BENCH_CONNECTIONS", 50),
  waitQuietSeconds: integer("BENCH_WAIT_QUIET", 120, 0),
  storageOps: 20,
  coldPolls: 5,
  liveRounds: 20,
  liveSockets: [1, 100, 1000],
  pushLatencyPublishes: 50,
  bulkSizes: [100, 500],
  bulkRounds: 5,
  // DEVICE_LIMIT: the push phase's one user with as many registered devices as a user may have.
  varOverrides: { ANNOUNCEMENT_LIMIT: "100000", REGION_CACHE_MS: "1000", DEVICE_LIMIT: "100" },
};
const ALL_PHASES = ["load", "storage", "live", "push", "bulk"];
const phases = new Set((process.env.BENCH_PHASES ?? ALL_PHASES.join(",")).split(",").map((p) => p.trim()));
const full = ALL_PHASES.every((phase) => phases.has(phase));
const log = (line) => console.log(line);
const packageVersion = (name) => JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")).version;

/** `wrangler deploy --dry-run`: the exact bundle a deploy uploads, and its size. */
function buildBundle() {
  const outdir = join(work, "dist");
  rmSync(outdir, { recursive: true, force: true });
  log("building: wrangler deploy --dry-run --outdir bench/.work/dist");
  const wrangler = join(root, "node_modules/wrangler/bin/wrangler.js");
  const build = spawnSync(process.execPath, [wrangler, "deploy", "--dry-run", "--outdir", outdir], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    encoding: "utf8",
    timeout: 120_000,
  });
  if (build.status !== 0) throw new Error(`wrangler deploy --dry-run failed:\n${build.stdout}\n${build.stderr}`);
  const modules = readdirSync(outdir).filter((file) => /\.m?js$/.test(file));
  if (modules.length !== 1) throw new Error(`expected one module in ${outdir}, found ${modules.join(", ")}`);
  const file = join(outdir, modules[0]);
  const code = readFileSync(file);
  return { file: `bench/.work/dist/${modules[0]}`, path: file, bytes: statSync(file).size, gzipBytes: gzipSync(code).length };
}

function machine() {
  return {
    cpu: cpus()[0]?.model ?? "unknown",
    cores: cpus().length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    os: `${platform()} ${release()}`,
    node: process.version,
    workerd: `${workerdVersion()} (npm workerd ${packageVersion("workerd")})`,
    wrangler: packageVersion("wrangler"),
    autocannon: packageVersion("autocannon"),
    date: new Date().toISOString(),
    // Other work on the machine skews every figure: the 1-minute load average as the bench started.
    loadAverageAtStart: Math.round(loadavg()[0] * 100) / 100,
  };
}

async function main() {
  const started = Date.now();
  mkdirSync(work, { recursive: true });
  // Storage left by an interrupted run.
  for (const entry of readdirSync(work)) if (entry.startsWith("storage-")) rmSync(join(work, entry), { recursive: true, force: true });
  const results = { machine: machine(), settings, phases: [...phases] };
  const bundle = buildBundle();
  results.bundle = { file: bundle.file, bytes: bundle.bytes, gzipBytes: bundle.gzipBytes, goalGzipBytes: 64 * 1024 };
  log(`bundle: ${(bundle.bytes / 1024).toFixed(1)} KiB, gzip ${(bundle.gzipBytes / 1024).toFixed(1)} KiB (goal < 64 KiB)`);

  // A fresh storage directory and fresh secrets for every run.
  const storageDir = mkdtempSync(join(work, "storage-"));
  const secrets = { ADMIN_TOKEN: randomBytes(32).toString("hex"), CLIENT_JWT_SECRET: randomBytes(32).toString("hex") };
  const wrangler = readWranglerToml(join(root, "wrangler.toml"));
  // The push services the Worker posts to: the tests' stand-ins, in this process.
  const standIn = await startPushStandIn();
  const port = await freePort();
  const configPath = join(work, "workerd.capnp");
  writeFileSync(
    configPath,
    workerdConfig({
      wrangler,
      configPath,
      mainModule: bundle.path,
      storageDir,
      port,
      vars: { ...wrangler.vars, ...standIn.settings, ...settings.varOverrides, ...secrets },
    }),
  );
  log(`starting workerd on 127.0.0.1:${port} (config bench/.work/workerd.capnp, log bench/.work/workerd.log)`);
  const server = await startWorkerd({ configPath, port, logPath: join(work, "workerd.log") }).catch(async (error) => {
    await standIn.close();
    throw error;
  });
  try {
    const pb = postbox(server.url, { adminToken: secrets.ADMIN_TOKEN, jwtSecret: secrets.CLIENT_JWT_SECRET });
    results.machine.workerdOpenFileLimit = server.fileLimit;
    const pids = () => [process.pid, server.pid];
    const watchCpu = () => watchOtherCpu(pids);
    results.machine.otherCpuCoresAtStart = await waitForQuiet({ pids, maxSeconds: settings.waitQuietSeconds, log });
    // A phase that fails is recorded with its error, and the others still run.
    const phase = async (name, run) => {
      if (!phases.has(name)) return;
      try {
        results[name] = await run();
      } catch (error) {
        console.error(`${name} failed:`, error);
        results.failed = { ...results.failed, [name]: String(error?.message ?? error).slice(0, 500) };
      }
    };
    await phase("load", () => {
      log(`load: ${settings.seconds} s per scenario, ${settings.connections} connections`);
      const watchWorkerd = () => watchProcessCpu(server.pid);
      return runLoadScenarios(pb, { url: server.url, seconds: settings.seconds, connections: settings.connections, watchCpu, watchWorkerd, log });
    });
    await phase("storage", () => {
      log("storage cost per operation");
      const cacheMs = Number(settings.varOverrides.REGION_CACHE_MS);
      return measureStorage(pb, { url: server.url, standIn, n: settings.storageOps, coldPolls: settings.coldPolls, cacheMs, log });
    });
    await phase("live", async () => {
      const live = [];
      for (const count of settings.liveSockets) {
        log(`live: ${count} socket(s)`);
        const cpu = watchCpu();
        const wsBase = server.url.replace(/^http/, "ws");
        const figures = await measureLive(pb, { wsBase, count, rounds: settings.liveRounds, region: `live-${count}`, log });
        live.push({ ...figures, otherCpuCores: cpu.stop() });
      }
      return live;
    });
    await phase("push", async () => {
      log("push: publish to the stand-in push services");
      const cpu = watchCpu();
      const deviceLimit = Number(settings.varOverrides.DEVICE_LIMIT);
      const watchWorkerd = () => watchProcessCpu(server.pid);
      const figures = await measurePush(pb, standIn, { n: settings.pushLatencyPublishes, deviceLimit, watchWorkerd, log });
      return { ...figures, otherCpuCores: cpu.stop() };
    });
    await phase("bulk", () => {
      log("bulk: one message to many users");
      return measureBulk(pb, { sizes: settings.bulkSizes, rounds: settings.bulkRounds, log });
    });
  } finally {
    await server.stop();
    await standIn.close();
    rmSync(storageDir, { recursive: true, force: true });
  }
  results.workerdLog = summarizeLog(join(work, "workerd.log"));

  results.runSeconds = Math.round((Date.now() - started) / 1000);
  if (full) {
    writeResults(join(root, "bench/results.json"), results);
    writePerformanceDoc(join(root, "docs/PERFORMANCE.md"), results);
    printTables(results);
    log("wrote bench/results.json and docs/PERFORMANCE.md");
  } else {
    writeResults(join(work, "results.partial.json"), results);
    printTables(results);
    log("partial run: wrote bench/.work/results.partial.json only");
  }
  if (results.failed) {
    console.error(`failed phases: ${Object.keys(results.failed).join(", ")} (see above and bench/.work/workerd.log)`);
    process.exitCode = 1;
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
