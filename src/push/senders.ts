// One push through a device's registration, with the channel's sender configured from the
// deployment's settings and secrets, read at each push (a channel may be turned off, or a setting
// changed, while registrations remain).
import { config, type Env } from "../config";
import type { PushRegistration } from "../shared/push-registration";
import { sendApns } from "./apns";
import type { PushAttempt, PushResult } from "./channel";
import { allowedPushEndpoint, missingFor } from "./credentials";
import { parseServiceAccount, sendFcm, type ServiceAccount } from "./fcm";
import { sendWebPush } from "./webpush";

/** The push could not be sent at all: the deployment no longer configures its channel, or no longer allows its endpoint. */
export type Unsendable = { outcome: "off"; reason: string };

/** A deployment has one service account: parsed once per text. */
let parsedAccount: { text: string; account: ServiceAccount } | undefined;

function serviceAccount(text: string) {
  if (parsedAccount?.text !== text) parsedAccount = { text, account: parseServiceAccount(text) };
  return parsedAccount.account;
}

/**
 * Sends `attempt` through `registration`. Throws a ConfigError when a secret is set but unusable (a
 * service account or key that does not parse or import), which no retry mends.
 */
export async function sendPush(env: Env, registration: PushRegistration, attempt: PushAttempt): Promise<PushResult | Unsendable> {
  const missing = missingFor(env, registration.channel);
  if (missing.length > 0) return { outcome: "off", reason: `${missing.join(", ")} not set` };
  switch (registration.channel) {
    case "webpush": {
      // Registration checked the endpoint's origin against the list as it was then.
      if (!allowedPushEndpoint(config(env).WEBPUSH_ORIGINS, registration.subscription.endpoint)) {
        return { outcome: "off", reason: "the endpoint's origin is not in WEBPUSH_ORIGINS" };
      }
      const vapid = { publicKey: env.VAPID_PUBLIC_KEY, privateKey: env.VAPID_PRIVATE_KEY, subject: env.VAPID_SUBJECT! };
      return sendWebPush(registration.subscription, attempt, vapid);
    }
    case "fcm":
      return sendFcm(registration.token, attempt, serviceAccount(env.FCM_SERVICE_ACCOUNT), env.FCM_ENDPOINT || undefined);
    case "apns": {
      const { APNS_KEY: key, APNS_KEY_ID: keyId, APNS_TEAM_ID: teamId, APNS_TOPIC: topic, APNS_ENDPOINT } = env;
      return sendApns(registration.token, attempt, { key, keyId: keyId!, teamId: teamId!, topic: topic!, endpoint: APNS_ENDPOINT || undefined });
    }
  }
}
