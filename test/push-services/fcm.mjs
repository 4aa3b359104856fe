// Firebase Cloud Messaging's HTTP v1 API and Google's OAuth token endpoint, as they behave: the stand-in
// issues a service account's JSON key (as the Google Cloud console does) whose token_uri is here; a
// grant is an RS256 JWT verified with the account's public key (jose) and answered with an access
// token; messages:send takes only those tokens, for the account's project, and checks the message's
// shape. Registration tokens are issued here too, as the FCM SDK gets them on a device. Errors in
// Google's JSON shape ({ error: { code, message, status, details: [FcmError] } }).
import { randomBytes, randomUUID } from "node:crypto";
import { exportPKCS8, generateKeyPair, jwtVerify } from "jose";
import { CLOCK_SKEW_SECONDS, jsonAnswer, nowSeconds, Refusal } from "./targets.mjs";

const SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
const FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError";
const MAX_DATA_BYTES = 4096;
const MAX_TTL_SECONDS = 28 * 86_400;

const STATUS = { 400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND", 429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE" };
const ERROR_CODE = { 400: "INVALID_ARGUMENT", 403: "SENDER_ID_MISMATCH", 404: "UNREGISTERED", 429: "QUOTA_EXCEEDED", 500: "INTERNAL", 503: "UNAVAILABLE" };

/** Google's error answer; `errorCode` (an FcmError detail) as FCM gives it for each status. */
export function fcmError(status, message, { errorCode = ERROR_CODE[status], retryAfter } = {}) {
  const details = errorCode === undefined ? [] : [{ "@type": FCM_ERROR, errorCode }];
  const headers = retryAfter === undefined ? {} : { "retry-after": retryAfter };
  return jsonAnswer(status, { error: { code: status, message, status: STATUS[status] ?? "UNKNOWN", details } }, headers);
}

export class FcmService {
  name = "fcm";
  /** @type {Map<string, number>} access token → when it expires (s) */
  #accessTokens = new Map();
  /** @type {Set<string>} registration tokens issued to devices */
  #tokens = new Set();

  /** A new service account (its JSON key as text) whose grants this stand-in answers. @param {string} origin */
  static async create(origin) {
    const { publicKey, privateKey } = await generateKeyPair("RS256", { extractable: true });
    const project = "postbox-stand-in";
    const account = {
      type: "service_account",
      project_id: project,
      private_key_id: randomBytes(20).toString("hex"),
      private_key: await exportPKCS8(privateKey),
      client_email: `postbox@${project}.iam.gserviceaccount.com`,
      client_id: String(BigInt(`0x${randomBytes(8).toString("hex")}`)),
      auth_uri: `${origin}/o/oauth2/auth`,
      token_uri: `${origin}/token`,
    };
    return new FcmService(account, publicKey);
  }

  constructor(account, publicKey) {
    this.account = account;
    this.publicKey = publicKey;
  }

  /** A device's registration token, as the FCM SDK gets one. */
  issueToken() {
    const token = `${randomBytes(16).toString("base64url")}:APA91b${randomBytes(96).toString("base64url")}`;
    this.#tokens.add(token);
    return token;
  }

  matches = (path) => path === "/token" || path.startsWith("/v1/projects/");

  async check(request) {
    return request.path === "/token" ? this.#grant(request) : this.#send(request);
  }

  error(status, { retryAfter }) {
    return fcmError(status, `stand-in fault: ${status}`, { retryAfter });
  }

  /** The OAuth 2 JWT-bearer grant (RFC 7523) at token_uri: answered here, never a target's fault. */
  async #grant({ method, body }) {
    const refuse = (description) => new Refusal("token", jsonAnswer(400, { error: "invalid_grant", error_description: description }), description);
    if (method !== "POST") throw refuse(`${method}, not POST`);
    const form = new URLSearchParams(body.toString());
    if (form.get("grant_type") !== "urn:ietf:params:oauth:grant-type:jwt-bearer") throw refuse(`grant_type ${form.get("grant_type")}`);
    let claims, header;
    try {
      ({ payload: claims, protectedHeader: header } = await jwtVerify(form.get("assertion") ?? "", this.publicKey, {
        algorithms: ["RS256"],
        issuer: this.account.client_email,
        audience: this.account.token_uri,
        requiredClaims: ["iat", "exp", "scope"],
        clockTolerance: CLOCK_SKEW_SECONDS,
      }));
    } catch (error) {
      throw refuse(`Invalid JWT: ${error}`);
    }
    if (header.kid !== undefined && header.kid !== this.account.private_key_id) throw refuse(`kid ${header.kid} is not the account's key`);
    if (!String(claims.scope).split(" ").includes(SCOPE)) throw refuse(`scope ${claims.scope}`);
    if (claims.exp - claims.iat > 3600) throw refuse("Invalid JWT: the grant asks for more than an hour");
    if (claims.iat > nowSeconds() + CLOCK_SKEW_SECONDS) throw refuse("Invalid JWT: iat is in the future");
    const accessToken = `ya29.${randomBytes(48).toString("base64url")}`;
    this.#accessTokens.set(accessToken, nowSeconds() + 3600);
    // Not a target's push: answered now, and kept with the grants.
    const accepted = jsonAnswer(200, { access_token: accessToken, expires_in: 3599, token_type: "Bearer" });
    return { target: "token", record: { claims }, accepted };
  }

  /** POST /v1/projects/{project}/messages:send. */
  async #send({ method, path, headers, body }) {
    const refuse = (target, status, message, errorCode) => new Refusal(target, fcmError(status, message, { errorCode }), message);
    let message;
    try {
      ({ message } = JSON.parse(body.toString()));
    } catch {
      throw refuse("", 400, "Invalid JSON payload received.");
    }
    const target = typeof message?.token === "string" ? message.token : "";
    if (method !== "POST") throw refuse(target, 404, `${method} ${path}`, null);
    const bearer = headers.authorization?.match(/^Bearer (\S+)$/)?.[1];
    const expiresAt = bearer === undefined ? undefined : this.#accessTokens.get(bearer);
    if (expiresAt === undefined || expiresAt < nowSeconds()) {
      throw refuse(target, 401, "Request had invalid authentication credentials. Expected OAuth 2 access token.", null);
    }
    const project = path.match(/^\/v1\/projects\/([^/]+)\/messages:send$/)?.[1];
    if (project === undefined) throw refuse(target, 404, `no such method ${path}`, null);
    if (decodeURIComponent(project) !== this.account.project_id) throw refuse(target, 403, `SenderId mismatch: project ${project}`);
    if (!/^application\/json/.test(headers["content-type"] ?? "")) throw refuse(target, 400, "Content-Type is not JSON");
    const invalid = invalidMessage(message);
    if (invalid) throw refuse(target, 400, invalid);
    if (!this.#tokens.has(target)) throw refuse(target, 400, "The registration token is not a valid FCM registration token");
    const accepted = jsonAnswer(200, { name: `projects/${project}/messages/${randomUUID()}` });
    return { target, record: { message, payload: JSON.parse(message.data.postbox) }, accepted };
  }
}

const utf8Bytes = (text) => Buffer.byteLength(text, "utf8");

/** What FCM's validation says of a message postbox may send, or undefined when it is valid. */
function invalidMessage(message) {
  const known = ["token", "data", "notification", "android"];
  const unknown = Object.keys(message ?? {}).filter((name) => !known.includes(name));
  if (unknown.length > 0) return `Invalid JSON payload received. Unknown name "${unknown[0]}" at 'message'`;
  const { data, notification, android } = message;
  if (typeof data !== "object" || data === null) return "message.data is missing";
  if (!Object.values(data).every((value) => typeof value === "string")) return "message.data values must be strings";
  if (typeof data.postbox !== "string") return "message.data.postbox is missing";
  const dataBytes = Object.entries(data).reduce((n, [key, value]) => n + utf8Bytes(key) + utf8Bytes(value), 0);
  if (dataBytes > MAX_DATA_BYTES) return "Android message is too big";
  if (notification !== undefined && !Object.entries(notification).every(([key, value]) => ["title", "body"].includes(key) && typeof value === "string")) {
    return "message.notification may hold title and body strings";
  }
  const ttl = android?.ttl?.match(/^(\d+)(\.\d{1,9})?s$/);
  if (!ttl || Number(ttl[1]) > MAX_TTL_SECONDS) return `message.android.ttl ${android?.ttl}`;
  if (!["NORMAL", "HIGH"].includes(android.priority)) return `message.android.priority ${android.priority}`;
  if (android.collapse_key !== undefined && typeof android.collapse_key !== "string") return "message.android.collapse_key";
  return undefined;
}
