// The independent decryption of a Web Push body: Mozilla's http_ece, a Node package (Node's crypto
// and Buffer; the test runtime has them, through the compatibility date's nodejs_compat). JavaScript,
// so that Node's types are not needed: http-ece-reference.d.mts gives what the tests call.
import { Buffer } from "node:buffer";
import { createECDH } from "node:crypto";
import ece from "http_ece";

export function decryptAsUserAgent(body, { privateKey, authSecret }) {
  const userAgent = createECDH("prime256v1");
  userAgent.setPrivateKey(Buffer.from(privateKey));
  const plaintext = ece.decrypt(Buffer.from(body), { version: "aes128gcm", privateKey: userAgent, authSecret: Buffer.from(authSecret) });
  return new Uint8Array(plaintext);
}
