// Request bodies and parameters, checked before anything changes: the
// Content-Type first (415), then the size (413), then the JSON and its schema (400).
// The schema that checks a request also documents it in GET /openapi.json.
import type { StandardSchemaV1 } from "@standard-schema/spec";
import { createMiddleware } from "hono/factory";
import type { ValidationTargets } from "hono";
import { uniqueSymbol, validator } from "hono-openapi";
import { config, type Config } from "../config";
import { BoundedMap } from "../shared/bounded-map";
import { parseExactJson, type ExactJson } from "../shared/exact-json";
import type { FieldError } from "../shared/responses";
import type { AppEnv } from "./context";
import { jsonSchemaOptions } from "./openapi";
import { problem } from "./problem";
import { readBodyText } from "./read-body";

const where: Record<string, string> = { json: "body", query: "query", param: "path", header: "headers" };

/**
 * Put before valid("json", …) on every route that takes a body (`jsonBodyGuard`, or `jsonBodyWithin`
 * where the contract gives the route another limit). It reads the body itself, because
 * hono/body-limit lets a body stream that fails mid-way (broken chunked framing) throw out as postbox's
 * own 500, and Hono's validator parses with a plain JSON.parse, which cannot see a number's text: 1e400
 * would be stored as null, 2^53+1 as its neighbour. So the text is read once within the limit,
 * checked by parseExactJson, and then handed to valid("json", …).
 */
export function jsonBodyWithin(limit: (settings: Config) => number, named: string) {
  return createMiddleware<AppEnv>(async (c, next) => {
    const mediaType = c.req.header("Content-Type")?.split(";")[0]?.trim().toLowerCase();
    if (mediaType !== "application/json") {
      throw problem(415, "Send the body as JSON with Content-Type: application/json.");
    }
    const text = await readBodyText(c.req.raw, limit(config(c.env)), named);
    let parsed: ExactJson;
    try {
      parsed = parseExactJson(text);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      throw problem(400, `The request body is not valid JSON: ${error.message}`);
    }
    if ("issues" in parsed) throw invalidRequest("json", parsed.issues);
    // Hono's body cache holds the text read here, so the validator's c.req.json() parses it again with a
    // plain JSON.parse: the same value, now that its numbers and depth are known to be exact.
    // (The cache holds promises, as Hono fills it; its declared type says plain values.)
    (c.req.bodyCache as { text?: Promise<string> }).text = Promise.resolve(text);
    await next();
  });
}

export const jsonBodyGuard = jsonBodyWithin((settings) => settings.MESSAGE_MAX_BYTES, "MESSAGE_MAX_BYTES");

/** The contract's 400 for invalid fields of one part of the request: the validators' and the checks after them that need the settings. */
export const invalidRequest = (target: string, errors: FieldError[]) =>
  problem(400, `The request's ${where[target] ?? target} is invalid.`, { errors });

function fieldErrors(issues: readonly StandardSchemaV1.Issue[]): FieldError[] {
  return issues.map((issue) => ({
    path: (issue.path ?? []).map((key) => String(typeof key === "object" ? key.key : key)).join("."),
    message: issue.message,
  }));
}

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
        throw invalidRequest(target, fieldErrors(result.error));
      }
    },
    jsonSchemaOptions(target === "json" ? "input" : "output"),
  );

const MAX_REMEMBERED_QUERY = 512;

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
      // Clients repeat short query strings; a long one (unknown parameters pass the schema) is not worth the memory.
      if (queryString.length <= MAX_REMEMBERED_QUERY) checked.set(queryString, Object.freeze(c.req.valid("query")));
      await next();
    });
  }) as typeof validate;
  // The document finds a route's parameters on its validator: this one stands in for it.
  return Object.assign(memoized, { [uniqueSymbol]: (validate as typeof validate & { [uniqueSymbol]: unknown })[uniqueSymbol] });
}

/** Headers for answers whose JSON text a Durable Object built. */
export const json = { "Content-Type": "application/json" };
