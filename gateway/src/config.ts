import { z } from "zod";
import { baseConfigSchema, configFields, loadConfig } from "@shop/config";
import { UPSTREAM_NAMES, type UpstreamName } from "./routing.ts";

const upstreamList = z
  .string()
  .default("wallet")
  .transform((s) => s.split(",").map((name) => name.trim()).filter(Boolean))
  .pipe(z.array(z.enum(UPSTREAM_NAMES)))
  .transform((names) => new Set<UpstreamName>(names));

export const gatewayConfigSchema = baseConfigSchema.extend({
  PORT: configFields.port(8080),
  JWT_SECRET: z.string().min(1).default("local-dev-secret-change-me"),
  JWT_ISSUER: z.string().min(1).default("ecommerce-local"),
  JWT_AUDIENCE: z.string().min(1).default("ecommerce-api"),
  /** Seconds of clock skew tolerated on `exp`/`nbf`/`iat` between the token issuer and the gateway. */
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
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
  UPSTREAM_TIMEOUT_MS: z.coerce.number().int().min(1).default(15_000),
  /** Requests in the breaker's 10 s window before failures can open it, so one early error does not. */
  BREAKER_VOLUME_THRESHOLD: z.coerce.number().int().min(0).default(10),
  BREAKER_ERROR_PERCENTAGE: z.coerce.number().min(1).max(100).default(50),
  /** How long an open breaker fails fast before letting one trial request through. */
  BREAKER_RESET_MS: z.coerce.number().int().min(100).default(10_000),
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
