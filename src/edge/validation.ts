// Request bodies and parameters, checked before anything changes: the
// Content-Type first (415), then the size (413), then the JSON and its schema (400).
// The schema that checks a request also documents it in GET /openapi.json.
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { ValidationTargets } from "hono";
import { uniqueSymbol, validator } from "hono-openapi";
import { config } from "../config";
import { BoundedMap } from "../shared/bounded-map";
import type { FieldError } from "../shared/responses";
import type { AppEnv } from "./context";
import { jsonSchemaOptions } from "./openapi";
import { problem } from "./problem";

/** Put before valid("json", …) on every route that takes a body. */
export const jsonBodyGuard = createMiddleware<AppEnv>(async (c, next) => {
  const mediaType = c.req.header("Content-Type")?.split(";")[0]?.trim().toLowerCase();
  if (mediaType !== "application/json") {
    throw problem(415, "Send the body as JSON with Content-Type: application/json.");
  }
  const maxSize = config(c.env).MESSAGE_MAX_BYTES;
  return bodyLimit({
    maxSize,
    onError: () => {
      throw problem(413, `The request body is larger than MESSAGE_MAX_BYTES (${maxSize} bytes).`);
    },
  })(c, next);
});

function fieldErrors(issues: readonly StandardSchemaV1.Issue[]): FieldError[] {
  return issues.map((issue) => ({
    path: (issue.path ?? []).map((key) => String(typeof key === "object" ? key.key : key)).join("."),
    message: issue.message,
  }));
}

const where: Record<string, string> = { json: "body", query: "query", param: "path", header: "headers" };

/**
 * Hono's validator with the contract's 400: a problem listing every invalid
 * field. A body is documented as the client sends it; parameters and headers,
 * which always arrive as text, as the values they are read as (limit: integer).
 */
export const valid = <Target extends keyof ValidationTargets, Schema extends StandardSchemaV1>(
  target: Target,
  schema: Schema,
) =>
  validator(
    target,
    schema,
    (result) => {
      if (!result.success) {
        throw problem(400, `The request's ${where[target] ?? target} is invalid.`, { errors: fieldErrors(result.error) });
      }
    },
    jsonSchemaOptions(target === "json" ? "input" : "output"),
  );

/**
 * valid("query", …) for a route that clients call again and again with the
 * same query string, such as a poll: the checked query of each recent string
 * is kept, so a repeat costs a map lookup instead of parsing and the schema.
 * A refused string is not kept.
 */
export function repeatedQuery<Schema extends StandardSchemaV1>(schema: Schema) {
  const validate = valid("query", schema);
  const checked = new BoundedMap<string, StandardSchemaV1.InferOutput<Schema>>(1_000);
  const memoized = (async (c, next) => {
    const at = c.req.url.indexOf("?");
    const queryString = at === -1 ? "" : c.req.url.slice(at);
    const query = checked.get(queryString);
    if (query) {
      c.req.addValidatedData("query", query);
      return next();
    }
    return validate(c, async () => {
      checked.set(queryString, Object.freeze(c.req.valid("query")));
      await next();
    });
  }) as typeof validate;
  // The document finds a route's parameters on its validator: this one stands in for it.
  return Object.assign(memoized, { [uniqueSymbol]: (validate as typeof validate & { [uniqueSymbol]: unknown })[uniqueSymbol] });
}

/** Headers for answers whose JSON text a Durable Object built. */
export const json = { "Content-Type": "application/json" };
