// The local secrets file `.dev.vars` (git-ignored), read by `wrangler dev` and `npm run token`.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";

export const DEV_VARS = new URL("../.dev.vars", import.meta.url);

/** Creates .dev.vars with fresh random secrets when it does not exist; says whether it did. */
export function ensureDevVars() {
  if (existsSync(DEV_VARS)) return false;
  const secret = () => randomBytes(32).toString("hex");
  writeFileSync(DEV_VARS, `ADMIN_TOKEN=${secret()}\nCLIENT_JWT_SECRET=${secret()}\n`, { mode: 0o600 });
  return true;
}

export function readDevVars() {
  if (!existsSync(DEV_VARS)) return {};
  return Object.fromEntries(
    readFileSync(DEV_VARS, "utf8")
      .split("\n")
      .map((line) => line.match(/^\s*([A-Z_][A-Z0-9_]*)\s*=\s*"?(.*?)"?\s*$/))
      .filter(Boolean)
      .map((match) => [match[1], match[2]]),
  );
}
