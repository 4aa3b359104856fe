// A client token as a publisher's backend mints one: an HS256 JWT signed with CLIENT_JWT_SECRET.
// Shared by `npm run token`, the bench and the browser tests.
import { createHmac } from "node:crypto";

const encode = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");

/** An HS256 JWT of `claims` ({ sub, region?, device? }; undefined ones left out), issued now, valid for `seconds`. */
export function signClientToken(claims, secret, seconds) {
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${encode({ alg: "HS256", typ: "JWT" })}.${encode({ ...claims, iat: now, exp: now + seconds })}`;
  return `${unsigned}.${createHmac("sha256", secret).update(unsigned).digest("base64url")}`;
}
