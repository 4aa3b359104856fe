import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { configDefaults, defineConfig } from "vitest/config";
import { newVapidKeys } from "./scripts/vapid-keys.mjs";
import { DEFAULT_WEBPUSH_ORIGINS } from "./src/config.ts";

const vapid = await newVapidKeys();

// Every push channel is on, pointed at the stand-in push services (test/push-services/), which
// globalSetup starts on a free port before the runtime: their origin and the credentials they issued
// come in through inject(). A test of a channel that is off gives the object other settings
// (clientWithEnv, test/config.test.ts).
//
// The secrets are bindings (so a developer's .dev.vars never leaks in) and also in the environment,
// where wrangler looks for the secrets wrangler.toml lists; the tests read them back from `env`.
export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => {
      const { origin, fcmServiceAccount, apns } = inject("pushServices");
      const secrets = {
        ADMIN_TOKEN: "test-admin-token",
        CLIENT_JWT_SECRET: "test-client-secret",
        VAPID_PUBLIC_KEY: vapid.publicKey,
        VAPID_PRIVATE_KEY: vapid.privateKey,
        FCM_SERVICE_ACCOUNT: fcmServiceAccount,
        APNS_KEY: apns.key,
      };
      Object.assign(process.env, secrets);
      const settings = {
        VAPID_SUBJECT: "mailto:tests@postbox.test",
        WEBPUSH_ORIGINS: `${DEFAULT_WEBPUSH_ORIGINS},${origin}`,
        FCM_ENDPOINT: origin,
        APNS_ENDPOINT: origin,
        APNS_KEY_ID: apns.keyId,
        APNS_TEAM_ID: apns.teamId,
        APNS_TOPIC: apns.topic,
      };
      return { wrangler: { configPath: "./wrangler.toml" }, miniflare: { bindings: { ...secrets, ...settings } } };
    }),
  ],
  // A test that starts many objects (a stats query asks all 256 shards) takes seconds on a busy machine:
  // the limit is only there to stop a test that hangs.
  // test/browser/ runs under Node (node --test), against wrangler dev and Chromium.
  test: {
    globalSetup: ["./test/push-services/global-setup.mjs"],
    testTimeout: 30_000,
    exclude: [...configDefaults.exclude, "test/browser/**"],
  },
});

// wrangler says where it found the secrets once per test file; its warnings and errors still show.
process.env.WRANGLER_LOG ??= "warn";
