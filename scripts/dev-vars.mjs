// The local secrets file `.dev.vars` (git-ignored), read by `wrangler dev` and `npm run token`.
// Like wrangler, it is looked for in the working folder, next to wrangler.toml:
// npm runs scripts in the project's folder.
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseEnv } from "node:util";

export const DEV_VARS = ".dev.vars";

/** Creates .dev.vars with fresh random secrets when it does not exist; says whether it did. */
export function ensureDevVars() {
  if (existsSync(DEV_VARS)) return false;
  const secret = () => randomBytes(32).toString("hex");
  writeFileSync(DEV_VARS, `ADMIN_TOKEN=${secret()}\nCLIENT_JWT_SECRET=${secret()}\n`, { mode: 0o600 });
  return true;
}

/** Its NAME=value lines, read with the dotenv rules wrangler reads them with. */
export function readDevVars() {
  return existsSync(DEV_VARS) ? parseEnv(readFileSync(DEV_VARS, "utf8")) : {};
}
