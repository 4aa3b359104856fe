// Authentication: client JWTs (HS256 only, sub/exp required, ids valid) and the
// publisher's ADMIN_TOKEN; a route whose secret is unset answers 503, never opens.
import { env } from "cloudflare:workers";
import { SignJWT } from "jose";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  admin,
  call,
  client,
  clientToken,
  expectProblem,
  fetchWithEnv,
  poll,
  publish,
  travel,
  unique,
  userView,
} from "./helpers";

const secret = () => new TextEncoder().encode(env.CLIENT_JWT_SECRET!);
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** base64url without padding, as a JWT spells its parts (`text`'s characters taken as bytes). */
function base64Url(text: string) {
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

const jsonPart = (value: unknown) => base64Url(JSON.stringify(value));

function withBearer(path: string, token: string, init: RequestInit = {}) {
  const headers = new Headers(init.headers);
  headers.set("Authorization", `Bearer ${token}`);
  return call(path, { ...init, headers });
}

describe("client tokens", () => {
  it("accepts a valid HS256 token minted by jose and answers as its sub", async () => {
    const user = unique("auth-ok");
    await publish(user, { body: "hi" });
    const res = await withBearer("/v1/inbox", await clientToken({ sub: user }));
    expect(res.status).toBe(200);
    const answer = (await res.json()) as { personal: { seq: number; body: string }[] };
    expect(answer.personal.map((m) => [m.seq, m.body])).toEqual([[1, "hi"]]);
  });

  it("accepts a valid token on GET /v1/inbox/unread too", async () => {
    const res = await client(unique("auth-unread"), "/v1/inbox/unread");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ count: 0, messages: [] });
  });

  it("accepts a token whose sub uses every allowed character class (A-Za-z0-9._:@-)", async () => {
    const user = `${unique("Auth")}.x_y:z@h-1`;
    await publish(user, { body: "odd id" });
    const answer = await poll(user);
    expect(answer.personal.map((m) => m.body)).toEqual(["odd id"]);
  });

  it("accepts a token with a valid region claim and pins the answer to it", async () => {
    const user = unique("auth-region");
    const region = unique("r");
    const answer = await poll(user, "", { region });
    expect(answer.region).toBe(region);
  });

  it("answers 401 when the Authorization header is missing", async () => {
    const body = await expectProblem(await call("/v1/inbox"), 401);
    expect(body.title).toBe("Unauthorized");
  });

  it("answers 401 to a non-Bearer Authorization scheme carrying a valid token", async () => {
    const token = await clientToken({ sub: unique("auth-basic") });
    await expectProblem(await call("/v1/inbox", { headers: { Authorization: `Basic ${token}` } }), 401);
  });

  it("answers 401 to an empty Bearer token", async () => {
    await expectProblem(await call("/v1/inbox", { headers: { Authorization: "Bearer " } }), 401);
  });

  it("answers 401 to a token that is not a JWT", async () => {
    await expectProblem(await withBearer("/v1/inbox", "not-a-jwt"), 401);
  });

  it("answers 401 to a token of three parts that are not base64url JSON", async () => {
    await expectProblem(await withBearer("/v1/inbox", "a.b.c"), 401);
  });

  it("answers 401 to a token with four parts", async () => {
    const token = await clientToken({ sub: unique("auth-4") });
    await expectProblem(await withBearer("/v1/inbox", `${token}.extra`), 401);
  });

  it("answers 401 to an expired token", async () => {
    const token = await clientToken({ sub: unique("auth-exp") }, { expiresIn: nowSeconds() - 60 });
    const body = await expectProblem(await withBearer("/v1/inbox", token), 401);
    expect(body.detail).toMatch(/expired/i);
  });

  it("answers 401 to a token signed with another secret", async () => {
    const token = await clientToken({ sub: unique("auth-wrong") }, { secret: "not-the-client-secret" });
    await expectProblem(await withBearer("/v1/inbox", token), 401);
  });

  it("answers 401 to a token whose payload was changed after signing", async () => {
    const token = await clientToken({ sub: unique("auth-victim") });
    const [header, , signature] = token.split(".");
    const forged = `${header}.${jsonPart({ sub: unique("auth-attacker"), exp: nowSeconds() + 3600 })}.${signature}`;
    await expectProblem(await withBearer("/v1/inbox", forged), 401);
  });

  it('answers 401 to an unsigned token with alg "none"', async () => {
    const header = jsonPart({ alg: "none", typ: "JWT" });
    const payload = jsonPart({ sub: unique("auth-none"), exp: nowSeconds() + 3600 });
    await expectProblem(await withBearer("/v1/inbox", `${header}.${payload}.`), 401);
  });

  it('answers 401 to a token with alg "none" that carries the HS256 signature of its parts', async () => {
    // Header says none, yet the signature is valid HMAC-SHA256 over header.payload: still not HS256.
    const header = jsonPart({ alg: "none", typ: "JWT" });
    const payload = jsonPart({ sub: unique("auth-none2"), exp: nowSeconds() + 3600 });
    const key = await crypto.subtle.importKey("raw", secret(), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
    const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${header}.${payload}`)));
    const signature = btoa(String.fromCharCode(...mac)).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
    await expectProblem(await withBearer("/v1/inbox", `${header}.${payload}.${signature}`), 401);
  });

  it.each(["HS384", "HS512"])("answers 401 to a token signed with %s under the right secret", async (alg) => {
    const token = await new SignJWT({ sub: unique("auth-alg") })
      .setProtectedHeader({ alg, typ: "JWT" })
      .setExpirationTime("1h")
      .sign(secret());
    await expectProblem(await withBearer("/v1/inbox", token), 401);
  });

  it("answers 401 to a token without exp", async () => {
    const token = await new SignJWT({ sub: unique("auth-noexp") }).setProtectedHeader({ alg: "HS256" }).sign(secret());
    await expectProblem(await withBearer("/v1/inbox", token), 401);
  });

  it("answers 401 to a token whose exp is not a number", async () => {
    const token = await new SignJWT({ sub: unique("auth-strexp"), exp: String(nowSeconds() + 3600) } as never)
      .setProtectedHeader({ alg: "HS256" })
      .sign(secret());
    await expectProblem(await withBearer("/v1/inbox", token), 401);
  });

  it("answers 401 to a token without sub", async () => {
    const token = await new SignJWT({}).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(secret());
    await expectProblem(await withBearer("/v1/inbox", token), 401);
  });

  it.each([
    ["an empty string", ""],
    ["a space", "bad user"],
    ["a slash", "a/b"],
    ["129 characters", "u".repeat(129)],
  ])("answers 401 to a token whose sub contains %s", async (_what, sub) => {
    await expectProblem(await withBearer("/v1/inbox", await clientToken({ sub })), 401);
  });

  it("answers 401 to a token whose sub is a number", async () => {
    const token = await new SignJWT({ sub: 42 } as never).setProtectedHeader({ alg: "HS256" }).setExpirationTime("1h").sign(secret());
    await expectProblem(await withBearer("/v1/inbox", token), 401);
  });

  it("accepts a sub of exactly 128 characters", async () => {
    const sub = `${unique("max")}${"m".repeat(128)}`.slice(0, 128);
    const res = await withBearer("/v1/inbox", await clientToken({ sub }));
    expect(res.status).toBe(200);
  });

  it.each([
    ["an invalid character", "bad region!"],
    ["a colon (allowed in userIds, not in regionIds)", "a:b"],
    ["65 characters", "r".repeat(65)],
    ["an empty string", ""],
  ])("answers 401 to a token whose region claim contains %s", async (_what, region) => {
    const token = await clientToken({ sub: unique("auth-badregion"), region });
    await expectProblem(await withBearer("/v1/inbox", token), 401);
  });

  it("answers 401 to a token whose region claim is a number", async () => {
    const token = await clientToken({ sub: unique("auth-numregion"), region: 7 as never });
    await expectProblem(await withBearer("/v1/inbox", token), 401);
  });

  it("answers 401 to the admin token used on a client route", async () => {
    await expectProblem(await withBearer("/v1/inbox", env.ADMIN_TOKEN!), 401);
  });

  it("ignores ?token= on GET /v1/inbox: without a header the answer is 401", async () => {
    const token = await clientToken({ sub: unique("auth-query") });
    await expectProblem(await call(`/v1/inbox?token=${token}`), 401);
  });

  it.each([
    ["POST /v1/inbox/ack", "/v1/inbox/ack", { method: "POST", body: '{"upTo":1}' }],
    ["POST /v1/inbox/read", "/v1/inbox/read", { method: "POST", body: '{"upTo":1}' }],
    ["GET /v1/inbox/unread", "/v1/inbox/unread", {}],
  ] as const)("answers 401 without a token on %s", async (_name, path, init) => {
    const res = await call(path, { ...init, headers: { "Content-Type": "application/json" } });
    await expectProblem(res, 401);
  });

  it("a request refused with 401 changes nothing (ack with a bad token removes no pending message)", async () => {
    const user = unique("auth-nochange");
    await publish(user);
    const token = await clientToken({ sub: user }, { secret: "wrong" });
    const res = await withBearer("/v1/inbox/ack", token, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ upTo: 1 }),
    });
    await expectProblem(res, 401);
    expect((await userView(user)).pending.count).toBe(1);
  });
});

/** A token over a payload written as raw JSON text (for values JSON.stringify cannot spell, such as 1e400). */
async function signedRaw(payloadJson: string) {
  const unsigned = `${base64Url('{"alg":"HS256","typ":"JWT"}')}.${base64Url(payloadJson)}`;
  const key = await crypto.subtle.importKey("raw", secret(), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(unsigned)));
  return `${unsigned}.${base64Url(String.fromCharCode(...mac))}`;
}

describe("client tokens: forged spellings and impossible claims", () => {
  it("accepts a raw-signed token with ordinary claims (the helper below signs correctly)", async () => {
    const token = await signedRaw(`{"sub":"${unique("raw")}","exp":${nowSeconds() + 3600}}`);
    expect((await withBearer("/v1/inbox", token)).status).toBe(200);
  });

  it.each([
    ["exp of 1e400 (Infinity: a token that never expires)", (sub: string) => `{"sub":"${sub}","exp":1e400}`],
    ["exp of -1e400", (sub: string) => `{"sub":"${sub}","exp":-1e400}`],
    ["nbf of -1e400 (valid since ever)", (sub: string) => `{"sub":"${sub}","exp":${nowSeconds() + 3600},"nbf":-1e400}`],
    ["iat of 1e400", (sub: string) => `{"sub":"${sub}","exp":${nowSeconds() + 3600},"iat":1e400}`],
    ["nbf that is a string", (sub: string) => `{"sub":"${sub}","exp":${nowSeconds() + 3600},"nbf":"0"}`],
  ])("answers 401 to a token with an %s", async (_what, payload) => {
    const body = await expectProblem(await withBearer("/v1/inbox", await signedRaw(payload(unique("claims")))), 401);
    expect(body.detail).toMatch(/exp|nbf|iat/);
  });

  it("answers 401 to a second spelling of a valid signature (other unused trailing bits)", async () => {
    const token = await clientToken({ sub: unique("spelling") });
    expect((await withBearer("/v1/inbox", token)).status).toBe(200);
    // 32 bytes are 43 base64url characters; the last one carries 2 unused bits.
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(token.at(-1)!);
    const respelled = token.slice(0, -1) + alphabet[(last & ~3) | ((last + 1) & 3)];
    const body = await expectProblem(await withBearer("/v1/inbox", respelled), 401);
    expect(body.detail).toContain("canonical");
  });

  it("answers 401 to a valid signature with base64 padding appended", async () => {
    const token = await clientToken({ sub: unique("padded") });
    await expectProblem(await withBearer("/v1/inbox", `${token}=`), 401);
  });

  it("accepts an iat a little in the future (a publisher's clock ahead)", async () => {
    const token = await clientToken({ sub: unique("iat-ahead"), iat: nowSeconds() + 120 });
    expect((await withBearer("/v1/inbox", token)).status).toBe(200);
  });
});

describe("publisher token", () => {
  it("answers 401 without a token, saying the header is missing", async () => {
    const res = await call(`/admin/v1/users/${unique("pub")}`);
    const body = await expectProblem(res, 401);
    expect(body.title).toBe("Unauthorized");
    expect(body.detail).toContain("no Authorization header");
  });

  it("answers 401 to a wrong token, saying it does not match", async () => {
    const res = await withBearer(`/admin/v1/users/${unique("pub")}`, "wrong-admin-token");
    const body = await expectProblem(res, 401);
    expect(body.detail).toContain("does not match ADMIN_TOKEN");
  });

  it("answers 401 to the right token with extra characters", async () => {
    const res = await withBearer(`/admin/v1/users/${unique("pub")}`, `${env.ADMIN_TOKEN}x`);
    await expectProblem(res, 401);
  });

  it("answers 401 to a prefix of the right token", async () => {
    const res = await withBearer(`/admin/v1/users/${unique("pub")}`, env.ADMIN_TOKEN!.slice(0, -1));
    await expectProblem(res, 401);
  });

  it("answers 401 to the right token sent without the Bearer scheme, saying so", async () => {
    const res = await call(`/admin/v1/users/${unique("pub")}`, { headers: { Authorization: env.ADMIN_TOKEN! } });
    const body = await expectProblem(res, 401);
    expect(body.detail).toContain("not a Bearer token");
  });

  it("answers 401 to a valid client JWT", async () => {
    const res = await withBearer(`/admin/v1/users/${unique("pub")}`, await clientToken({ sub: unique("u") }));
    await expectProblem(res, 401);
  });

  it("accepts the right token", async () => {
    const user = unique("pub-ok");
    const res = await admin(`/admin/v1/users/${user}`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { userId: string }).userId).toBe(user);
  });

  it("a publish refused with 401 stores nothing: the next accepted publish is seq 1", async () => {
    const user = unique("pub-nochange");
    const res = await withBearer(`/admin/v1/users/${user}/messages`, "wrong-admin-token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ body: "sneaky" }),
    });
    await expectProblem(res, 401);
    expect((await publish(user)).seq).toBe(1);
  });
});

describe("unset secrets", () => {
  it("answers 503 naming CLIENT_JWT_SECRET on a client route when it is unset", async () => {
    const token = await clientToken({ sub: unique("nosecret") });
    const res = await fetchWithEnv({ CLIENT_JWT_SECRET: undefined }, "/v1/inbox", {
      headers: { Authorization: `Bearer ${token}` },
    });
    const body = await expectProblem(res, 503);
    expect(body.detail).toContain("CLIENT_JWT_SECRET");
  });

  it("answers 503, not 401, on a client route without a token when CLIENT_JWT_SECRET is unset", async () => {
    const body = await expectProblem(await fetchWithEnv({ CLIENT_JWT_SECRET: undefined }, "/v1/inbox"), 503);
    expect(body.detail).toContain("CLIENT_JWT_SECRET");
  });

  it("treats an empty CLIENT_JWT_SECRET as unset: 503 naming it", async () => {
    const token = await clientToken({ sub: unique("empty") });
    const res = await fetchWithEnv({ CLIENT_JWT_SECRET: "" }, "/v1/inbox", { headers: { Authorization: `Bearer ${token}` } });
    const body = await expectProblem(res, 503);
    expect(body.detail).toContain("CLIENT_JWT_SECRET");
  });

  it("answers 503 naming ADMIN_TOKEN on a publisher route when it is unset", async () => {
    const res = await fetchWithEnv({ ADMIN_TOKEN: undefined }, `/admin/v1/users/${unique("noadmin")}`, {
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    const body = await expectProblem(res, 503);
    expect(body.detail).toContain("ADMIN_TOKEN");
  });

  it("answers 503 naming ADMIN_TOKEN when it is empty, even to an empty Bearer token", async () => {
    const res = await fetchWithEnv({ ADMIN_TOKEN: "" }, `/admin/v1/users/${unique("noadmin")}`, {
      headers: { Authorization: "Bearer " },
    });
    const body = await expectProblem(res, 503);
    expect(body.detail).toContain("ADMIN_TOKEN");
  });

  it("a publish refused with 503 stores nothing", async () => {
    const user = unique("noadmin-publish");
    const res = await fetchWithEnv({ ADMIN_TOKEN: undefined }, `/admin/v1/users/${user}/messages`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}`, "Content-Type": "application/json" },
      body: JSON.stringify({ body: "x" }),
    });
    await expectProblem(res, 503);
    expect((await userView(user)).pending.count).toBe(0);
  });

  it("keeps client routes working when only ADMIN_TOKEN is unset", async () => {
    const token = await clientToken({ sub: unique("client-only") });
    const res = await fetchWithEnv({ ADMIN_TOKEN: undefined }, "/v1/inbox", { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
  });

  it("keeps publisher routes working when only CLIENT_JWT_SECRET is unset", async () => {
    const res = await fetchWithEnv({ CLIENT_JWT_SECRET: undefined }, `/admin/v1/users/${unique("admin-only")}`, {
      headers: { Authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
  });
});

describe("/health", () => {
  it("answers 200 { ok: true } without any credentials", async () => {
    const res = await call("/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });

  it("answers 200 even when both secrets are unset", async () => {
    const res = await fetchWithEnv({ ADMIN_TOKEN: undefined, CLIENT_JWT_SECRET: undefined }, "/health");
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
  });
});

describe("tokens already verified once (kept to spare the HMAC)", () => {
  afterEach(() => vi.useRealTimers());

  it("a token that worked is refused once it has expired", async () => {
    const user = unique("u");
    const token = await clientToken({ sub: user }, { expiresIn: "1m" });
    const headers = { Authorization: `Bearer ${token}` };
    expect((await call("/v1/inbox", { headers })).status).toBe(200);
    travel(61_000);
    expect((await call("/v1/inbox", { headers })).status).toBe(401);
  });

  it("a token that worked is refused after CLIENT_JWT_SECRET changes", async () => {
    const user = unique("u");
    const token = await clientToken({ sub: user });
    const headers = { Authorization: `Bearer ${token}` };
    expect((await call("/v1/inbox", { headers })).status).toBe(200);
    expect((await fetchWithEnv({ CLIENT_JWT_SECRET: "a-rotated-secret" }, "/v1/inbox", { headers })).status).toBe(401);
  });
});
