// CORS on the client routes only: preflights answered before authentication,
// every client answer (errors included) carries Allow-Origin and exposes
// Retry-After; with CORS_ORIGINS a list, only listed origins are echoed.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { admin, call, client, clientText, clientToken, fetchWithEnv, publish, unique } from "./helpers";

const ORIGIN = "https://app.example";

function preflight(path: string, origin = ORIGIN, method = "GET") {
  return {
    path,
    init: {
      method: "OPTIONS",
      headers: {
        Origin: origin,
        "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type",
      },
    } satisfies RequestInit,
  };
}

const list = (value: string | null) =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim().toLowerCase())
    .filter(Boolean)
    .sort();

function corsHeaderNames(res: Response) {
  return [...res.headers.keys()].filter((name) => name.toLowerCase().startsWith("access-control-"));
}

/** A client answer with this status, allowing `origin` and exposing Retry-After. */
function expectClientCors(res: Response, status: number, origin = "*") {
  expect(res.status).toBe(status);
  expect(res.headers.get("Access-Control-Allow-Origin")).toBe(origin);
  expect(list(res.headers.get("Access-Control-Expose-Headers"))).toContain("retry-after");
}

describe("preflight on client routes", () => {
  it.each([
    ["/v1/inbox", "GET", ["GET", "HEAD"]],
    ["/v1/inbox/ack", "POST", ["POST"]],
    ["/v1/inbox/read", "POST", ["POST"]],
    ["/v1/inbox/unread", "GET", ["GET", "HEAD"]],
  ] as const)("OPTIONS %s answers 204 allowing the route's methods", async (path, method, methods) => {
    const { init } = preflight(path, ORIGIN, method);
    const res = await call(path, init);
    expect(res.status).toBe(204);
    expect(list(res.headers.get("Access-Control-Allow-Methods"))).toEqual(methods.map((m) => m.toLowerCase()).sort());
  });

  it("answers 204 before authentication: no Authorization header needed", async () => {
    const { path, init } = preflight("/v1/inbox/ack", ORIGIN, "POST");
    const res = await call(path, init);
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
  });

  it("allows the request headers Authorization and Content-Type", async () => {
    const { path, init } = preflight("/v1/inbox/read", ORIGIN, "POST");
    const res = await call(path, init);
    const allowed = list(res.headers.get("Access-Control-Allow-Headers"));
    expect(allowed).toContain("authorization");
    expect(allowed).toContain("content-type");
  });

  it("answers with Access-Control-Max-Age 600", async () => {
    const { path, init } = preflight("/v1/inbox");
    const res = await call(path, init);
    expect(res.headers.get("Access-Control-Max-Age")).toBe("600");
  });

  it("answers with Access-Control-Allow-Origin * by default", async () => {
    const { path, init } = preflight("/v1/inbox");
    const res = await call(path, init);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });

  it("answers a preflight whose Authorization would be invalid with 204, not 401", async () => {
    const res = await call("/v1/inbox", {
      method: "OPTIONS",
      headers: { Origin: ORIGIN, "Access-Control-Request-Method": "GET", Authorization: "Bearer garbage" },
    });
    expect(res.status).toBe(204);
  });
});

describe("client answers carry CORS headers", () => {
  it("a 200 from GET /v1/inbox carries Allow-Origin * and exposes Retry-After", async () => {
    const res = await client(unique("cors-200"), "/v1/inbox", { headers: { Origin: ORIGIN } });
    expectClientCors(res, 200);
  });

  it("a 200 from POST /v1/inbox/ack carries Allow-Origin *", async () => {
    const user = unique("cors-ack");
    await publish(user);
    const res = await client(user, "/v1/inbox/ack", { method: "POST", json: { upTo: 1 }, headers: { Origin: ORIGIN } });
    expectClientCors(res, 200);
  });

  it("a 200 from POST /v1/inbox/read carries Allow-Origin *", async () => {
    const res = await client(unique("cors-read"), "/v1/inbox/read", {
      method: "POST",
      json: { upTo: 1 },
      headers: { Origin: ORIGIN },
    });
    expectClientCors(res, 200);
  });

  it("a 200 from GET /v1/inbox/unread carries Allow-Origin *", async () => {
    const res = await client(unique("cors-unread"), "/v1/inbox/unread", { headers: { Origin: ORIGIN } });
    expectClientCors(res, 200);
  });

  it("a 401 (no token) carries Allow-Origin * and exposes Retry-After", async () => {
    const res = await call("/v1/inbox", { headers: { Origin: ORIGIN } });
    expectClientCors(res, 401);
  });

  it("a 401 (expired token) carries Allow-Origin *", async () => {
    const token = await clientToken({ sub: unique("cors-exp") }, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const res = await call("/v1/inbox", { headers: { Origin: ORIGIN, Authorization: `Bearer ${token}` } });
    expectClientCors(res, 401);
  });

  it("a 400 (invalid query parameter) carries Allow-Origin *", async () => {
    const res = await client(unique("cors-400"), "/v1/inbox?limit=0", { headers: { Origin: ORIGIN } });
    expectClientCors(res, 400);
  });

  it("a 403 (region other than the token's) carries Allow-Origin *", async () => {
    const res = await client(unique("cors-403"), `/v1/inbox?region=${unique("other")}`, {
      region: unique("pinned"),
      headers: { Origin: ORIGIN },
    });
    expectClientCors(res, 403);
  });

  it("a 405 on a client route carries Allow-Origin *", async () => {
    const res = await call("/v1/inbox", { method: "DELETE", headers: { Origin: ORIGIN } });
    expectClientCors(res, 405);
  });

  it("a 415 on a client route carries Allow-Origin *", async () => {
    const res = await clientText(unique("cors-415"), "/v1/inbox/ack", "POST", '{"upTo":1}', {
      Origin: ORIGIN,
      "Content-Type": "text/plain",
    });
    expectClientCors(res, 415);
  });

  it("a 413 on a client route carries Allow-Origin *", async () => {
    const res = await clientText(unique("cors-413"), "/v1/inbox/ack", "POST", JSON.stringify({ upTo: 1, pad: "x".repeat(9000) }), {
      Origin: ORIGIN,
    });
    expectClientCors(res, 413);
  });

  it("a 503 (CLIENT_JWT_SECRET unset) carries Allow-Origin *", async () => {
    const res = await fetchWithEnv({ CLIENT_JWT_SECRET: undefined }, "/v1/inbox", { headers: { Origin: ORIGIN } });
    expectClientCors(res, 503);
  });

  it("with the default *, no Vary: Origin is needed", async () => {
    const res = await client(unique("cors-vary"), "/v1/inbox", { headers: { Origin: ORIGIN } });
    expect(list(res.headers.get("Vary"))).not.toContain("origin");
  });
});

describe("publisher routes and /health send no CORS headers", () => {
  it("GET /admin/v1/users/{userId} with an Origin has no Access-Control-* header", async () => {
    const res = await admin(`/admin/v1/users/${unique("cors-admin")}`, { headers: { Origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(corsHeaderNames(res)).toEqual([]);
  });

  it("POST /admin/v1/users/{userId}/messages with an Origin has no Access-Control-* header", async () => {
    const res = await admin(`/admin/v1/users/${unique("cors-pub")}/messages`, {
      method: "POST",
      json: { body: "x" },
      headers: { Origin: ORIGIN },
    });
    expect(res.status).toBe(201);
    expect(corsHeaderNames(res)).toEqual([]);
  });

  it("a publisher 401 has no Access-Control-* header", async () => {
    const res = await call(`/admin/v1/users/${unique("cors-admin401")}`, { headers: { Origin: ORIGIN } });
    expect(res.status).toBe(401);
    expect(corsHeaderNames(res)).toEqual([]);
  });

  it("a preflight on a publisher route is a 405 without CORS headers", async () => {
    const { path, init } = preflight("/admin/v1/announcements", ORIGIN, "POST");
    const res = await call(path, init);
    expect(res.status).toBe(405);
    expect(corsHeaderNames(res)).toEqual([]);
  });

  it("GET /health with an Origin has no Access-Control-* header", async () => {
    const res = await call("/health", { headers: { Origin: ORIGIN } });
    expect(res.status).toBe(200);
    expect(corsHeaderNames(res)).toEqual([]);
  });

  it("a preflight on /health is a 405 without CORS headers", async () => {
    const { path, init } = preflight("/health");
    const res = await call(path, init);
    expect(res.status).toBe(405);
    expect(corsHeaderNames(res)).toEqual([]);
  });
});

describe("CORS_ORIGINS as a list", () => {
  const LISTED = "https://a.example";
  const ALSO_LISTED = "http://localhost:5173";
  const origins = { CORS_ORIGINS: `${LISTED},${ALSO_LISTED}` };

  async function signed(user: string) {
    return `Bearer ${await clientToken({ sub: user })}`;
  }

  it("echoes a listed origin with Vary: Origin", async () => {
    const res = await fetchWithEnv(origins, "/v1/inbox", {
      headers: { Origin: LISTED, Authorization: await signed(unique("list-ok")) },
    });
    expectClientCors(res, 200, LISTED);
    expect(list(res.headers.get("Vary"))).toContain("origin");
  });

  it("echoes the second listed origin too", async () => {
    const res = await fetchWithEnv(origins, "/v1/inbox", {
      headers: { Origin: ALSO_LISTED, Authorization: await signed(unique("list-ok2")) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(ALSO_LISTED);
  });

  it("trims spaces around listed origins", async () => {
    const res = await fetchWithEnv({ CORS_ORIGINS: ` ${ALSO_LISTED} , ${LISTED} ` }, "/v1/inbox", {
      headers: { Origin: LISTED, Authorization: await signed(unique("list-trim")) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(LISTED);
  });

  it("gives an unlisted origin no Access-Control-Allow-Origin (the request itself still answers)", async () => {
    const res = await fetchWithEnv(origins, "/v1/inbox", {
      headers: { Origin: "https://evil.example", Authorization: await signed(unique("list-no")) },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
    expect(res.headers.get("Access-Control-Expose-Headers")).toBeNull();
  });

  it("does not echo an origin that only shares a prefix with a listed one", async () => {
    const res = await fetchWithEnv(origins, "/v1/inbox", {
      headers: { Origin: `${LISTED}.evil.example`, Authorization: await signed(unique("list-prefix")) },
    });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("gives a request without Origin no Access-Control-Allow-Origin", async () => {
    const res = await fetchWithEnv(origins, "/v1/inbox", { headers: { Authorization: await signed(unique("list-none")) } });
    expect(res.status).toBe(200);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("answers a listed origin's preflight with 204, its origin and the route's methods", async () => {
    const { path, init } = preflight("/v1/inbox/ack", LISTED, "POST");
    const res = await fetchWithEnv(origins, path, init);
    expect(res.status).toBe(204);
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe(LISTED);
    expect(list(res.headers.get("Vary"))).toContain("origin");
    expect(list(res.headers.get("Access-Control-Allow-Methods"))).toEqual(["post"]);
    expect(res.headers.get("Access-Control-Max-Age")).toBe("600");
  });

  it("gives an unlisted origin's preflight no CORS headers", async () => {
    const { path, init } = preflight("/v1/inbox/ack", "https://evil.example", "POST");
    const res = await fetchWithEnv(origins, path, init);
    expect(corsHeaderNames(res)).toEqual([]);
  });

  it("echoes a listed origin on a 401 too", async () => {
    const res = await fetchWithEnv(origins, "/v1/inbox", { headers: { Origin: LISTED } });
    expectClientCors(res, 401, LISTED);
  });

  it("still sends no CORS headers on publisher routes, even to a listed origin", async () => {
    const res = await fetchWithEnv(origins, `/admin/v1/users/${unique("list-admin")}`, {
      headers: { Origin: LISTED, Authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(corsHeaderNames(res)).toEqual([]);
  });

  it("treats CORS_ORIGINS * as any origin", async () => {
    const res = await fetchWithEnv({ CORS_ORIGINS: "*" }, "/v1/inbox", {
      headers: { Origin: "https://anything.example", Authorization: await signed(unique("list-star")) },
    });
    expect(res.headers.get("Access-Control-Allow-Origin")).toBe("*");
  });
});
