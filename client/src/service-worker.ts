// The postbox service worker (built to client/dist/postbox-sw.js, a classic script): registered as it is,
// or pulled into an app's own worker with importScripts(). On a push from postbox it shows the message
// as a notification, reports its arrival, and tells the app's open pages; a poll push fetches the
// message first; a retract push closes its notification; a click opens or focuses the app.
//
// An app may shape the notifications and the page a click opens by setting, before importScripts():
//   self.postboxServiceWorker = { notification: (message) => ({ title, options }), openUrl: "/inbox",
//                                 token: () => fetch("/api/postbox-token").then((answer) => answer.text()) };
// The page's client hands the worker postbox's URL, a token and the device (subscribeWebPush), which the
// worker keeps in IndexedDB: the browser stops and restarts a worker whenever it likes.
import type { PushPayload } from "../../src/shared/frames";
import type { PersonalMessage } from "../../src/shared/schema";
import { PostboxError } from "./errors";
import { PostboxHttp } from "./http";
import type { PageMessage, WorkerConfig } from "./worker-messages";

export interface PostboxServiceWorkerOptions {
  notification?: (message: PersonalMessage) => { title: string; options?: NotificationOptions };
  openUrl?: string | ((message: PersonalMessage) => string);
  /** A fresh client token (e.g. from the app's backend, with its session cookie), asked for when postbox answers 401. */
  token?: () => string | Promise<string>;
}

declare const self: ServiceWorkerGlobalScope & { postboxServiceWorker?: PostboxServiceWorkerOptions };

const tagOf = (seq: number) => `postbox:${seq}`;

self.addEventListener("message", (event) => {
  const data = event.data as Partial<WorkerConfig> | null;
  if (data?.type !== "postbox:config") return;
  const { url, token, device } = data;
  if (typeof url !== "string" || typeof token !== "string" || typeof device !== "string") return;
  event.waitUntil(saveConfig({ type: data.type, url, token, device }));
});

self.addEventListener("push", (event) => {
  let payload: PushPayload;
  try {
    payload = event.data?.json() as PushPayload;
  } catch {
    return; // not postbox's: another part of the app's worker may handle it
  }
  if (payload?.type === "personal") event.waitUntil(arrivedByPush(payload.message));
  else if (payload?.type === "poll") event.waitUntil(fetchAndShow(payload.seq));
  else if (payload?.type === "retract") event.waitUntil(closeNotifications(payload.seq));
});

// The browser's push service replaced (or dropped) the subscription: without registering the new one,
// postbox would go on pushing to a dead endpoint until a push service answered 404/410.
self.addEventListener("pushsubscriptionchange", (event) => {
  const change = event as PushSubscriptionChange;
  change.waitUntil(resubscribe(change));
});

self.addEventListener("notificationclick", (event) => {
  const message = (event.notification.data as { postbox?: PersonalMessage } | null)?.postbox;
  if (!message) return;
  event.notification.close();
  event.waitUntil(openApp(message));
});

async function arrivedByPush(message: PersonalMessage) {
  await show(message);
  await Promise.all([reportArrived(message.seq), tellPages({ type: "postbox:push", message })]);
}

/** A poll push: the message was too big to push. It is fetched from the device's unread messages. */
async function fetchAndShow(seq: number) {
  const message = await unreadMessage(seq).catch((error: unknown) => {
    console.warn("postbox: could not fetch the pushed message", error);
    return undefined;
  });
  if (message) await arrivedByPush(message);
  else await self.registration.showNotification("New message", { tag: tagOf(seq) });
}

async function unreadMessage(seq: number) {
  const answer = await postbox((http) => http.unread(500));
  return answer?.messages.find((message) => message.seq === seq);
}

function show(message: PersonalMessage) {
  const custom = self.postboxServiceWorker?.notification?.(message);
  const title = custom?.title ?? message.title ?? "New message";
  // The tag and data are postbox's: a retract push finds the notification by its tag, a click by its data.
  return self.registration.showNotification(title, {
    body: message.body,
    ...custom?.options,
    tag: tagOf(message.seq),
    data: { postbox: message },
  });
}

async function reportArrived(seq: number) {
  await postbox((http) => http.arrived([seq])).catch((error: unknown) => {
    console.warn("postbox: could not report the arrival of", seq, error);
  });
}

/** The event's own type, which not every lib declares (and not every browser fills in). */
interface PushSubscriptionChange extends ExtendableEvent {
  readonly newSubscription?: PushSubscription | null;
  readonly oldSubscription?: PushSubscription | null;
}

async function resubscribe({ newSubscription, oldSubscription }: PushSubscriptionChange) {
  const applicationServerKey = oldSubscription?.options.applicationServerKey;
  const subscription =
    newSubscription ??
    (applicationServerKey ? await self.registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey }) : null);
  if (!subscription) return; // nothing to subscribe with: the page's next subscribeWebPush registers one
  await postbox((http) => http.registerPush({ webpush: subscription.toJSON() })).catch((error: unknown) => {
    console.warn("postbox: could not register the new push subscription", error);
  });
}

async function closeNotifications(seq: number) {
  for (const notification of await self.registration.getNotifications({ tag: tagOf(seq) })) notification.close();
}

async function tellPages(message: PageMessage) {
  // Pages that registered the worker are not always controlled by it (the first load, a hard reload).
  for (const page of await self.clients.matchAll({ type: "window", includeUncontrolled: true })) page.postMessage(message);
}

async function openApp(message: PersonalMessage) {
  const openUrl = self.postboxServiceWorker?.openUrl;
  const url = new URL(typeof openUrl === "function" ? openUrl(message) : (openUrl ?? self.registration.scope), self.registration.scope).href;
  const pages = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const open = pages.find((page) => page.url === url) ?? pages[0];
  const page = open ? await open.focus() : await self.clients.openWindow(url);
  page?.postMessage({ type: "postbox:click", message } satisfies PageMessage);
}

/**
 * A call to postbox with the config the page gave, through the client's own HTTP calls; null (and
 * nothing sent) before there is one. A 401 (the page's token expired while the worker slept) is tried
 * once more with a token from the app's own `token` option, when it has one.
 */
async function postbox<T>(use: (http: PostboxHttp) => Promise<T>): Promise<T | null> {
  const config = await loadConfig();
  if (!config) return null;
  try {
    return await use(httpFor(config));
  } catch (error) {
    const renew = self.postboxServiceWorker?.token;
    if (!(error instanceof PostboxError && error.status === 401 && renew)) throw error;
    const renewed = { ...config, token: await renew() };
    await saveConfig(renewed);
    return use(httpFor(renewed));
  }
}

const httpFor = ({ url, token, device }: WorkerConfig) => new PostboxHttp(url, token, device, (input, init) => fetch(input, init));

// ---- the config, in IndexedDB (db "postbox", store "config") and in memory while the worker runs ----

const CONFIG_KEY = "config";
let config: Promise<WorkerConfig | undefined> | undefined;

function saveConfig(value: WorkerConfig) {
  config = Promise.resolve(value);
  return inStore("readwrite", (store) => store.put(value, CONFIG_KEY));
}

function loadConfig() {
  config ??= inStore("readonly", (store) => store.get(CONFIG_KEY) as IDBRequest<WorkerConfig | undefined>);
  return config;
}

function inStore<T>(mode: IDBTransactionMode, use: (store: IDBObjectStore) => IDBRequest<T>) {
  return new Promise<T>((resolve, reject) => {
    const opening = indexedDB.open("postbox", 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore("config");
    opening.onerror = () => reject(opening.error);
    opening.onsuccess = () => {
      const db = opening.result;
      const transaction = db.transaction("config", mode);
      const request = use(transaction.objectStore("config"));
      transaction.oncomplete = () => {
        db.close();
        resolve(request.result);
      };
      transaction.onerror = () => {
        db.close();
        reject(transaction.error);
      };
    };
  });
}
