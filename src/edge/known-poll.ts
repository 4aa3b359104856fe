// Polls are nearly all of postbox's traffic, and a client repeats the same
// poll: same token, same query string. Once the app has accepted a token and a
// query string, a repeat needs none of Hono's routing and middleware, which
// cost about a tenth of a poll's CPU (docs/PERFORMANCE.md). Such a poll is
// answered here from the checks' remembered results, exactly as the app would
// answer it; every other request, and every refusal, is the app's.
import { config, corsOrigins, type Env } from "../config";
import { knownClient } from "./auth";
import { corsHeaders, type HeaderList } from "./cors";
import { INBOX_PATH, poll, pollQuery } from "./inbox";
import { failed } from "./problem";
import { json } from "./validation";

function pathOf(url: string) {
  const start = url.indexOf("/", url.indexOf("://") + 3);
  const end = url.indexOf("?", start);
  return url.slice(start, end === -1 ? undefined : end);
}

/**
 * The answer's headers (JSON plus CORS), one Headers object per CORS variant.
 * The runtime copies a ready Headers object cheaply, while a plain object or
 * list costs a conversion per header: ~10 µs of a poll's CPU for three.
 */
const answerHeaders = new WeakMap<HeaderList, Headers>();

function headersFor(cors: HeaderList) {
  let headers = answerHeaders.get(cors);
  if (!headers) {
    headers = new Headers([...Object.entries(json), ...cors]);
    answerHeaders.set(cors, headers);
  }
  return headers;
}

function configured(env: Env) {
  try {
    config(env);
    return true;
  } catch {
    return false; // the app answers with the configuration error
  }
}

/** The answer to a poll whose token and query string the app accepted before; undefined for any other request. */
export function answerKnownPoll(request: Request, env: Env): Promise<Response> | undefined {
  if (request.method !== "GET" || pathOf(request.url) !== INBOX_PATH || !configured(env)) return undefined;
  const client = knownClient(request.headers.get("Authorization"), env.CLIENT_JWT_SECRET);
  const query = client && pollQuery.known(request.url);
  if (!client || !query) return undefined;
  let answer: Promise<string>;
  try {
    answer = poll(env, client, query);
  } catch {
    return undefined; // refused (a pinned token asking for another region): the app says why
  }
  const cors = corsHeaders(corsOrigins(env), request.headers.get("Origin") ?? undefined).list;
  return answer.then(
    (text) => new Response(text, { headers: headersFor(cors) }),
    (error: unknown) => {
      const response = failed(request, error);
      for (const [name, value] of cors) response.headers.set(name, value);
      return response;
    },
  );
}
