// The body of PUT /v1/push: one push channel for the requesting device, as
// the contract's "Push channels" gives it. What depends on the deployment
// (the endpoint's origin in WEBPUSH_ORIGINS, the key being on the curve) is
// checked by the route after this schema.
import * as v from "valibot";

/** The bytes of a base64url text (padding allowed, as browsers differ), or null when it is not base64url. */
export function base64UrlBytes(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return null;
  try {
    return Uint8Array.from(atob(text.replace(/=+$/, "").replaceAll("-", "+").replaceAll("_", "/")), (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

const base64Url = (check: (bytes: Uint8Array) => boolean, message: string) =>
  v.pipe(
    v.string(),
    v.check((text) => {
      const bytes = base64UrlBytes(text);
      return bytes !== null && check(bytes);
    }, message),
  );

export const webPushSubscription = v.strictObject({
  endpoint: v.pipe(v.string(), v.url("must be a URL")),
  // PushSubscription.toJSON() has it; it is accepted and ignored.
  expirationTime: v.optional(v.nullable(v.number())),
  keys: v.strictObject({
    p256dh: base64Url(
      (bytes) => bytes.length === 65 && bytes[0] === 0x04,
      "must be base64url of a 65-byte uncompressed P-256 point",
    ),
    auth: base64Url((bytes) => bytes.length === 16, "must be base64url of 16 bytes"),
  }),
});
export type WebPushSubscription = v.InferOutput<typeof webPushSubscription>;

const fcmRegistration = v.strictObject({
  token: v.pipe(v.string(), v.minLength(1, "must not be empty"), v.maxLength(4096, "must be at most 4096 characters")),
});
const apnsRegistration = v.strictObject({
  token: v.pipe(v.string(), v.regex(/^[0-9A-Fa-f]{64,200}$/, "must be 64-200 hex digits")),
});

export const pushRegistrationBody = v.pipe(
  v.strictObject({
    webpush: v.optional(webPushSubscription),
    fcm: v.optional(fcmRegistration),
    apns: v.optional(apnsRegistration),
  }),
  v.metadata({ oneOf: [{ required: ["webpush"] }, { required: ["fcm"] }, { required: ["apns"] }] }),
  v.check(
    (body) => [body.webpush, body.fcm, body.apns].filter((channel) => channel !== undefined).length === 1,
    "give exactly one of webpush, fcm and apns",
  ),
  v.transform(
    (body): PushRegistration =>
      body.webpush
        ? { channel: "webpush", subscription: { endpoint: body.webpush.endpoint, keys: body.webpush.keys } }
        : body.fcm
          ? { channel: "fcm", token: body.fcm.token }
          : { channel: "apns", token: body.apns!.token },
  ),
);

/** A device's push channel, as stored. */
export type PushRegistration =
  | { channel: "webpush"; subscription: Omit<WebPushSubscription, "expirationTime"> }
  | { channel: "fcm"; token: string }
  | { channel: "apns"; token: string };
