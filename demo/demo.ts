// The demo page (/demo): the publisher forms and the live inbox of one user's device, on the client
// package as an app would use it. Who and which device come from the address (?user=&device=&region=),
// so "Open another device" is this page with another device id.
import { Postbox, webStorage, type Status } from "/client/postbox.js";
import { mintToken, publisher } from "./api.ts";
import { InboxView } from "./inbox.ts";
import { startPublisher } from "./publisher.ts";

const input = (id: string) => document.getElementById(id) as HTMLInputElement;
const newDevice = () => `tab-${crypto.randomUUID().slice(0, 6)}`;

const query = new URLSearchParams(location.search);
const user = query.get("user") || "alice";
const device = query.get("device") || newDevice();
const region = query.get("region") ?? "eu";
// The address names the device, so a reload is the same device (its cursors are in localStorage).
history.replaceState(null, "", pageFor(device));

function pageFor(deviceId: string) {
  const params = new URLSearchParams({ user, device: deviceId, ...(region && { region }) });
  return `${location.pathname}?${params}`;
}

function log(text: string) {
  const line = document.createElement("li");
  line.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  document.getElementById("log")!.prepend(line);
}

function showStatus(status: Status) {
  const badge = document.getElementById("status")!;
  badge.textContent = status;
  badge.dataset.status = status;
}

/** The client asks for a token per request and connection: one is minted and kept until near its end. */
let token: { value: Promise<string>; until: number } | undefined;
function currentToken() {
  if (!token || token.until < Date.now()) {
    token = { value: mintToken({ user, device }), until: Date.now() + 23 * 3_600_000 };
    token.value.catch(() => (token = undefined));
  }
  return token.value;
}

type DeviceOutcomes = { devices: Record<string, { outcome: string }> };

/** postbox's record of how the message first reached this device; asked again while it is pending. */
async function showOutcome(seq: number, attempt = 0): Promise<void> {
  const view = (await publisher("GET", `users/${encodeURIComponent(user)}/messages/${seq}`).catch(() => null)) as DeviceOutcomes | null;
  const outcome = view?.devices[device]?.outcome ?? "pending";
  inbox.setOutcome(seq, outcome);
  if (outcome === "pending" && attempt < 6) setTimeout(() => void showOutcome(seq, attempt + 1), 250 * 2 ** attempt);
}

const inbox = new InboxView((seq) => {
  postbox.read([seq]).then(
    () => {
      inbox.markRead([seq]);
      void showOutcome(seq);
    },
    (error: unknown) => log(`read failed: ${String(error)}`),
  );
});

const postbox = new Postbox({
  url: location.origin,
  token: currentToken,
  device,
  ...(region && { region }),
  storage: webStorage(localStorage),
  onMessage: (delivered) => {
    inbox.add(delivered, delivered.via);
    // Recorded when the acknowledgement arrives, which follows this handler.
    if (delivered.kind === "personal") setTimeout(() => void showOutcome(delivered.message.seq), 300);
  },
  onRead: ({ seqs }) => inbox.markRead(seqs),
  onRetract: (ref) => {
    inbox.remove(ref);
    log(`retracted ${"seq" in ref ? `personal #${ref.seq}` : `announcement ${ref.region} #${ref.id}`}`);
  },
  onStatus: showStatus,
  onError: (error) => log(`error: ${error.message}`),
});

async function enablePush() {
  try {
    // The scope /demo covers the page at /demo as well as /demo/ (the Worker allows it: Service-Worker-Allowed).
    const registration = await navigator.serviceWorker.register("/demo/sw.js", { scope: "/demo" });
    await postbox.subscribeWebPush(registration);
    log("push is on for this device");
  } catch (error) {
    log(`push: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function start() {
  input("who-user").value = user;
  input("who-device").value = device;
  input("who-region").value = region;
  (document.getElementById("another-device") as HTMLAnchorElement).href = pageFor(newDevice());
  document.getElementById("enable-push")!.addEventListener("click", () => void enablePush());
  startPublisher({ user, region });
  // What is unread from before this page (handled messages are not delivered again), then live.
  postbox.unread().then(
    ({ messages }) => {
      for (const message of messages) {
        inbox.add({ kind: "personal", message }, "unread earlier");
        void showOutcome(message.seq);
      }
    },
    (error: unknown) => log(`unread: ${String(error)}`),
  );
  postbox.live();
}

start();
