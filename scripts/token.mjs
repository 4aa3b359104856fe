// npm run token -- <userId> [region]: prints a client JWT (HS256, 24 h) signed
// with CLIENT_JWT_SECRET from .dev.vars, for trying postbox locally.
import { createHmac } from "node:crypto";
import { readDevVars } from "./dev-vars.mjs";

const [userId, region] = process.argv.slice(2);
if (!userId || !/^[A-Za-z0-9._:@-]{1,128}$/.test(userId) || (region && !/^[A-Za-z0-9._-]{1,64}$/.test(region))) {
  console.error("usage: npm run token -- <userId> [region]");
  process.exit(2);
}
const secret = readDevVars().CLIENT_JWT_SECRET;
if (!secret) {
  console.error("No CLIENT_JWT_SECRET in .dev.vars: run `npm run dev` once to create it.");
  process.exit(1);
}
const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const now = Math.floor(Date.now() / 1000);
const unsigned = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({ sub: userId, ...(region && { region }), iat: now, exp: now + 86_400 })}`;
console.log(`${unsigned}.${createHmac("sha256", secret).update(unsigned).digest("base64url")}`);
