// Web Push registration: the browser's PushSubscription made with postbox's VAPID key and handed to
// postbox (PUT /v1/push), and the service worker told where to report arrivals (it keeps the config
// in IndexedDB, since it is stopped and started at any time). Also the pages' end of the service
// worker's messages: a push it received, handed to the client's handlers as `via: "push"`.
import { base64UrlBytes } from "./base64url.ts";
import { PostboxError } from "./errors.ts";
import type { PostboxHttp } from "./http.ts";
import type { PersonalMessage } from "./types.ts";
import type { PageMessage, WorkerConfig } from "./worker-messages.ts";

export interface PushSubscriptionLike {
  toJSON(): unknown;
  unsubscribe(): Promise<boolean>;
  readonly options?: { readonly applicationServerKey?: ArrayBuffer | null };
}

type WorkerLike = { postMessage(message: unknown): void };

/** The part of a ServiceWorkerRegistration used here. */
export interface ServiceWorkerRegistrationLike {
  readonly pushManager: {
    getSubscription(): Promise<PushSubscriptionLike | null>;
    subscribe(options: { userVisibleOnly: boolean; applicationServerKey: Uint8Array<ArrayBuffer> }): Promise<PushSubscriptionLike>;
  };
  readonly active?: WorkerLike | null;
  readonly waiting?: WorkerLike | null;
  readonly installing?: WorkerLike | null;
}


const sameBytes = (key: ArrayBuffer | null | undefined, expected: Uint8Array) =>
  key != null && key.byteLength === expected.length && new Uint8Array(key).every((byte, i) => byte === expected[i]);

/** The registration's subscription to postbox's VAPID key (a subscription to another key is replaced), registered with postbox. */
export async function subscribeWebPush(http: PostboxHttp, registration: ServiceWorkerRegistrationLike) {
  const { vapidPublicKey } = await http.pushChannel();
  if (vapidPublicKey === null) {
    const detail = "GET /v1/push answered vapidPublicKey null: this postbox has no VAPID keys.";
    throw new PostboxError(503, { type: "about:blank", title: "Web Push is not configured", status: 503, detail });
  }
  const applicationServerKey = base64UrlBytes(vapidPublicKey);
  let subscription = await registration.pushManager.getSubscription();
  if (subscription && !sameBytes(subscription.options?.applicationServerKey, applicationServerKey)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey });
  return http.registerPush({ webpush: subscription.toJSON() });
}

/** DELETE /v1/push, and the browser's subscription with it. */
export async function unsubscribeWebPush(http: PostboxHttp, registration: ServiceWorkerRegistrationLike | undefined) {
  const answer = await http.unregisterPush();
  await (await registration?.pushManager.getSubscription())?.unsubscribe();
  return answer;
}

export function postConfig(registration: ServiceWorkerRegistrationLike, config: WorkerConfig) {
  (registration.active ?? registration.waiting ?? registration.installing)?.postMessage(config);
}

type ServiceWorkerContainerLike = {
  addEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: "message", listener: (event: { data: unknown }) => void): void;
  getRegistration?(): Promise<ServiceWorkerRegistrationLike | undefined>;
};

/** navigator.serviceWorker where there is one (a browser page in a secure context). */
export const serviceWorkers = () =>
  (globalThis as { navigator?: { serviceWorker?: ServiceWorkerContainerLike } }).navigator?.serviceWorker;

/** Listens for the service worker's {type: "postbox:push", message}; returns the function that stops listening. */
export function listenForPushes(onPush: (message: PersonalMessage) => void): () => void {
  const container = serviceWorkers();
  if (!container) return () => {};
  const listener = ({ data }: { data: unknown }) => {
    const posted = data as Partial<PageMessage> | null;
    if (posted?.type === "postbox:push" && posted.message) onPush(posted.message);
  };
  container.addEventListener("message", listener);
  return () => container.removeEventListener("message", listener);
}
