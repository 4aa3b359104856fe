export type PushChannel = "webpush" | "fcm" | "apns";
