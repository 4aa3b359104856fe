// The settings `wrangler dev` will give the Worker, gathered as wrangler gathers
// them and checked by the Worker's own parser (src/config.ts), so that a bad
// value stops `npm run dev` before it starts instead of failing every request.
import { parse } from "smol-toml";
import { ConfigError, config } from "../src/config.ts";

/**
 * The NAME:value pairs of `--var NAME:value` and `--var=NAME:value`. As in
 * wrangler, one --var takes every argument up to the next option, and the value
 * is everything after the first colon.
 */
export function varsFromArgs(args) {
  const pairs = [];
  let inVar = false;
  for (const arg of args) {
    if (arg.startsWith("-")) {
      inVar = arg === "--var" || arg.startsWith("--var=");
      if (arg.startsWith("--var=")) pairs.push(arg.slice("--var=".length));
    } else if (inVar) pairs.push(arg);
  }
  return Object.fromEntries(pairs.map((pair) => [pair.split(":", 1)[0], pair.split(":").slice(1).join(":")]));
}

/** The `[vars]` table of wrangler.toml's text: strings, or numbers when written unquoted. */
export function varsFromToml(text) {
  return { ...parse(text).vars };
}

/**
 * What is wrong with the settings, one line each; none when all are valid.
 * `sources` are [where, vars] pairs in wrangler's order of precedence, weakest
 * first ([vars], then .dev.vars, then --var), so only the value the Worker will
 * see is judged.
 */
export function settingProblems(sources) {
  const seen = new Map();
  for (const [where, vars] of sources) {
    for (const [name, value] of Object.entries(vars)) seen.set(name, { where, value });
  }
  return [...seen].flatMap(([name, { where, value }]) => {
    try {
      config({ [name]: value });
      return [];
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      return [`${error.message} (from ${where})`];
    }
  });
}
