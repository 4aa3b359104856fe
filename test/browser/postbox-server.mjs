// postbox on `wrangler dev`, for the browser tests: a config, .dev.vars and storage of its own in a
// temporary folder (the developer's .dev.vars and .wrangler/state are never read or written), fresh
// test secrets and VAPID key pair, Web Push allowed to the stand-in push service. It can be stopped
// and started again on the same port and storage, as a server restart.
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, stringify } from "smol-toml";
import { signClientToken } from "../../scripts/client-token.mjs";
import { newVapidKeys } from "../../scripts/vapid-keys.mjs";
import { DEFAULT_WEBPUSH_ORIGINS } from "../../src/config.ts";
import { waitFor } from "./wait.mjs";

const root = fileURLToPath(new URL("../..", import.meta.url));
const wrangler = join(root, "node_modules/.bin/wrangler");

/** A port nothing listens on now. */
export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts postbox. `pushOrigin`: the stand-in push services' origin (Web Push endpoints there are
 * accepted); `vars`: more settings, as `--var NAME:value` would give them.
 */
export async function startPostbox({ pushOrigin, vars = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "postbox-browser-"));
  const vapid = await newVapidKeys();
  const secrets = {
    ADMIN_TOKEN: randomBytes(16).toString("hex"),
    CLIENT_JWT_SECRET: randomBytes(16).toString("hex"),
    VAPID_PUBLIC_KEY: vapid.publicKey,
    VAPID_PRIVATE_KEY: vapid.privateKey,
    FCM_SERVICE_ACCOUNT: "",
    APNS_KEY: "",
  };
  writeFileSync(join(dir, ".dev.vars"), Object.entries(secrets).map(([name, value]) => `${name}=${value}\n`).join(""));
  writeFileSync(join(dir, "wrangler.toml"), stringify(configFor(pushOrigin, vars)));
  const [port, inspectorPort] = [await freePort(), await freePort()];
  const origin = `http://127.0.0.1:${port}`;
  const args = ["dev", "--config", join(dir, "wrangler.toml"), "--ip", "127.0.0.1", "--port", String(port)];
  args.push("--inspector-port", String(inspectorPort), "--persist-to", join(dir, "state"), "--show-interactive-dev-session=false");

  let child = null;
  let output = "";
  const start = async () => {
    output = "";
    child = spawn(wrangler, args, {
      cwd: dir,
      detached: true, // its own process group: stop() ends workerd with it
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", WRANGLER_LOG: "warn", CI: "true" },
    });
    for (const stream of [child.stdout, child.stderr]) stream.on("data", (chunk) => (output += chunk));
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const health = async () => (await fetch(`${origin}/health`).catch(() => null))?.ok === true;
    await Promise.race([
      waitFor(health, "wrangler dev to answer /health", { timeoutMs: 60_000, seen: () => output }),
      exited.then((code) => Promise.reject(new Error(`wrangler dev exited (${code}) before it answered:\n${output}`))),
    ]);
  };
  const stop = async () => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once("exit", resolve));
    process.kill(-child.pid, "SIGTERM");
    await exited;
    child = null;
  };
  await start();

  const clientToken = (claims) => signClientToken(claims, secrets.CLIENT_JWT_SECRET, 3600);
  const admin = (path, init = {}) => call(`${origin}${path}`, secrets.ADMIN_TOKEN, init);
  return {
    origin,
    secrets,
    /** A client JWT for these claims ({ sub, device?, region? }), valid for an hour. */
    clientToken,
    /** A call to a publisher route with ADMIN_TOKEN; answers the JSON (a non-2xx answer throws). */
    admin,
    /** A call to a client route with a client token for `claims`. */
    client: (claims, path, init = {}) => call(`${origin}${path}`, clientToken(claims), init),
    /** Publishes a personal message to `user`; answers the 201's body. */
    publish: (user, message) => admin(`/admin/v1/users/${encodeURIComponent(user)}/messages`, { method: "POST", json: message }),
    /** How `seq` reached each of `user`'s devices (the admin message view's devices). */
    outcomes: async (user, seq) => (await admin(`/admin/v1/users/${encodeURIComponent(user)}/messages/${seq}`)).devices,
    /** Stops and starts wrangler dev again: same port, same storage. */
    restart: async () => {
      await stop();
      await start();
    },
    stop,
    start,
    output: () => output,
    close: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The project's wrangler.toml with absolute paths, no build step (the tests build the client first), and the test settings. */
function configFor(pushOrigin, vars) {
  const config = parse(readFileSync(join(root, "wrangler.toml"), "utf8"));
  delete config.build;
  config.main = join(root, config.main);
  config.assets.directory = join(root, config.assets.directory);
  config.alias = Object.fromEntries(Object.entries(config.alias ?? {}).map(([name, path]) => [name, join(root, path)]));
  config.vars = {
    ...config.vars,
    VAPID_SUBJECT: "mailto:browser-tests@postbox.test",
    ...(pushOrigin && { WEBPUSH_ORIGINS: `${DEFAULT_WEBPUSH_ORIGINS},${pushOrigin}` }),
    ...vars,
  };
  return config;
}

async function call(url, token, { json, method = json === undefined ? "GET" : "POST", headers = {} } = {}) {
  const res = await fetch(url, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(json !== undefined && { "Content-Type": "application/json" }), ...headers },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return text ? JSON.parse(text) : null;
}
