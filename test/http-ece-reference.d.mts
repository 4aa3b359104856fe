/** Decrypts an `aes128gcm` Web Push body (RFC 8291) as the user agent does, with its private key `d` and auth secret; throws when it does not decrypt. */
export function decryptAsUserAgent(body: Uint8Array, userAgent: { privateKey: Uint8Array; authSecret: Uint8Array }): Uint8Array;
