// Apple Push Notification service, as it behaves (over HTTP/1.1 here: see src/push/apns.ts): the
// stand-in issues a provider key (the .p8 file, with its key id and team id) and device tokens;
// a push must carry an ES256 provider token signed with that key (jose: kid, iss, an iat under an hour
// old), the app's topic and APNs' headers, and a JSON body of at most 4096 bytes with an `aps`
// dictionary. Errors in APNs' shape: { "reason" } (and `timestamp` for 410).
import { randomBytes, randomUUID } from "node:crypto";
import { decodeProtectedHeader, exportPKCS8, generateKeyPair, jwtVerify } from "jose";
import { CLOCK_SKEW_SECONDS, jsonAnswer, nowSeconds, Refusal } from "./targets.mjs";

const MAX_BODY_BYTES = 4096;
const PUSH_TYPES = ["alert", "background", "voip", "complication", "fileprovider", "mdm", "location", "liveactivity", "pushtotalk"];
const REASON = { 400: "BadDeviceToken", 403: "InvalidProviderToken", 410: "Unregistered", 413: "PayloadTooLarge", 429: "TooManyRequests", 500: "InternalServerError", 503: "ServiceUnavailable" };

/** APNs' error answer. */
export function apnsError(status, reason = REASON[status] ?? "InternalServerError", { retryAfter } = {}) {
  const headers = { "apns-id": randomUUID().toUpperCase(), ...(retryAfter !== undefined && { "retry-after": retryAfter }) };
  return jsonAnswer(status, { reason, ...(status === 410 && { timestamp: Date.now() }) }, headers);
}

const alphanumeric = (length) => randomBytes(length).toString("hex").toUpperCase().slice(0, length);

export class ApnsService {
  name = "apns";
  /** @type {Set<string>} device tokens issued */
  #tokens = new Set();

  /** A new provider key: { key (PEM), keyId, teamId, topic }, as a developer account hands them out. */
  static async create() {
    const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
    const provider = { key: await exportPKCS8(privateKey), keyId: alphanumeric(10), teamId: alphanumeric(10), topic: "test.postbox.app" };
    return new ApnsService(provider, publicKey);
  }

  constructor(provider, publicKey) {
    this.provider = provider;
    this.publicKey = publicKey;
  }

  /** A device token, as an app gets one from registerForRemoteNotifications. */
  issueToken() {
    const token = randomBytes(32).toString("hex");
    this.#tokens.add(token);
    return token;
  }

  matches = (path) => path.startsWith("/3/device/");

  async check({ method, path, headers, body }) {
    const target = decodeURIComponent(path.slice("/3/device/".length));
    const refuse = (status, reason, detail = reason) => new Refusal(target, apnsError(status, reason), detail);
    if (method !== "POST") throw refuse(405, "MethodNotAllowed");
    const provider = await this.#checkProviderToken(headers.authorization, refuse);
    const topic = headers["apns-topic"];
    if (topic === undefined) throw refuse(400, "MissingTopic");
    if (topic !== this.provider.topic) throw refuse(400, "TopicDisallowed", `apns-topic ${topic}`);
    if (!PUSH_TYPES.includes(headers["apns-push-type"])) throw refuse(400, "InvalidPushType", `apns-push-type ${headers["apns-push-type"]}`);
    if (!/^\d+$/.test(headers["apns-expiration"] ?? "")) throw refuse(400, "BadExpirationDate", `apns-expiration ${headers["apns-expiration"]}`);
    if (!["10", "5", "1"].includes(headers["apns-priority"] ?? "10")) throw refuse(400, "BadPriority", `apns-priority ${headers["apns-priority"]}`);
    const collapseId = headers["apns-collapse-id"];
    if (collapseId !== undefined && Buffer.byteLength(collapseId) > 64) throw refuse(400, "BadCollapseId");
    if (body.length > MAX_BODY_BYTES) throw refuse(413, "PayloadTooLarge", `a body of ${body.length} bytes`);
    let payload;
    try {
      payload = JSON.parse(body.toString());
    } catch {
      throw refuse(400, "BadPayload");
    }
    if (typeof payload?.aps !== "object" || payload.aps === null) throw refuse(400, "PayloadEmpty", "no aps dictionary");
    if (!this.#tokens.has(target)) throw refuse(400, "BadDeviceToken");
    const accepted = { status: 200, headers: { "apns-id": randomUUID().toUpperCase() } };
    return { target, record: { body: payload, payload: payload.postbox, provider }, accepted };
  }

  error(status, { retryAfter }) {
    return apnsError(status, undefined, { retryAfter });
  }

  async #checkProviderToken(authorization, refuse) {
    const jwt = authorization?.match(/^bearer (\S+)$/)?.[1];
    if (jwt === undefined) throw refuse(403, "MissingProviderToken");
    let header, claims;
    try {
      header = decodeProtectedHeader(jwt);
      ({ payload: claims } = await jwtVerify(jwt, this.publicKey, { algorithms: ["ES256"], issuer: this.provider.teamId, requiredClaims: ["iat"] }));
    } catch (error) {
      throw refuse(403, "InvalidProviderToken", `InvalidProviderToken: ${error}`);
    }
    if (header.kid !== this.provider.keyId) throw refuse(403, "InvalidProviderToken", `kid ${header.kid}`);
    const age = nowSeconds() - claims.iat;
    if (age > 3600 + CLOCK_SKEW_SECONDS) throw refuse(403, "ExpiredProviderToken");
    if (age < -CLOCK_SKEW_SECONDS) throw refuse(403, "InvalidProviderToken", "iat is in the future");
    return { header, claims };
  }
}
