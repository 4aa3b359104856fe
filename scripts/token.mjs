// npm run token -- <userId> [--region <id>] [--device <id>] [--ttl <seconds|1h|7d>]
// (--help explains): prints a client JWT (HS256) signed with CLIENT_JWT_SECRET
// from .dev.vars, for trying postbox locally.
import { signClientToken } from "./client-token.mjs";
import { readDevVars } from "./dev-vars.mjs";
import { HELP, USAGE, UsageError, tokenRequest } from "./token-options.mjs";

let request;
try {
  request = tokenRequest(process.argv.slice(2));
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  console.error(`${error.message}\n${USAGE}\n(npm run token -- --help explains each option)`);
  process.exit(2);
}
if (request.help) {
  console.log(HELP);
  process.exit(0);
}
const secret = readDevVars().CLIENT_JWT_SECRET;
if (!secret) {
  console.error("No CLIENT_JWT_SECRET in .dev.vars: run `npm run dev` once to create it.");
  process.exit(1);
}
console.log(signClientToken(request.claims, secret, request.ttlSeconds));
