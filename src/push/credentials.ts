// What each push channel needs from the deployment, and whether it has it. A
// channel without its configuration is off: registering for it is a 503
// naming what is missing, and nothing is pushed through it.
import type { Env } from "../config";
import type { PushChannel } from "./channel";

/** The settings and secrets each channel needs, by name. */
const needs = {
  webpush: ["VAPID_PUBLIC_KEY", "VAPID_PRIVATE_KEY", "VAPID_SUBJECT"],
  fcm: ["FCM_SERVICE_ACCOUNT"],
  apns: ["APNS_KEY", "APNS_KEY_ID", "APNS_TEAM_ID", "APNS_TOPIC"],
} as const satisfies Record<PushChannel, readonly (keyof Env)[]>;

/** The names a channel needs that this deployment has not set (an empty value is not set). */
export function missingFor(env: Env, channel: PushChannel): string[] {
  return needs[channel].filter((name) => !env[name]);
}

/** The key browsers subscribe with (applicationServerKey), or null while Web Push is off. */
export function vapidPublicKey(env: Env) {
  return missingFor(env, "webpush").length === 0 ? env.VAPID_PUBLIC_KEY : null;
}

/**
 * Whether a Web Push endpoint's origin is one postbox may post to: listed in
 * WEBPUSH_ORIGINS exactly, or under a listed `scheme://*.domain` by one or more labels.
 */
export function allowedPushEndpoint(origins: string[], endpoint: string) {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return false;
  }
  return origins.some((listed) => {
    const wildcard = listed.match(/^([^:]+:\/\/)\*\.(.+)$/);
    if (!wildcard) return url.origin === listed;
    const [, scheme, domain] = wildcard;
    return `${url.protocol}//` === scheme && url.port === "" && url.hostname.endsWith(`.${domain}`);
  });
}
