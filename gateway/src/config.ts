import { z } from "zod";
import { baseConfigSchema, configFields, loadConfig } from "@shop/config";
import { UPSTREAM_NAMES, type UpstreamName } from "./routing.ts";

const upstreamList = z
  .string()
  .default("wallet")
  .transform((s) =>
    s
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.enum(UPSTREAM_NAMES)))
  .transform((names) => new Set<UpstreamName>(names));

/** `new URL()` normalises, so only a value that survives unchanged is an exact origin (no path, no trailing slash, no wildcard). */
function isExactOrigin(value: string): boolean {
  try {
    return new URL(value).origin === value;
  } catch {
    return false;
  }
}

const originList = z
  .string()
  .default("")
  .transform((s) =>
    s
      .split(",")
      .map((origin) => origin.trim())
      .filter(Boolean),
  )
  .pipe(z.array(z.string().refine(isExactOrigin, "must be an exact origin such as https://shop.example.com (scheme, host, optional port)")))
  .transform((origins) => new Set(origins));

// JWT_* keys come from the base schema; the service credential secret stays with the services.
export const gatewayConfigSchema = baseConfigSchema.omit({ SERVICE_TOKEN_SECRET: true }).extend({
  PORT: configFields.port(8080),
  WALLET_URL: z.url().default("http://127.0.0.1:3001"),
  CATALOG_URL: z.url().default("http://127.0.0.1:3002"),
  COUPON_URL: z.url().default("http://127.0.0.1:3003"),
  ORDER_URL: z.url().default("http://127.0.0.1:3004"),
  PAYMENT_URL: z.url().default("http://127.0.0.1:3005"),
  /** Upstreams that exist in this deployment; requests for the others answer 503 instead of waiting on a dead port. */
  UPSTREAMS: upstreamList,
  RATE_LIMIT_ENABLED: configFields.bool(true),
  /** Sustained writes per user and second (token refill rate; fractions allowed). */
  RATE_LIMIT_WRITES_PER_SECOND: z.coerce.number().positive().default(20),
  /** Writes a user may send at once before the sustained rate applies. */
  RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(40),
  /** Upstream inactivity (no bytes either way) after which a request fails with 504. */
  UPSTREAM_TIMEOUT_MS: configFields.millis(15_000, { min: 1 }),
  /** Requests in the breaker's 10 s window before failures can open it, so one early error does not. */
  BREAKER_VOLUME_THRESHOLD: z.coerce.number().int().min(0).default(10),
  BREAKER_ERROR_PERCENTAGE: z.coerce.number().min(1).max(100).default(50),
  /** How long an open breaker fails fast before letting one trial request through. */
  BREAKER_RESET_MS: configFields.millis(10_000, { min: 100 }),
  /** Largest request body the gateway buffers and forwards; beyond it the answer is 413 (the services accept 64 KiB of JSON). */
  REQUEST_BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(10 * 1024 * 1024)
    .default(64 * 1024),
  /** Sustained requests per second and client address without a valid token (switched off with RATE_LIMIT_ENABLED=false). */
  ANON_RATE_LIMIT_PER_SECOND: z.coerce.number().positive().default(50),
  /** Requests a client without a token may send at once before the sustained rate applies. */
  ANON_RATE_LIMIT_BURST: z.coerce.number().int().min(1).default(100),
  /** Client addresses whose buckets are remembered; the least recently seen is forgotten first. */
  ANON_RATE_LIMIT_CLIENTS: z.coerce.number().int().min(1).default(100_000),
  /** Browser origins allowed to call the API (comma-separated, exact); empty answers no CORS headers at all. */
  CORS_ALLOWED_ORIGINS: originList,
  /**
   * How long the gateway keeps an anonymous public read that its service marked cacheable (at most
   * its s-maxage); 0 switches the cache off. Its share of the 1 s a product read may lag.
   */
  RESPONSE_CACHE_TTL_MS: z.coerce.number().int().min(0).max(1_000).default(250),
  /** Distinct URLs kept at most; the oldest goes first. */
  RESPONSE_CACHE_MAX_ENTRIES: z.coerce.number().int().min(1).default(1_000),
  /** Larger answers are relayed but not kept. */
  RESPONSE_CACHE_MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(64 * 1024),
  /** How long a browser may cache a preflight answer. */
  CORS_MAX_AGE_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
});

export type GatewayConfig = z.infer<typeof gatewayConfigSchema>;

export const loadGatewayConfig = (env: Record<string, string | undefined> = process.env): GatewayConfig => loadConfig(gatewayConfigSchema, env);

export function upstreamUrl(config: GatewayConfig, name: UpstreamName): string {
  const urls: Record<UpstreamName, string> = {
    wallet: config.WALLET_URL,
    catalog: config.CATALOG_URL,
    coupon: config.COUPON_URL,
    order: config.ORDER_URL,
    payment: config.PAYMENT_URL,
  };
  return urls[name];
}
