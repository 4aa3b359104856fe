// postbox-client: poll, live delivery (WebSocket or Server-Sent Events), acknowledgement after the
// app's handler, read receipts and read sync, and Web Push registration, for browsers, Node 22 and
// React Native. The service worker is the package's other entry (./service-worker).
export { Postbox } from "./postbox.ts";
export { PostboxError } from "./errors.ts";
export { memoryStorage, webStorage, type PostboxStorage, type WebStorageLike } from "./storage.ts";
export type { PushSubscriptionLike, ServiceWorkerRegistrationLike } from "./push.ts";
export type { PageMessage, WorkerConfig } from "./worker-messages.ts";
export type {
  Announcement,
  Delivered,
  FetchLike,
  InboxAnswer,
  PersonalMessage,
  PostboxOptions,
  Problem,
  PushPayload,
  ReadSync,
  Retracted,
  Status,
  TokenSource,
  UnreadAnswer,
  Via,
  WebSocketConstructor,
  WebSocketLike,
} from "./types.ts";
