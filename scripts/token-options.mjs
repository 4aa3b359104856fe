// What `npm run token` is asked for: whose token, for which region and device,
// for how long. Each id is checked by the rule the Worker holds its claim to, so
// a token that prints is one postbox accepts.
import { parseArgs } from "node:util";
import * as v from "valibot";
import { regionId, userId } from "../src/shared/schema.ts";

// The rule the device claim will be held to; it moves to src/shared/schema.ts
// when the Worker reads the claim.
const deviceId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9._-]{1,64}$/, "must be 1-64 characters of A-Za-z0-9._-"));

/** An id schema's rule in words: every one refuses the empty string. */
const rule = (schema) => v.safeParse(schema, "").issues[0].message;

export const USAGE = "usage: npm run token -- <userId> [--region <id>] [--device <id>] [--ttl <seconds|1h|7d>]";

export const HELP = `${USAGE}

Prints a client token (an HS256 JWT) for trying postbox locally, signed with
CLIENT_JWT_SECRET from .dev.vars (the first \`npm run dev\` creates it).

  <userId>        whose inbox: the token's sub; ${rule(userId)}
  --region <id>   pins the token to a region; ${rule(regionId)}
                  (a second argument is taken as the region too: npm run token -- alice bj)
  --device <id>   the token's device claim; ${rule(deviceId)}
  --ttl <time>    how long it is valid: seconds, or a number with s, m, h or d (default 24h)
  --help, -h      this text

Example: TOKEN=$(npm run -s token -- alice --region bj --ttl 1h)`;

const SECONDS_PER = { s: 1, m: 60, h: 3_600, d: 86_400 };

/** Everything wrong with the arguments, one line each. */
export class UsageError extends Error {}

/** The token's claims and lifetime, `{ help: true }`, or a UsageError. */
export function tokenRequest(args) {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        region: { type: "string" },
        device: { type: "string" },
        ttl: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (error) {
    throw new UsageError(error.message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true };

  const [sub, positionalRegion, ...extra] = positionals;
  const problems = extra.map((arg) => `unexpected argument ${JSON.stringify(arg)}`);
  if (positionalRegion !== undefined && values.region !== undefined) {
    problems.push(`two regions given ("${positionalRegion}" and --region "${values.region}"): give one`);
  }
  const region = values.region ?? positionalRegion;
  if (sub === undefined) problems.push("a userId is required");
  for (const [name, schema, value] of [
    ["userId", userId, sub],
    ["region", regionId, region],
    ["device", deviceId, values.device],
  ]) {
    if (value !== undefined && !v.is(schema, value)) problems.push(`${name} ${rule(schema)}, got ${JSON.stringify(value)}`);
  }
  const ttlSeconds = values.ttl === undefined ? SECONDS_PER.d : seconds(values.ttl);
  if (ttlSeconds === undefined) {
    const expected = "a positive number of seconds, or one with s, m, h or d (3600, 90m, 1h, 7d)";
    problems.push(`--ttl must be ${expected}, got ${JSON.stringify(values.ttl)}`);
  }
  if (problems.length > 0) throw new UsageError(problems.join("\n"));
  return { claims: { sub, ...(region && { region }), ...(values.device && { device: values.device }) }, ttlSeconds };
}

function seconds(ttl) {
  const match = /^(\d+)([smhd]?)$/.exec(ttl);
  const total = match && Number(match[1]) * SECONDS_PER[match[2] || "s"];
  return total > 0 && Number.isSafeInteger(total) ? total : undefined;
}
