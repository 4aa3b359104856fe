// npm run dev [-- wrangler dev options]: local postbox on `wrangler dev`, with
// local Durable Object storage. Checks the settings first; creates .dev.vars with
// fresh secrets on first run.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { ensureDevVars, readDevVars } from "./dev-vars.mjs";
import { settingProblems, varsFromArgs, varsFromToml } from "./dev-settings.mjs";

const args = process.argv.slice(2);

function refuse(problems) {
  console.error("Not starting postbox:");
  for (const problem of problems) console.error(`  ${problem}`);
  console.error(`The settings and their defaults: README.md, "Configuration".`);
  process.exit(1);
}

let tomlVars;
try {
  tomlVars = varsFromToml(readFileSync("wrangler.toml", "utf8"));
} catch (error) {
  refuse([`wrangler.toml: ${error.message}`]);
}
const problems = settingProblems([
  ["wrangler.toml [vars]", tomlVars],
  [".dev.vars", readDevVars()],
  ["--var", varsFromArgs(args)],
]);
if (problems.length > 0) refuse(problems);

const portAt = args.findIndex((arg) => arg === "--port" || arg.startsWith("--port="));
const port = portAt < 0 ? "8787" : args[portAt].includes("=") ? args[portAt].split("=")[1] : args[portAt + 1];
const base = `http://localhost:${port}`;

const added = await ensureDevVars();
if (added.length > 0) console.log(`Wrote ${added.join(", ")} to .dev.vars (git-ignored).`);
/** The value wrangler will give the Worker, if any: --var over .dev.vars over [vars]. */
const setting = (name) => [varsFromArgs(args), readDevVars(), tomlVars].find((vars) => name in vars)?.[name];
// Locally, unless set otherwise: Web Push needs a contact in its tokens (a placeholder does),
// and the demo page is on.
const localDefaults = { VAPID_SUBJECT: "mailto:postbox@localhost", DEMO: "on" };
const wranglerArgs = [
  ...args,
  ...Object.entries(localDefaults).flatMap(([name, value]) => (setting(name) === undefined ? ["--var", `${name}:${value}`] : [])),
];
const demoLine = (setting("DEMO") ?? localDefaults.DEMO) === "on"
  ? `The demo page (a publisher form and a live inbox): ${base}/demo\n`
  : "";
console.log(`
postbox will listen on ${base}. In another shell:
  source .dev.vars                          # ADMIN_TOKEN and CLIENT_JWT_SECRET
  TOKEN=$(npm run -s token -- alice)        # a client token for user "alice" (more: npm run token -- --help)
  curl -X POST ${base}/admin/v1/users/alice/messages \\
    -H "Authorization: Bearer $ADMIN_TOKEN" -H "Content-Type: application/json" -d '{"body":"hello"}'
  curl ${base}/v1/inbox -H "Authorization: Bearer $TOKEN"
More in README.md.
${demoLine}`);

// npm puts node_modules/.bin (wrangler, and Node 22 for it) first on PATH.
const child = spawn("wrangler", ["dev", ...wranglerArgs], {
  stdio: "inherit",
  env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
});
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
