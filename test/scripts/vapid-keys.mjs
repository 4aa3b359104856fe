// scripts/vapid-keys.mjs makes VAPID keys in the form the Worker's secrets take, and a working pair.
import assert from "node:assert/strict";
import { createECDH } from "node:crypto";
import { describe, it } from "node:test";
import { importJWK, jwtVerify, SignJWT } from "jose";
import { newVapidKeys } from "../../scripts/vapid-keys.mjs";

const BASE64URL = /^[A-Za-z0-9_-]+$/;

describe("newVapidKeys", () => {
  it("the public key is base64url of a 65-byte uncompressed point, the private key of the 32-byte d", async () => {
    const { publicKey, privateKey } = await newVapidKeys();
    assert.match(publicKey, BASE64URL);
    assert.match(privateKey, BASE64URL);
    const point = Buffer.from(publicKey, "base64url");
    assert.equal(point.length, 65);
    assert.equal(point[0], 0x04);
    assert.equal(Buffer.from(privateKey, "base64url").length, 32);
  });

  it("the two are one pair: d gives the point, and what d signs (ES256) the point verifies", async () => {
    const { publicKey, privateKey } = await newVapidKeys();
    const ecdh = createECDH("prime256v1");
    ecdh.setPrivateKey(Buffer.from(privateKey, "base64url"));
    assert.equal(ecdh.getPublicKey("base64url"), publicKey);

    const point = Buffer.from(publicKey, "base64url");
    const jwk = { kty: "EC", crv: "P-256", x: point.subarray(1, 33).toString("base64url"), y: point.subarray(33).toString("base64url") };
    const token = await new SignJWT({ sub: "mailto:ops@postbox.test" }).setProtectedHeader({ alg: "ES256" }).sign(await importJWK({ ...jwk, d: privateKey }, "ES256"));
    const { payload } = await jwtVerify(token, await importJWK(jwk, "ES256"));
    assert.equal(payload.sub, "mailto:ops@postbox.test");
  });

  it("every call makes a new pair", async () => {
    const [first, second] = await Promise.all([newVapidKeys(), newVapidKeys()]);
    assert.notEqual(first.publicKey, second.publicKey);
    assert.notEqual(first.privateKey, second.privateKey);
  });
});
