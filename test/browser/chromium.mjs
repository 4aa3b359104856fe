// Headless Chromium from the system (Debian's `chromium` package), driven by playwright-core: no
// browser download. Where it is absent the browser tests skip, saying so, except in CI, where they fail.
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Why the browser tests cannot run here (false when they can): pass it as node:test's `skip` option.
 * In CI a missing browser is an error, not a reason to skip.
 */
export function browserMissing() {
  if (existsSync(CHROMIUM)) return false;
  const reason = `no Chromium at ${CHROMIUM} (install Debian's chromium package, or set CHROMIUM_PATH): browser tests skipped`;
  if (inCi()) throw new Error(`CI is set: ${reason.replace("skipped", "cannot run")}`);
  return reason;
}

export const launchChromium = () => chromium.launch({ executablePath: CHROMIUM, headless: true });

/** CI systems set CI (true, 1 …); "false" or "0" is not CI. */
const inCi = () => !["", "0", "false"].includes((process.env.CI ?? "").toLowerCase());
