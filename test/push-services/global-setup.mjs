// Vitest's globalSetup: the stand-in push services run for the whole test run, and vitest.config.ts
// gives postbox their origin and the credentials they issued (inject("pushServices")); so do the tests.
import { startPushServices } from "./server.mjs";

export default async function setup({ provide }) {
  const services = await startPushServices();
  provide("pushServices", { origin: services.origin, ...services.credentials });
  return services.close;
}
