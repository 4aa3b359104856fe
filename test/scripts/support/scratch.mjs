// A scratch project folder for running the npm scripts as `npm run` does (in
// the project's folder), with its own wrangler.toml and .dev.vars, and with a
// stand-in `wrangler` first on PATH that only says how it was called.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after } from "node:test";

const SCRIPTS = new URL("../../../scripts/", import.meta.url);

/** A folder holding `files` (name to text), removed when the test file ends. */
export function scratchProject(files = {}) {
  const dir = mkdtempSync(join(tmpdir(), "postbox-scripts-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  mkdirSync(join(dir, "bin"));
  writeFileSync(join(dir, "bin", "wrangler"), '#!/bin/sh\necho "wrangler was started: $*"\n');
  chmodSync(join(dir, "bin", "wrangler"), 0o755);
  return dir;
}

/** Runs scripts/<script> in `dir` with this Node, as `npm run` would. */
export function runScript(dir, script, args = []) {
  const { status, stdout, stderr } = spawnSync(process.execPath, [new URL(script, SCRIPTS).pathname, ...args], {
    cwd: dir,
    encoding: "utf8",
    env: { ...process.env, PATH: `${join(dir, "bin")}${delimiter}${process.env.PATH}` },
  });
  return { status, stdout, stderr };
}
