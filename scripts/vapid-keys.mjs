// A VAPID key pair (RFC 8292) as postbox's secrets hold it: VAPID_PUBLIC_KEY, base64url of the 65-byte
// uncompressed P-256 point (the applicationServerKey browsers subscribe with), and VAPID_PRIVATE_KEY,
// base64url of the 32-byte private scalar `d`.
import { webcrypto } from "node:crypto";

/** A fresh pair: { publicKey, privateKey }, both base64url without padding. */
export async function newVapidKeys() {
  const pair = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const point = Buffer.from(await webcrypto.subtle.exportKey("raw", pair.publicKey));
  const { d } = await webcrypto.subtle.exportKey("jwk", pair.privateKey);
  return { publicKey: point.toString("base64url"), privateKey: d };
}
