// The tests' stand-in push services (test/push-services/: Web Push decrypted with http_ece and its
// VAPID token verified with jose, FCM with its OAuth token endpoint, APNs over HTTP/1.1), started in
// the bench's own process on a loopback port. The Worker's push settings point at them (`settings`);
// the bench registers devices with the subscriptions and tokens they issue (`registration`) and
// watches, in-process, each push arrive there once its checks passed and each answer go out.
import { performance } from "node:perf_hooks";
import { newVapidKeys } from "../scripts/vapid-keys.mjs";
import { startPushServices } from "../test/push-services/server.mjs";

export const CHANNELS = ["webpush", "fcm", "apns"];

/** The seq a push is of, whichever frame it carries. */
const seqOf = ({ payload }) => (payload?.type === "personal" ? payload.message.seq : payload?.seq);

export async function startPushStandIn() {
  /** By kind, then target: every event, { at (performance.now()), seq, status }, in order. */
  const events = { received: new Map(), answered: new Map() };
  /** Nothing in the bench is meant to be refused: one refusal fails every wait. */
  const refusals = [];
  const waiting = new Set();
  const note = (kind) => (target, entry) => {
    if (!events[kind].has(target)) events[kind].set(target, []);
    events[kind].get(target).push({ at: performance.now(), seq: seqOf(entry), status: entry.status });
    for (const check of waiting) check();
  };
  const refused = (target, refusal) => {
    refusals.push({ target, ...refusal });
    for (const check of waiting) check();
  };
  const services = await startPushServices({ observe: { received: note("received"), answered: note("answered"), refused } });
  const { origin } = services;
  const vapid = await newVapidKeys();
  const { apns } = services.credentials;

  async function control(path, { method = "POST", json } = {}) {
    const response = await fetch(`${origin}/control/${path}`, {
      method,
      ...(json !== undefined && { headers: { "content-type": "application/json" }, body: JSON.stringify(json) }),
    });
    if (!response.ok) throw new Error(`push stand-in ${path} answered ${response.status}: ${await response.text()}`);
    return response.status === 204 ? undefined : response.json();
  }

  return {
    origin,
    /** The Worker's vars for all three channels, pointed here. */
    settings: {
      WEBPUSH_ORIGINS: origin,
      VAPID_PUBLIC_KEY: vapid.publicKey,
      VAPID_PRIVATE_KEY: vapid.privateKey,
      VAPID_SUBJECT: "mailto:bench@postbox.test",
      FCM_SERVICE_ACCOUNT: services.credentials.fcmServiceAccount,
      FCM_ENDPOINT: origin,
      APNS_KEY: apns.key,
      APNS_KEY_ID: apns.keyId,
      APNS_TEAM_ID: apns.teamId,
      APNS_TOPIC: apns.topic,
      APNS_ENDPOINT: origin,
    },

    /** A device's registration body for PUT /v1/push, issued here as a browser or an app gets it, and its target. */
    async registration(channel) {
      if (channel === "webpush") {
        const subscription = await control("webpush/subscriptions", { json: { applicationServerKey: vapid.publicKey } });
        return { body: { webpush: subscription }, target: subscription.endpoint };
      }
      const { token } = await control(`${channel}/tokens`);
      return { body: { [channel]: { token } }, target: token };
    },

    /** The target's next requests are answered with these faults (test/push-services/targets.mjs). */
    setFaults: (target, faults) => control("faults", { method: "PUT", json: { target, faults } }),

    /** The target's events of `kind` ("received" or "answered") so far. */
    eventsOf: (kind, target) => events[kind].get(target) ?? [],

    /** Resolves once `done()` holds, re-checked at every event; rejects at a refusal, or after `timeoutMs`. */
    until(done, what, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (refusals.length > 0) {
            finish();
            reject(new Error(`push stand-in refused ${refusals.length} request(s), waiting for ${what}: ${JSON.stringify(refusals.slice(0, 3))}`));
          } else if (done()) {
            finish();
            resolve();
          }
        };
        const timer = setTimeout(() => {
          finish();
          reject(new Error(`push stand-in: no ${what} within ${timeoutMs / 1000} s`));
        }, timeoutMs);
        const finish = () => {
          clearTimeout(timer);
          waiting.delete(check);
        };
        waiting.add(check);
        check();
      });
    },

    close: services.close,
  };
}
