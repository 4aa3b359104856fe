// Every error leaves as application/problem+json (RFC 9457). Handlers throw
// `problem(...)`; the single app.onError turns anything thrown into one.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ConfigError } from "../config";
import type { FieldError, Problem } from "../shared/responses";

const titles: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  422: "Unprocessable Content",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export function problemResponse(
  status: ContentfulStatusCode,
  detail: string,
  extra: { errors?: FieldError[]; headers?: Record<string, string> } = {},
) {
  const body: Problem = { type: "about:blank", title: titles[status] ?? "Error", status, detail, ...(extra.errors && { errors: extra.errors }) };
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/problem+json", ...extra.headers },
  });
}

export function problem(...args: Parameters<typeof problemResponse>) {
  return new HTTPException(args[0], { res: problemResponse(...args) });
}

/** The 404 of a path the app has no route for (or, like /demo where DEMO is off, does not serve). */
export function noRoute(path: string) {
  return problem(404, `There is no route ${path}.`);
}

export function onError(error: Error, c: Context) {
  if (error instanceof HTTPException) {
    // Our own problems carry their response; Hono's (e.g. malformed JSON) carry a message.
    if (error.res?.headers.get("Content-Type") === "application/problem+json") return error.res;
    return problemResponse(error.status as ContentfulStatusCode, error.message || titles[error.status] || "Error");
  }
  if (error instanceof ConfigError) {
    console.error(`postbox configuration: ${error.message}`);
    return problemResponse(500, `Invalid configuration: ${error.message}`);
  }
  return failed(c.req.raw, error);
}

/** The answer to a request that failed for a reason of ours, not the client's. */
export function failed(request: Request, error: unknown) {
  console.error(`postbox: ${request.method} ${new URL(request.url).pathname} failed`, error);
  return problemResponse(500, "The request could not be completed; it has been logged.");
}
