// node scripts/demo-screenshot.mjs: makes docs/demo.png again, the demo page with a few messages in it.
// Runs postbox on wrangler dev with DEMO on and headless Chromium as the browser tests do (their
// harness, test/browser/), on storage of its own; build the client first (npm run build:client).
import { fileURLToPath } from "node:url";
import { launchChromium, startPostbox } from "../test/browser/harness.mjs";

const output = fileURLToPath(new URL("../docs/demo.png", import.meta.url));
const [user, region] = ["alice", "eu"];

const [postbox, browser] = await Promise.all([startPostbox({ vars: { DEMO: "on" } }), launchChromium()]);
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(`${postbox.origin}/demo?user=${user}&device=laptop&region=${region}`);
  await page.locator("#status[data-status=live]").waitFor();

  /** Publishes with the page's own form and waits for the inbox to show the message. */
  async function publish(form, fields, shown) {
    for (const [name, value] of Object.entries(fields)) await page.fill(`#${form} [name=${name}]`, value);
    await page.click(`#${form} button`);
    await page.locator("#messages .message", { hasText: shown }).waitFor();
  }
  await publish("personal", { title: "Welcome", body: "Thanks for signing up!" }, "Thanks for signing up");
  await publish("announcement", { title: "Maintenance", body: "Tonight 02:00-02:30 UTC" }, "Tonight");
  await publish("personal", { title: "Your order shipped", body: "Order 42 is on its way" }, "Order 42");
  await page.locator("#messages .message.personal button.read").last().click();
  await page.locator("#messages .message.read").waitFor();
  await page.waitForFunction(() => [...document.querySelectorAll(".outcome")].every((tag) => !tag.textContent.endsWith("…")));
  // The last answer shown is the publish; the page scrolled nowhere.
  await page.screenshot({ path: output });
  console.log(`wrote ${output}`);
} finally {
  await Promise.all([browser.close(), postbox.close()]);
}
