// The browser tests' world, for each test file to start once: the stand-in push services
// (test/push-services/), postbox on `wrangler dev` (postbox-server.mjs), the app's site on another
// origin (site.mjs) and headless Chromium (chromium.mjs). Each part is exported too.
import { startPushServices } from "../push-services/server.mjs";
import { launchChromium } from "./chromium.mjs";
import { startPostbox } from "./postbox-server.mjs";
import { startSite } from "./site.mjs";

export { browserMissing, launchChromium } from "./chromium.mjs";
export { freePort, startPostbox } from "./postbox-server.mjs";
export { startSite } from "./site.mjs";
export { waitFor } from "./wait.mjs";
export { startPushServices };

/** Starts everything; `vars`: settings for postbox (as --var gives them). close() stops it all. */
export async function startWorld({ vars } = {}) {
  const push = await startPushServices();
  const [postbox, site, browser] = await Promise.all([startPostbox({ pushOrigin: push.origin, vars }), startSite(), launchChromium()]);
  return {
    push,
    postbox,
    site,
    browser,
    close: () => Promise.all([browser.close(), postbox.close(), site.close(), push.close()]),
  };
}

/** The stand-in Web Push service's control API (test/push-services/server.mjs) from Node. */
export function webPushControl(origin) {
  const control = async (path, init) => {
    const res = await fetch(`${origin}/control/${path}`, init);
    if (!res.ok) throw new Error(`push stand-in ${path} answered ${res.status}: ${await res.text()}`);
    return res.json();
  };
  return {
    /** A subscription as a browser's PushManager makes one (PushSubscription.toJSON()). */
    subscribe: (applicationServerKey) =>
      control("webpush/subscriptions", { method: "POST", body: JSON.stringify({ applicationServerKey }) }),
    /** What the endpoint received: each push's decrypted payload and more (`received`), and refusals. */
    log: (endpoint) => control(`log?target=${encodeURIComponent(endpoint)}`),
  };
}
