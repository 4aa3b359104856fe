// The bench's side of the contract: client JWTs minted the way a publisher's
// backend would (scripts/client-token.mjs, as npm run token does), and small
// fetch helpers for seeding and for the admin storage routes.
import { signClientToken } from "../scripts/client-token.mjs";

/** An HS256 client token: sub = userId, optional region and device claims, valid for `seconds`. */
export function mintJwt(secret, { sub, region, device }, seconds = 6 * 3600) {
  return signClientToken({ sub, ...(region && { region }), ...(device && { device }) }, secret, seconds);
}

/** Runs `fn` over `items` with at most `concurrency` in flight; resolves to the results in order. */
export async function pool(items, concurrency, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i], i);
      } catch (error) {
        next = items.length; // start nothing more after a failure
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return results;
}

/** A postbox at `base`, called as a publisher (adminToken) or as a client (a JWT per call). */
export function postbox(base, { adminToken, jwtSecret }) {
  async function call(path, { method = "GET", token, body, headers = {} } = {}) {
    const response = await fetch(base + path, {
      method,
      headers: {
        ...(token && { Authorization: `Bearer ${token}` }),
        ...(body !== undefined && { "Content-Type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(30_000),
    });
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : null };
  }
  async function ok(path, options) {
    const answer = await call(path, options);
    if (answer.status < 200 || answer.status > 299) {
      throw new Error(`${options?.method ?? "GET"} ${path} answered ${answer.status}: ${JSON.stringify(answer.body)}`);
    }
    return answer.body;
  }
  const admin = (method, path, body) => ok(`/admin/v1${path}`, { method, token: adminToken, body });
  const user = (id) => encodeURIComponent(id);

  return {
    base,
    adminToken,
    token: (sub, region, device) => mintJwt(jwtSecret, { sub, region, device }),
    publish: (userId, body) => admin("POST", `/users/${user(userId)}/messages`, body),
    bulkPublish: (body, idempotencyKey) =>
      ok("/admin/v1/messages", { method: "POST", token: adminToken, body, headers: { "Idempotency-Key": idempotencyKey } }),
    announce: (region, body) => admin("POST", "/announcements", { regions: [region], ...body }),
    regionLog: (region, since = 0, limit = 1) =>
      admin("GET", `/regions/${encodeURIComponent(region)}/announcements?since=${since}&limit=${limit}`),
    poll: (token, query = "") => ok(`/v1/inbox${query}`, { token }),
    ack: (token, upTo) => ok("/v1/inbox/ack", { method: "POST", token, body: { upTo } }),
    read: (token, seqs) => ok("/v1/inbox/read", { method: "POST", token, body: { seqs } }),
    /** PUT /v1/push: the token's device registers `registration` ({ webpush } | { fcm } | { apns }). */
    registerPush: (token, registration) => ok("/v1/push", { method: "PUT", token, body: registration }),
    /** The message's outcome and push on each device (GET /admin/v1/users/{id}/messages/{seq}). */
    delivery: (userId, seq) => admin("GET", `/users/${user(userId)}/messages/${seq}`),
    /**
     * An object's cumulative storage counters (GET /admin/v1/{users|regions}/{id}/storage),
     * or null while the route does not exist in this build.
     */
    async storage(kind, id) {
      const answer = await call(`/admin/v1/${kind}/${encodeURIComponent(id)}/storage`, { token: adminToken });
      if (answer.status === 404) return null;
      if (answer.status !== 200) throw new Error(`storage of ${kind}/${id} answered ${answer.status}`);
      return answer.body;
    },
  };
}
