// The demo (src/edge/demo.ts): off unless DEMO is "on", where /demo serves the
// page and its helpers mint client tokens and publish through the admin routes.
import { env } from "cloudflare:workers";
import { decodeJwt } from "jose";
import { describe, expect, it } from "vitest";
import type { Env } from "../src/config";
import { expectLogged, expectProblem, fetchWithEnv, messagePath, unique, type InboxAnswer } from "./helpers";

const ON: Partial<Env> = { DEMO: "on" };

function postJson(overrides: Partial<Env>, path: string, body: unknown) {
  return fetchWithEnv(overrides, path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
}

/** A token from the demo's helper, for these claims. */
async function demoToken(claims: Record<string, unknown>) {
  const res = await postJson(ON, "/demo/api/token", claims);
  expect(res.status).toBe(200);
  return ((await res.json()) as { token: string }).token;
}

/** GET /v1/inbox with a token, through the Worker with the demo on (as `npm run dev` runs it). */
async function inboxWith(token: string, query = "") {
  return fetchWithEnv(ON, `/v1/inbox${query}`, { headers: { Authorization: `Bearer ${token}` } });
}

const DEMO_REQUESTS: [string, RequestInit][] = [
  ["/demo", {}],
  ["/demo/", {}],
  ["/demo/demo.js", {}],
  ["/demo/sw.js", {}],
  ["/demo/no-such-file", {}],
  ["/demo/api/token", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"user":"alice"}' }],
  ["/demo/api/admin/users/alice/messages", { method: "POST", headers: { "Content-Type": "application/json" }, body: '{"body":"hi"}' }],
  ["/demo/api/admin/users/alice", {}],
  ["/demo", { method: "POST" }],
];

describe("DEMO off (the default)", () => {
  it.each(DEMO_REQUESTS)("%s %o is the app's 404 problem", async (path, init) => {
    for (const overrides of [{}, { DEMO: "off" }, { DEMO: "" }]) {
      const body = await expectProblem(await fetchWithEnv(overrides, path, init), 404);
      expect(body.detail).toBe(`There is no route ${path}.`);
    }
  });

  it("publishes nothing through the proxy", async () => {
    const user = unique("off");
    await fetchWithEnv({}, `/demo/api/admin/users/${user}/messages`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: '{"body":"hi"}',
    });
    const view = await fetchWithEnv({}, messagePath(user, 1), { headers: { Authorization: `Bearer ${process.env.ADMIN_TOKEN}` } });
    await expectProblem(view, 404);
  });

  it('a DEMO other than "on" or "off" fails every request, naming it', async () => {
    const res = await expectLogged(/^postbox configuration: DEMO must be "on" or "off", got "yes"$/, () => fetchWithEnv({ DEMO: "yes" }, "/health"));
    expect((await expectProblem(res, 500)).detail).toContain("DEMO");
  });
});

describe("DEMO on: the page", () => {
  it.each(["/demo", "/demo/"])("%s serves the page, which loads its script by an absolute path", async (path) => {
    const res = await fetchWithEnv(ON, path);
    expect(res.status).toBe(200);
    expect(res.headers.get("Content-Type")).toMatch(/^text\/html/);
    expect(await res.text()).toContain('<script type="module" src="/demo/demo.js"></script>');
  });

  it("serves its script, and its service worker allowed to control /demo", async () => {
    const script = await fetchWithEnv(ON, "/demo/demo.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("Content-Type")).toMatch(/javascript/);
    const worker = await fetchWithEnv(ON, "/demo/sw.js");
    expect(worker.status).toBe(200);
    expect(worker.headers.get("Service-Worker-Allowed")).toBe("/demo");
    const clientWorker = await env.ASSETS.fetch("http://postbox.test/client/postbox-sw.js");
    expect(await worker.text()).toBe(await clientWorker.text());
  });

  it("a file that is not there is the app's 404 problem", async () => {
    const body = await expectProblem(await fetchWithEnv(ON, "/demo/no-such-file"), 404);
    expect(body.detail).toBe("There is no route /demo/no-such-file.");
  });

  it("a wrong method is the app's 405", async () => {
    const page = await fetchWithEnv(ON, "/demo", { method: "POST" });
    expect((await expectProblem(page, 405)).detail).toBe("/demo accepts GET, HEAD.");
    expect(page.headers.get("Allow")).toBe("GET, HEAD");
  });
});

describe("DEMO on: the token helper", () => {
  it("mints a client token that postbox accepts, with the device and region asked for", async () => {
    const user = unique("token");
    const token = await demoToken({ user, device: "tab-1", region: "bj" });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ sub: user, device: "tab-1", region: "bj" });
    expect(claims.exp! - claims.iat!).toBe(86_400);
    const res = await inboxWith(token);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ personal: [], region: "bj" });
  });

  it("leaves out the claims not asked for", async () => {
    const user = unique("token");
    expect(Object.keys(decodeJwt(await demoToken({ user }))).sort()).toEqual(["exp", "iat", "sub"]);
  });

  it.each([
    [{}, "user"],
    [{ user: "" }, "user"],
    [{ user: "alice", device: "not a device" }, "device"],
    [{ user: "alice", region: "" }, "region"],
  ])("%o is the contract's 400 naming %s", async (body, field) => {
    const problem = await expectProblem(await postJson(ON, "/demo/api/token", body), 400);
    expect(problem.errors?.map((error) => error.path)).toEqual([field]);
  });

  it("a body that is not JSON is the contract's 415 or 400", async () => {
    await expectProblem(await fetchWithEnv(ON, "/demo/api/token", { method: "POST", body: '{"user":"a"}' }), 415);
    const malformed = { method: "POST", headers: { "Content-Type": "application/json" }, body: "{" };
    await expectProblem(await fetchWithEnv(ON, "/demo/api/token", malformed), 400);
  });

  it("without CLIENT_JWT_SECRET is 503 naming it", async () => {
    const res = await postJson({ ...ON, CLIENT_JWT_SECRET: undefined }, "/demo/api/token", { user: "alice" });
    expect((await expectProblem(res, 503)).detail).toContain("CLIENT_JWT_SECRET");
  });
});

describe("DEMO on: the publisher proxy", () => {
  it("publishes with the admin token, and the demo's token polls the message", async () => {
    const user = unique("proxy");
    const published = await postJson(ON, `/demo/api/admin/users/${user}/messages`, { body: "from the demo" });
    expect(published.status).toBe(201);
    const { seq } = (await published.json()) as { seq: number };
    const inbox = await inboxWith(await demoToken({ user, device: "d1" }));
    expect(((await inbox.json()) as InboxAnswer).personal).toMatchObject([
      { seq, body: "from the demo" },
    ]);
    const view = await fetchWithEnv(ON, `/demo/api/admin/users/${user}/messages/${seq}`);
    expect(view.status).toBe(200);
    expect(await view.json()).toMatchObject({ seq });
  });

  it("passes the query and other methods on: announce, list, retract", async () => {
    const region = unique("r");
    const announced = await postJson(ON, "/demo/api/admin/announcements", { regions: [region], body: "news" });
    expect(announced.status).toBe(201);
    const listing = await fetchWithEnv(ON, `/demo/api/admin/regions/${region}/announcements?limit=1`);
    expect(listing.status).toBe(200);
    const retracted = await fetchWithEnv(ON, `/demo/api/admin/regions/${region}/announcements/1`, { method: "DELETE" });
    expect(retracted.status).toBe(200);
  });

  it("bad input is the publisher route's own 400, and publishes nothing", async () => {
    const user = unique("proxy");
    const problem = await expectProblem(await postJson(ON, `/demo/api/admin/users/${user}/messages`, { body: 5 }), 400);
    expect(problem.errors?.map((error) => error.path)).toEqual(["body"]);
    await expectProblem(await fetchWithEnv(ON, `/demo/api/admin/users/${user}/messages/1`), 404);
  });

  it("a path the publisher routes do not have is their 404", async () => {
    const body = await expectProblem(await fetchWithEnv(ON, "/demo/api/admin/nothing"), 404);
    expect(body.detail).toBe("There is no route /admin/v1/nothing.");
  });

  it("without ADMIN_TOKEN is the publisher routes' 503 naming it", async () => {
    const res = await postJson({ ...ON, ADMIN_TOKEN: undefined }, `/demo/api/admin/users/${unique("u")}/messages`, { body: "x" });
    expect((await expectProblem(res, 503)).detail).toContain("ADMIN_TOKEN");
  });
});
