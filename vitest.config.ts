import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.toml" },
      // Test secrets; the tests read them back from `env`, so nothing else repeats them.
      miniflare: { bindings: { ADMIN_TOKEN: "test-admin-token", CLIENT_JWT_SECRET: "test-client-secret" } },
    }),
  ],
});
