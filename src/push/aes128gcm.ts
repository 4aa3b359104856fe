// Message encryption for Web Push (RFC 8291): a fresh ECDH key pair and salt per message, the
// `aes128gcm` content coding (RFC 8188) with a single record, no padding.
import { concatBytes } from "../shared/bytes";
import type { SubscriptionKeys } from "./subscription-keys";

const RECORD_SIZE = 4096;
const SALT_BYTES = 16;
const POINT_BYTES = 65;
const HEADER_BYTES = SALT_BYTES + 4 + 1 + POINT_BYTES; // salt, record size, key id length, key id
const LAST_RECORD = 0x02;
const TAG_BYTES = 16;

/**
 * Push services need to take only 4096 bytes of body (RFC 8030 §7.2, RFC 8291 §4): the header,
 * the delimiter and the tag leave 3993 bytes for the payload text.
 */
export const MAX_PAYLOAD_BYTES = RECORD_SIZE - HEADER_BYTES - 1 - TAG_BYTES;

const text = new TextEncoder();

export async function encryptForSubscription(payload: Uint8Array, userAgent: SubscriptionKeys): Promise<Uint8Array> {
  if (payload.length > MAX_PAYLOAD_BYTES) {
    throw new RangeError(`a Web Push payload is at most ${MAX_PAYLOAD_BYTES} bytes, not ${payload.length}`);
  }
  const local = (await crypto.subtle.generateKey({ name: "ECDH", namedCurve: "P-256" }, false, ["deriveBits"])) as CryptoKeyPair;
  const localPoint = new Uint8Array((await crypto.subtle.exportKey("raw", local.publicKey)) as ArrayBuffer);
  // Not written inline: workers-types spells this member `$public`, the runtime reads `public`.
  const ecdh = { name: "ECDH", public: userAgent.publicKey };
  const ecdhSecret = await crypto.subtle.deriveBits(ecdh, local.privateKey, 256);
  const keyInfo = concatBytes([text.encode("WebPush: info\0"), userAgent.publicKeyBytes, localPoint]);
  const ikm = await hkdf(userAgent.authSecret, ecdhSecret, keyInfo, 32);

  const salt = crypto.getRandomValues(new Uint8Array(SALT_BYTES));
  const contentKey = await hkdf(salt, ikm, text.encode("Content-Encoding: aes128gcm\0"), 16);
  const nonce = await hkdf(salt, ikm, text.encode("Content-Encoding: nonce\0"), 12);
  const key = await crypto.subtle.importKey("raw", contentKey, "AES-GCM", false, ["encrypt"]);
  const record = concatBytes([payload, Uint8Array.of(LAST_RECORD)]);
  const ciphertext = await crypto.subtle.encrypt({ name: "AES-GCM", iv: nonce }, key, record);

  const header = new Uint8Array(HEADER_BYTES);
  header.set(salt);
  new DataView(header.buffer).setUint32(SALT_BYTES, RECORD_SIZE);
  header[SALT_BYTES + 4] = POINT_BYTES;
  header.set(localPoint, SALT_BYTES + 5);
  return concatBytes([header, new Uint8Array(ciphertext)]);
}

async function hkdf(salt: BufferSource, secret: BufferSource, info: BufferSource, bytes: number) {
  const key = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveBits"]);
  return crypto.subtle.deriveBits({ name: "HKDF", hash: "SHA-256", salt, info }, key, bytes * 8);
}
