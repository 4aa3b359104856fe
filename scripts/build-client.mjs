// Builds what browsers load: the client package (client/dist: the ES module postbox.js, its types and
// the service worker postbox-sw.js, a classic script so that it can be registered directly or pulled in
// with importScripts) and the Worker's static assets (.assets: the same two files under /client/, and
// the demo page under /demo/). Run by `npm run build`, by wrangler before `wrangler dev` and deploy
// ([build] in wrangler.toml), and by `npm install` (prepare), so a fresh clone has the built client.
import { execFileSync } from "node:child_process";
import { build } from "esbuild";
import { cpSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
process.chdir(root);

const common = { bundle: true, target: "es2022", sourcemap: true, legalComments: "none", logLevel: "warning" };
rmSync("client/dist", { recursive: true, force: true });
rmSync(".assets", { recursive: true, force: true });
await Promise.all([
  build({ ...common, entryPoints: ["client/src/index.ts"], format: "esm", outfile: "client/dist/postbox.js" }),
  build({ ...common, entryPoints: ["client/src/service-worker.ts"], format: "iife", outfile: "client/dist/postbox-sw.js" }),
  build({ ...common, entryPoints: ["demo/demo.ts"], format: "esm", outfile: ".assets/demo/demo.js", external: ["/client/*"] }),
]);
// The package's declaration files (client/dist/types), from the same sources.
execFileSync("node_modules/.bin/tsc", ["-p", "client/tsconfig.build.json"], { stdio: "inherit" });
mkdirSync(".assets/client", { recursive: true });
cpSync("client/dist", ".assets/client", { recursive: true, filter: (path) => !path.includes("/dist/types") });
cpSync("demo/index.html", ".assets/demo/index.html");
// The demo registers the service worker from its own folder, so that it can control the page.
cpSync("client/dist/postbox-sw.js", ".assets/demo/sw.js");
// Pages on other origins import the client from here (a module script needs CORS).
writeFileSync(".assets/_headers", "/client/*\n  Access-Control-Allow-Origin: *\n");
