// The demo's helpers on the Worker (src/edge/demo.ts): client tokens and the publisher proxy,
// so that the page holds no secret.

/** A failed answer: postbox's problem+json, shown as it came. */
export class DemoApiError extends Error {
  constructor(readonly status: number, readonly answer: unknown) {
    super(`${status}: ${typeof answer === "object" && answer && "detail" in answer ? String(answer.detail) : "failed"}`);
  }
}

async function call(path: string, init: RequestInit = {}): Promise<unknown> {
  const res = await fetch(`/demo/api/${path}`, init);
  const text = await res.text();
  const answer: unknown = text ? JSON.parse(text) : null;
  if (!res.ok) throw new DemoApiError(res.status, answer);
  return answer;
}

const jsonInit = (method: string, body: unknown): RequestInit => ({
  method,
  headers: { "Content-Type": "application/json" },
  body: JSON.stringify(body),
});

/** A publisher route, /admin/v1/<path>, called with the admin token by the proxy. */
export function publisher(method: string, path: string, body?: unknown) {
  return call(`admin/${path}`, body === undefined ? { method } : jsonInit(method, body));
}

export type Claims = { user: string; device?: string; region?: string };

/** A client token for these claims; valid for a day. */
export async function mintToken(claims: Claims) {
  return ((await call("token", jsonInit("POST", claims))) as { token: string }).token;
}
