// FCM's OAuth 2 access tokens, from the service account's JSON key (FCM_SERVICE_ACCOUNT): the account
// signs a grant (RS256 JWT, RFC 7523) and its token_uri answers with a token good for about an hour,
// which every push of the isolate then shows until shortly before it expires.
import * as v from "valibot";
import { ConfigError } from "../config";
import type { PushResult } from "./channel";
import { isTransient, jsonBody, post, retryLater } from "./http";
import { signJwt } from "./jwt";
import { TokenCache } from "./token-cache";

/** The fields of a service account's JSON key that postbox uses (the key holds more). */
export const serviceAccount = v.looseObject({
  project_id: v.pipe(v.string(), v.nonEmpty()),
  client_email: v.pipe(v.string(), v.nonEmpty()),
  private_key: v.pipe(v.string(), v.includes("-----BEGIN PRIVATE KEY-----")),
  private_key_id: v.optional(v.string()),
  token_uri: v.pipe(v.string(), v.url()),
});

export type ServiceAccount = v.InferOutput<typeof serviceAccount>;

/** FCM_SERVICE_ACCOUNT's text as an account; anything else is a deployment mistake (a ConfigError naming the field). */
export function parseServiceAccount(text: string): ServiceAccount {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ConfigError("FCM_SERVICE_ACCOUNT is not JSON: it must be the service account's JSON key");
  }
  const result = v.safeParse(serviceAccount, json);
  if (result.success) return result.output;
  const issue = result.issues[0];
  throw new ConfigError(`FCM_SERVICE_ACCOUNT's ${v.getDotPath(issue) ?? "key"} is missing or invalid: ${issue.message}`);
}

const SCOPE = "https://www.googleapis.com/auth/firebase.messaging";
/** Google refuses a grant that asks for more than an hour. */
const GRANT_SECONDS = 3600;
/** Renewed this long before it expires, so that no push carries a token that lapses on its way. */
const RENEW_EARLY_SECONDS = 300;

const grantAnswer = v.object({ access_token: v.pipe(v.string(), v.nonEmpty()), expires_in: v.pipe(v.number(), v.minValue(1)) });

/** The token endpoint gave no token; `result` is what the push it was for comes to. */
export class NoAccessToken extends Error {
  constructor(readonly result: PushResult) {
    super(`no FCM access token (${result.outcome}, status ${result.status})`);
  }
}

const accessTokens = new TokenCache();
const cacheKey = (account: ServiceAccount) => [account.token_uri, account.client_email, account.private_key].join("\n");

/** The account's access token: cached, shared by concurrent pushes; NoAccessToken when none could be had. */
export function accessToken(account: ServiceAccount, fetcher?: typeof fetch): Promise<string> {
  return accessTokens.get(cacheKey(account), () => requestAccessToken(account, fetcher));
}

/** After FCM refused `token` (401), the next push asks for a new one. */
export function dropAccessToken(account: ServiceAccount, token: string) {
  accessTokens.drop(cacheKey(account), token);
}

async function requestAccessToken(account: ServiceAccount, fetcher?: typeof fetch) {
  const requestedAt = Date.now();
  const iat = Math.floor(requestedAt / 1000);
  const claims = { iss: account.client_email, scope: SCOPE, aud: account.token_uri, iat, exp: iat + GRANT_SECONDS };
  const header: Record<string, string> = account.private_key_id ? { kid: account.private_key_id } : {};
  const assertion = await signJwt("RS256", account.private_key, "FCM_SERVICE_ACCOUNT", claims, header);
  const answer = await post(
    account.token_uri,
    {
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }).toString(),
    },
    fetcher,
  );
  if (!(answer instanceof Response)) throw new NoAccessToken(answer);
  const body = await jsonBody(answer);
  const grant = v.safeParse(grantAnswer, body);
  if (answer.ok && grant.success) {
    const { access_token, expires_in } = grant.output;
    const early = Math.min(RENEW_EARLY_SECONDS, expires_in / 2);
    return { token: access_token, renewAt: requestedAt + (expires_in - early) * 1000 };
  }
  if (isTransient(answer.status)) throw new NoAccessToken(retryLater(answer));
  // A 2xx without a token is the endpoint failing, not refusing.
  if (answer.ok) throw new NoAccessToken({ outcome: "retry", status: answer.status });
  // A refused grant (a revoked key, a clock far off) fails every push until the operator acts: say why.
  console.error(`FCM: ${account.token_uri} refused the service account's grant (${answer.status}): ${JSON.stringify(body)}`);
  throw new NoAccessToken({ outcome: "failed", status: answer.status });
}
