import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

/** A fresh VAPID key pair, as `npm run dev` makes one: the raw public point and the private scalar, base64url. */
async function vapidKeys() {
  const pair = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"])) as CryptoKeyPair;
  const raw = new Uint8Array((await crypto.subtle.exportKey("raw", pair.publicKey)) as ArrayBuffer);
  const jwk = (await crypto.subtle.exportKey("jwk", pair.privateKey)) as JsonWebKey;
  const base64Url = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  return { VAPID_PUBLIC_KEY: base64Url(raw), VAPID_PRIVATE_KEY: jwk.d! };
}

// Test secrets; the tests read them back from `env`, so nothing else repeats
// them. They are bindings (so a developer's .dev.vars never leaks in) and also
// in the environment, where wrangler looks for the secrets wrangler.toml lists.
// Web Push is configured; FCM and APNs are off unless a test gives them settings.
const secrets = {
  ADMIN_TOKEN: "test-admin-token",
  CLIENT_JWT_SECRET: "test-client-secret",
  ...(await vapidKeys()),
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
