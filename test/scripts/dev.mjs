// `npm run dev` checks the settings wrangler will give the Worker, with the
// Worker's own rules, and does not start wrangler when one is invalid.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { parseEnv } from "node:util";
import { settingProblems, varsFromArgs, varsFromToml } from "../../scripts/dev-settings.mjs";
import { runScript, scratchProject } from "./support/scratch.mjs";

describe("--var arguments are read as wrangler reads them", () => {
  it("--var NAME:value and --var=NAME:value", () => {
    assert.deepEqual(varsFromArgs(["--var", "PENDING_LIMIT:3", "--port", "9000", "--var=UNREAD_LIMIT:4"]), {
      PENDING_LIMIT: "3",
      UNREAD_LIMIT: "4",
    });
  });

  it("one --var takes every argument up to the next option", () => {
    assert.deepEqual(varsFromArgs(["--var", "PENDING_LIMIT:3", "PENDING_TTL_SECONDS:10", "--local", "src/index.ts"]), {
      PENDING_LIMIT: "3",
      PENDING_TTL_SECONDS: "10",
    });
  });

  it("the value is everything after the first colon; no colon is an empty value", () => {
    assert.deepEqual(varsFromArgs(["--var=CORS_ORIGINS:https://a.example,http://b.example:8080", "--var", "PENDING_LIMIT"]), {
      CORS_ORIGINS: "https://a.example,http://b.example:8080",
      PENDING_LIMIT: "",
    });
  });

  it("arguments of other options are not vars", () => {
    assert.deepEqual(varsFromArgs(["--port", "9000", "src/index.ts"]), {});
  });
});

describe("settings are judged by src/config.ts", () => {
  it("[vars] of wrangler.toml: quoted strings and unquoted numbers", () => {
    assert.deepEqual(varsFromToml('name = "x"\n[vars]\nPENDING_LIMIT = "3"\nUNREAD_LIMIT = 4\n'), {
      PENDING_LIMIT: "3",
      UNREAD_LIMIT: 4,
    });
    assert.deepEqual(varsFromToml('name = "x"\n'), {});
  });

  it("a valid value and names postbox does not read are no problem", () => {
    assert.deepEqual(settingProblems([["--var", { PENDING_LIMIT: "3", CORS_ORIGINS: "https://a.example", OTHER: "x" }]]), []);
  });

  it("each invalid value is named, with what it is, what is expected and where it came from", () => {
    assert.deepEqual(settingProblems([["--var", { PENDING_LIMIT: "abc", UNREAD_LIMIT: "3", CORS_ORIGINS: "app.example" }]]), [
      'PENDING_LIMIT must be a positive integer, got "abc" (from --var)',
      'CORS_ORIGINS must be "*" or comma-separated origins like https://app.example.com, got "app.example" (from --var)',
    ]);
  });

  it("a number from [vars] is judged as a number", () => {
    assert.deepEqual(settingProblems([["wrangler.toml [vars]", { PENDING_LIMIT: 1.5 }]]), [
      "PENDING_LIMIT must be a positive integer, got 1.5 (from wrangler.toml [vars])",
    ]);
  });

  it("only the value wrangler passes on is judged: --var over .dev.vars over [vars]", () => {
    const sources = (toml, devVars, args) => [["[vars]", toml], [".dev.vars", devVars], ["--var", args]];
    assert.deepEqual(settingProblems(sources({ PENDING_LIMIT: "abc" }, { PENDING_LIMIT: "x" }, { PENDING_LIMIT: "3" })), []);
    assert.deepEqual(settingProblems(sources({ PENDING_LIMIT: "3" }, { PENDING_LIMIT: "x" }, {})), [
      'PENDING_LIMIT must be a positive integer, got "x" (from .dev.vars)',
    ]);
  });
});

describe("npm run dev", () => {
  const toml = (vars = "") => `name = "postbox"\n[vars]\n${vars}`;

  it("a bad --var: says what is wrong, exits 1, starts no wrangler and writes no .dev.vars", () => {
    const dir = scratchProject({ "wrangler.toml": toml() });
    const { status, stdout, stderr } = runScript(dir, "dev.mjs", ["--var", "PENDING_LIMIT:abc"]);
    assert.equal(status, 1);
    assert.match(stderr, /PENDING_LIMIT must be a positive integer, got "abc" \(from --var\)/);
    assert.doesNotMatch(stdout, /wrangler was started/);
    assert.equal(existsSync(join(dir, ".dev.vars")), false);
  });

  it("a bad value in wrangler.toml or .dev.vars stops it too", () => {
    const fromToml = runScript(scratchProject({ "wrangler.toml": toml('UNREAD_LIMIT = "0"\n') }), "dev.mjs");
    assert.equal(fromToml.status, 1);
    assert.match(fromToml.stderr, /UNREAD_LIMIT must be a positive integer, got "0" \(from wrangler.toml \[vars\]\)/);
    const fromDevVars = runScript(scratchProject({ "wrangler.toml": toml(), ".dev.vars": "MESSAGE_MAX_BYTES=big\n" }), "dev.mjs");
    assert.equal(fromDevVars.status, 1);
    assert.match(fromDevVars.stderr, /MESSAGE_MAX_BYTES must be a positive integer, got "big" \(from .dev.vars\)/);
  });

  it("good settings: creates .dev.vars and starts wrangler dev with the arguments as given", () => {
    const dir = scratchProject({ "wrangler.toml": toml('PENDING_LIMIT = 5\n') });
    const { status, stdout } = runScript(dir, "dev.mjs", ["--var=PENDING_LIMIT:3", "--port", "9000"]);
    assert.equal(status, 0);
    assert.match(stdout, /postbox will listen on http:\/\/localhost:9000/);
    assert.match(stdout, /wrangler was started: dev --var=PENDING_LIMIT:3 --port 9000 --var VAPID_SUBJECT:mailto:postbox@localhost --var DEMO:on$/m);
    assert.match(stdout, /The demo page .*: http:\/\/localhost:9000\/demo$/m);
    assert.equal(existsSync(join(dir, ".dev.vars")), true);
  });

  it("keeps a DEMO given in wrangler.toml, .dev.vars or --var, and names the demo page only where it is on", () => {
    const fromToml = runScript(scratchProject({ "wrangler.toml": toml('DEMO = "off"\n') }), "dev.mjs").stdout;
    assert.match(fromToml, /wrangler was started: dev --var VAPID_SUBJECT:mailto:postbox@localhost$/m);
    assert.doesNotMatch(fromToml, /demo page/);
    const fromDevVars = runScript(scratchProject({ "wrangler.toml": toml('DEMO = "on"\n'), ".dev.vars": "DEMO=off\n" }), "dev.mjs");
    assert.doesNotMatch(fromDevVars.stdout, /demo page|DEMO:on/);
    const fromArgs = runScript(scratchProject({ "wrangler.toml": toml('DEMO = "off"\n') }), "dev.mjs", ["--var", "DEMO:on"]).stdout;
    assert.match(fromArgs, /wrangler was started: dev --var DEMO:on --var VAPID_SUBJECT:mailto:postbox@localhost$/m);
    assert.match(fromArgs, /The demo page .*: http:\/\/localhost:8787\/demo$/m);
  });

  it("a DEMO other than on or off stops it", () => {
    const { status, stderr } = runScript(scratchProject({ "wrangler.toml": toml() }), "dev.mjs", ["--var", "DEMO:yes"]);
    assert.equal(status, 1);
    assert.match(stderr, /DEMO must be "on" or "off", got "yes" \(from --var\)/);
  });

  it("writes every secret wrangler.toml lists to .dev.vars: Web Push keys fresh, FCM and APNs empty", () => {
    const dir = scratchProject({ "wrangler.toml": toml() });
    assert.equal(runScript(dir, "dev.mjs").status, 0);
    const vars = parseEnv(readFileSync(join(dir, ".dev.vars"), "utf8"));
    assert.deepEqual(Object.keys(vars).sort(), [
      "ADMIN_TOKEN", "APNS_KEY", "CLIENT_JWT_SECRET", "FCM_SERVICE_ACCOUNT", "VAPID_PRIVATE_KEY", "VAPID_PUBLIC_KEY",
    ]);
    assert.equal(Buffer.from(vars.VAPID_PUBLIC_KEY, "base64url").length, 65);
    assert.equal(Buffer.from(vars.VAPID_PRIVATE_KEY, "base64url").length, 32);
    assert.deepEqual([vars.FCM_SERVICE_ACCOUNT, vars.APNS_KEY], ["", ""]);
  });

  it("completes a .dev.vars from before without changing what it holds, and keeps a VAPID_SUBJECT given", () => {
    const dir = scratchProject({ "wrangler.toml": toml(), ".dev.vars": "ADMIN_TOKEN=mine\nCLIENT_JWT_SECRET=also-mine" });
    const { stdout } = runScript(dir, "dev.mjs", ["--var", "VAPID_SUBJECT:mailto:me@example.com"]);
    assert.match(stdout, /Wrote VAPID_PUBLIC_KEY, VAPID_PRIVATE_KEY, FCM_SERVICE_ACCOUNT, APNS_KEY to .dev.vars/);
    assert.match(stdout, /wrangler was started: dev --var VAPID_SUBJECT:mailto:me@example.com --var DEMO:on$/m);
    const vars = parseEnv(readFileSync(join(dir, ".dev.vars"), "utf8"));
    assert.deepEqual([vars.ADMIN_TOKEN, vars.CLIENT_JWT_SECRET], ["mine", "also-mine"]);
    assert.equal(Buffer.from(vars.VAPID_PUBLIC_KEY, "base64url").length, 65);
  });
});
