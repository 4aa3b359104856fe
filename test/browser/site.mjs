// The app's origin in the browser tests: a static server on another port than postbox's (so another
// origin, as an app's is), serving the test pages (test/browser/pages/) and the built client
// (client/dist/ under /client/, and the service worker also at /postbox-sw.js, whose scope is then /).
import { existsSync, readFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const TYPES = { ".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8", ".map": "application/json" };

/** Where a path's file is, or null. */
function fileOf(path) {
  const inside = (folder, rest) => {
    const file = normalize(join(folder, rest));
    return file.startsWith(folder) && existsSync(file) ? file : null;
  };
  if (path === "/postbox-sw.js") return join(root, "client/dist/postbox-sw.js");
  if (path.startsWith("/client/")) return inside(join(root, "client/dist/"), path.slice("/client/".length));
  return inside(join(root, "test/browser/pages/"), path.slice(1));
}

/** Starts the site on a free port; answers its origin and close(). */
export async function startSite() {
  if (!existsSync(join(root, "client/dist/postbox.js"))) throw new Error("client/dist is not built: npm run build:client");
  const server = createServer((request, response) => {
    const file = fileOf(new URL(request.url, "http://site").pathname);
    if (!file) return response.writeHead(404).end();
    response.writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    response.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
}
