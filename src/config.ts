// Settings come from wrangler.toml [vars] (or `--var NAME:value`) as strings or
// numbers. Each is optional; a value that is present but not a positive integer
// is a deployment mistake, so it fails every request loudly instead of being
// replaced by a default nobody asked for.
const integerDefaults = {
  PENDING_LIMIT: 100,
  PENDING_TTL_SECONDS: 604_800,
  UNREAD_LIMIT: 1_000,
  UNREAD_TTL_SECONDS: 2_592_000,
  ANNOUNCEMENT_LIMIT: 1_000,
  ANNOUNCEMENT_TTL_SECONDS: 2_592_000,
  MESSAGE_MAX_BYTES: 8_192,
  REGION_CACHE_MS: 1_000,
  DEVICE_LIMIT: 10,
  DEVICE_TTL_SECONDS: 604_800,
  PUSH_MAX_ATTEMPTS: 5,
} as const;

/** Settings with no default of postbox's own: absent means "as wrangler.toml's binding says". */
const optionalIntegers = ["CLIENT_RATE_LIMIT"] as const;

type IntegerSetting = keyof typeof integerDefaults | (typeof optionalIntegers)[number];

/** Settings read as text: the origin lists, and the push channels' endpoints and ids (src/push/credentials.ts). */
type TextSetting =
  | "CORS_ORIGINS"
  | "WEBPUSH_ORIGINS"
  | "VAPID_SUBJECT"
  | "FCM_ENDPOINT"
  | "APNS_ENDPOINT"
  | "APNS_TOPIC"
  | "APNS_KEY_ID"
  | "APNS_TEAM_ID";

/**
 * The bindings and secrets, generated from wrangler.toml by `wrangler types`
 * (worker-configuration.d.ts), plus the [vars] settings, all optional.
 */
export type Env = Cloudflare.Env & { [K in IntegerSetting]?: string | number } & { [K in TextSetting]?: string } & {
  /** "on" serves the demo page and its helpers (src/edge/demo.ts); `npm run dev` turns it on. */
  DEMO?: string;
  /** Optional: an Analytics Engine dataset that gets a data point per arrival outcome (src/stats/analytics.ts). */
  ARRIVAL_ANALYTICS?: AnalyticsEngineDataset;
};

export type Config = { [K in keyof typeof integerDefaults]: number } & {
  [K in (typeof optionalIntegers)[number]]?: number;
} & {
  /** "*" or the exact origins that may call the client routes. */
  CORS_ORIGINS: "*" | string[];
  /** The origins a Web Push subscription's endpoint may have; "*." in a host matches one or more labels. */
  WEBPUSH_ORIGINS: string[];
  /** Whether /demo is served: never in production, as its helpers mint tokens and publish for anyone. */
  DEMO: boolean;
};

export class ConfigError extends Error {}

const parsed = new WeakMap<object, Config>();

export function config(env: Env): Config {
  let found = parsed.get(env);
  if (!found) {
    found = parseConfig(env);
    parsed.set(env, found);
  }
  return found;
}

function parseConfig(env: Env): Config {
  const settings: [string, number | undefined][] = [
    ...Object.entries(integerDefaults),
    ...optionalIntegers.map((name): [string, undefined] => [name, undefined]),
  ];
  const integers = Object.fromEntries(
    settings.flatMap(([name, fallback]) => {
      const raw = env[name as IntegerSetting];
      if (raw === undefined || raw === "") return fallback === undefined ? [] : [[name, fallback]];
      const value = Number(raw);
      if (!/^\s*\d+\s*$/.test(String(raw)) || !Number.isSafeInteger(value) || value < 1) {
        throw new ConfigError(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
      }
      return [[name, value]];
    }),
  ) as Omit<Config, "CORS_ORIGINS" | "WEBPUSH_ORIGINS" | "DEMO">;
  return { ...integers, CORS_ORIGINS: corsOrigins(env), WEBPUSH_ORIGINS: pushOrigins(env), DEMO: demoOn(env) };
}

function demoOn({ DEMO: raw = "" }: Env) {
  if (raw === "") return false;
  if (raw !== "on" && raw !== "off") throw new ConfigError(`DEMO must be "on" or "off", got ${JSON.stringify(raw)}`);
  return raw === "on";
}

/** Every client request needs the origins, and a deployment has one setting. */
const parsedOrigins = new Map<string, Config["CORS_ORIGINS"]>();

/** Read on its own too, so that CORS headers reach even the answer that reports a bad setting. */
export function corsOrigins({ CORS_ORIGINS: raw = "*" }: Env): Config["CORS_ORIGINS"] {
  let origins = parsedOrigins.get(raw);
  if (!origins) {
    origins = parseOrigins(raw);
    parsedOrigins.set(raw, origins);
  }
  return origins;
}

function parseOrigins(raw: string): Config["CORS_ORIGINS"] {
  const listed = raw.split(",").map((origin) => origin.trim()).filter(Boolean);
  if (listed.length === 0 || listed.includes("*")) return "*";
  for (const origin of listed) {
    if (!/^https?:\/\/[^/\s]+$/.test(origin)) {
      throw new ConfigError(
        `CORS_ORIGINS must be "*" or comma-separated origins like https://app.example.com, got ${JSON.stringify(origin)}`,
      );
    }
  }
  return listed;
}

/** The browsers' push services (the contract's default). */
export const DEFAULT_WEBPUSH_ORIGINS =
  "https://fcm.googleapis.com,https://updates.push.services.mozilla.com,https://web.push.apple.com,https://*.notify.windows.com";

function pushOrigins({ WEBPUSH_ORIGINS: raw = DEFAULT_WEBPUSH_ORIGINS }: Env): string[] {
  const listed = raw.split(",").map((origin) => origin.trim()).filter(Boolean);
  for (const origin of listed) {
    if (!/^[a-z][a-z0-9+.-]*:\/\/(\*\.)?[^/\s*]+$/i.test(origin)) {
      throw new ConfigError(
        `WEBPUSH_ORIGINS must be comma-separated origins like https://push.example.com or https://*.example.com, got ${JSON.stringify(origin)}`,
      );
    }
  }
  return listed;
}
