// The local secrets file `.dev.vars` (git-ignored), read by `wrangler dev` and `npm run token`.
// Like wrangler, it is looked for in the working folder, next to wrangler.toml:
// npm runs scripts in the project's folder.
import { randomBytes } from "node:crypto";
import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseEnv } from "node:util";
import { newVapidKeys } from "./vapid-keys.mjs";

export const DEV_VARS = ".dev.vars";

/**
 * Creates .dev.vars, or completes one from before: fresh random ADMIN_TOKEN and
 * CLIENT_JWT_SECRET, a fresh VAPID key pair (so Web Push works locally), and
 * FCM_SERVICE_ACCOUNT and APNS_KEY left empty (those channels stay off until
 * they are filled in). Values already there are kept. Answers the names added.
 */
export async function ensureDevVars() {
  const present = readDevVars();
  const secret = () => randomBytes(32).toString("hex");
  const added = {};
  for (const name of ["ADMIN_TOKEN", "CLIENT_JWT_SECRET"]) if (!present[name]) added[name] = secret();
  if (!present.VAPID_PUBLIC_KEY || !present.VAPID_PRIVATE_KEY) {
    const { publicKey, privateKey } = await newVapidKeys();
    Object.assign(added, { VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: privateKey });
  }
  for (const name of ["FCM_SERVICE_ACCOUNT", "APNS_KEY"]) if (!(name in present)) added[name] = "";
  const lines = Object.entries(added).map(([name, value]) => `${name}=${value}\n`).join("");
  if (!existsSync(DEV_VARS)) writeFileSync(DEV_VARS, lines, { mode: 0o600 });
  else if (lines) appendFileSync(DEV_VARS, `${readFileSync(DEV_VARS, "utf8").endsWith("\n") ? "" : "\n"}${lines}`);
  return Object.keys(added);
}

/** Its NAME=value lines, read with the dotenv rules wrangler reads them with. */
export function readDevVars() {
  return existsSync(DEV_VARS) ? parseEnv(readFileSync(DEV_VARS, "utf8")) : {};
}
