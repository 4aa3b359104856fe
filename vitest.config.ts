import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { newVapidKeys } from "./scripts/vapid-keys.mjs";

// Test secrets; the tests read them back from `env`, so nothing else repeats
// them. They are bindings (so a developer's .dev.vars never leaks in) and also
// in the environment, where wrangler looks for the secrets wrangler.toml lists.
// Web Push is configured; FCM and APNs are off unless a test gives them settings.
const secrets = {
  ADMIN_TOKEN: "test-admin-token",
  CLIENT_JWT_SECRET: "test-client-secret",
  ...(await newVapidKeys().then(({ publicKey, privateKey }) => ({ VAPID_PUBLIC_KEY: publicKey, VAPID_PRIVATE_KEY: privateKey }))),
  FCM_SERVICE_ACCOUNT: "",
  APNS_KEY: "",
};
Object.assign(process.env, secrets);
// wrangler says where it found them once per test file; its warnings and errors still show.
process.env.WRANGLER_LOG ??= "warn";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      miniflare: { bindings: { ...secrets, VAPID_SUBJECT: "mailto:tests@postbox.test" } },
    }),
  ],
});
