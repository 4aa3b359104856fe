// The body of PUT /v1/push: one push channel for the requesting device, as
// the contract's "Push channels" gives it. What depends on the deployment
// (the endpoint's origin in WEBPUSH_ORIGINS, the key being on the curve) is
// checked by the route after this schema.
import * as v from "valibot";

// The keys' lengths and curve are checked where they are imported (src/push/subscription-keys.ts).
const base64Url = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]*={0,2}$/, "must be base64url"));

export const webPushSubscription = v.strictObject({
  endpoint: v.pipe(v.string(), v.url("must be a URL")),
  // PushSubscription.toJSON() has it; it is accepted and ignored.
  expirationTime: v.optional(v.nullable(v.number())),
  keys: v.strictObject({
    p256dh: v.pipe(base64Url, v.description("base64url of a 65-byte uncompressed P-256 point")),
    auth: v.pipe(base64Url, v.description("base64url of 16 bytes")),
  }),
});
/** A subscription as postbox keeps and uses it: the endpoint and the keys. */
export type WebPushSubscription = Omit<v.InferOutput<typeof webPushSubscription>, "expirationTime">;

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
  | { channel: "webpush"; subscription: WebPushSubscription }
  | { channel: "fcm"; token: string }
  | { channel: "apns"; token: string };
