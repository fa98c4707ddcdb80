import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { z } from "zod";

export class ConfigError extends Error {}

/** The development defaults of the signing secrets; published in the contract, so never acceptable in production. */
export const DEVELOPMENT_SECRETS = new Set(["local-dev-secret-change-me", "local-dev-service-secret-change-me"]);
const MIN_PRODUCTION_SECRET_LENGTH = 32;
const PLACEHOLDER = /change[-_ ]?me|replace[-_ ]?me|placeholder|example|your[-_ ]?secret/i;

/** Why `value` is not fit to sign tokens in production, or undefined when it is. */
export function weakSecretReason(value: string): string | undefined {
  if (DEVELOPMENT_SECRETS.has(value)) return "is the published development default";
  if (value.length < MIN_PRODUCTION_SECRET_LENGTH) return `must be at least ${MIN_PRODUCTION_SECRET_LENGTH} characters`;
  if (PLACEHOLDER.test(value)) return "looks like a placeholder";
  return undefined;
}

/** With NODE_ENV=production, every `*_SECRET` key must be a real secret: a default would let anyone mint tokens. */
function weakSecretIssues(config: Record<string, unknown>): string[] {
  if (config.NODE_ENV !== "production") return [];
  const issues: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (!key.endsWith("_SECRET") || typeof value !== "string") continue;
    const reason = weakSecretReason(value);
    if (reason) issues.push(`  - ${key}: ${reason}; set a random secret for production`);
  }
  return issues;
}

/** Parses the environment once at boot; every problem is reported together, then the process stops. */
export function loadConfig<S extends z.ZodType>(schema: S, source: Record<string, string | undefined> = process.env): z.infer<S> {
  const result = schema.safeParse(source);
  const lines = result.success
    ? weakSecretIssues(result.data as Record<string, unknown>)
    : result.error.issues.map((i) => `  - ${i.path.join(".") || "(root)"}: ${i.message}`);
  if (lines.length) throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  return result.data as z.infer<S>;
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0"])
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1");

/**
 * A duration in milliseconds. `min` defaults to 0 and there is no upper bound unless one is given:
 * each key states the bounds that make sense for it.
 */
const millis = (fallback: number, bounds: { min?: number; max?: number } = {}) => {
  const atLeast = z.coerce
    .number()
    .int()
    .min(bounds.min ?? 0);
  return (bounds.max === undefined ? atLeast : atLeast.max(bounds.max)).default(fallback);
};

const optionalUrl = z.preprocess((value) => (value === "" ? undefined : value), z.url({ protocol: /^https?$/ }).optional());

/**
 * How every process checks its callers (see @shop/auth): user tokens (local HS256, and RS256/ES256
 * from an identity provider's JWKS) and the credentials services present to each other.
 */
const callerAuthFields = {
  JWT_SECRET: z.string().min(1).default("local-dev-secret-change-me"),
  JWT_ISSUER: z.string().min(1).default("ecommerce-local"),
  JWT_AUDIENCE: z.string().min(1).default("ecommerce-api"),
  /** Seconds of clock skew tolerated on `exp`/`nbf`/`iat` between the token issuer and this process. */
  JWT_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(5),
  /** An external identity provider's key set; unset means local HS256 tokens only. */
  JWT_JWKS_URL: optionalUrl,
  /** Signs the credentials services present to each other's `/internal/v1/*`; the gateway does not need it. */
  SERVICE_TOKEN_SECRET: z.string().min(1).default("local-dev-service-secret-change-me"),
};

/**
 * OpenTelemetry's standard variables, as @shop/telemetry reads them. Tracing is off, and the SDK
 * not even loaded, unless OTEL_TRACES_EXPORTER names an exporter or an OTLP endpoint is set.
 */
export const telemetryConfigSchema = z.object({
  /** `true` switches tracing off whatever else is set. */
  OTEL_SDK_DISABLED: bool(false),
  /** `otlp` (OTLP/HTTP with JSON), `zipkin` or `none`; unset means `otlp` once an OTLP endpoint is set, `none` otherwise. */
  OTEL_TRACES_EXPORTER: z.enum(["", "otlp", "zipkin", "none"]).default(""),
  /** The collector's base URL; traces go to `<it>/v1/traces`. */
  OTEL_EXPORTER_OTLP_ENDPOINT: optionalUrl,
  /** The full URL traces are posted to; wins over OTEL_EXPORTER_OTLP_ENDPOINT. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: optionalUrl,
  OTEL_EXPORTER_ZIPKIN_ENDPOINT: z.url({ protocol: /^https?$/ }).default("http://localhost:9411/api/v2/spans"),
  /** The `service.name` of the spans; empty means the unit's own name (gateway, wallet, …). */
  OTEL_SERVICE_NAME: z.string().default(""),
  /** Milliseconds between two exports of the finished spans. */
  OTEL_BSP_SCHEDULE_DELAY: millis(5_000, { min: 1 }),
});

export type TelemetryConfig = z.infer<typeof telemetryConfigSchema>;

/** Keys every service shares; a service's schema extends this with its own. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  /** The level of the access log line every request gets (with its trace id); `silent` switches it off. */
  ACCESS_LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HOST: z.string().default("127.0.0.1"),
  KAFKA_BROKERS: z
    .string()
    .default("127.0.0.1:9092")
    .transform((s) =>
      s
        .split(",")
        .map((b) => b.trim())
        .filter(Boolean),
    ),
  SCHEMA_REGISTRY_URL: z.url().default("http://127.0.0.1:8081/apis/ccompat/v7"),
  /** Prefixes every topic and consumer group: isolates test runs and environments sharing a broker. */
  TOPIC_PREFIX: z
    .string()
    .regex(/^[a-z0-9._-]*$/)
    .default(""),
  REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
  /**
   * Services with an outbox: how long the relay lets rows gather after a short batch (see
   * OutboxRelayOptions.lingerMs in @shop/outbox). Adds at most this much to each saga hop under
   * load, and buys fewer, larger publishes (docs/benchmarks.md).
   */
  OUTBOX_LINGER_MS: millis(10, { max: 1_000 }),
  ...callerAuthFields,
  ...telemetryConfigSchema.shape,
});

export const configFields = { port, bool, millis };

/**
 * This process's `ACCESS_LOG_LEVEL`, checked like the rest of its configuration, for the HTTP edges
 * whose factories get no configuration object.
 */
export function accessLogLevel(env: Record<string, string | undefined> = process.env): z.infer<typeof baseConfigSchema>["ACCESS_LOG_LEVEL"] {
  return loadConfig(baseConfigSchema.pick({ ACCESS_LOG_LEVEL: true }), env).ACCESS_LOG_LEVEL;
}

export interface DatabaseLocation {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  schema: string;
  /** TLS for the connection (pg's `ssl`), from the URL's `sslmode`; absent means plain TCP. */
  ssl?: ConnectionOptions;
}

const SSL_MODES = ["disable", "require", "verify-ca", "verify-full"] as const;

/**
 * libpq's `sslmode` (and `sslrootcert`, `sslcert`, `sslkey`, read from files) as pg's `ssl` options.
 * `require` encrypts without checking the certificate, `verify-ca` checks the chain, `verify-full`
 * the chain and the host name. `allow`/`prefer` (TLS if the server offers it) are refused: pg
 * cannot fall back, and quietly choosing either way would be a surprise.
 */
function sslOptions(params: URLSearchParams, url: string): ConnectionOptions | undefined {
  const mode = params.get("sslmode") ?? (params.get("ssl") === "true" ? "verify-full" : "disable");
  if (!(SSL_MODES as readonly string[]).includes(mode)) {
    throw new ConfigError(`sslmode=${mode} in ${redactPassword(url)} is not supported: use one of ${SSL_MODES.join(", ")}`);
  }
  if (mode === "disable") return undefined;
  const file = (name: string): string | undefined => {
    const path = params.get(name);
    if (!path || (name === "sslrootcert" && path === "system")) return undefined;
    try {
      return readFileSync(path, "utf8");
    } catch (error) {
      throw new ConfigError(`${name}=${path} in the database URL cannot be read: ${(error as Error).message}`);
    }
  };
  const ca = file("sslrootcert");
  const cert = file("sslcert");
  const key = file("sslkey");
  return {
    rejectUnauthorized: mode !== "require",
    // verify-ca: the chain is checked, the host name is not (e.g. a server reached through an IP).
    ...(mode === "verify-ca" ? { checkServerIdentity: () => undefined } : {}),
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
}

const redactPassword = (url: string): string => url.replace(/(\/\/[^:/@]*:)[^@]*@/, "$1***@");

/** `postgresql://user:pw@host:port/db?schema=name[&sslmode=…]` split into the fields pg and Prisma's adapter take. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  const parsed = new URL(url);
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new ConfigError(`not a PostgreSQL URL: ${redactPassword(url)}`);
  const ssl = sslOptions(parsed.searchParams, url);
  return {
    host: parsed.hostname || "127.0.0.1",
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username || "postgres"),
    password: decodeURIComponent(parsed.password),
    database: parsed.pathname.slice(1) || "postgres",
    schema: parsed.searchParams.get("schema") ?? "public",
    ...(ssl ? { ssl } : {}),
  };
}

export function databaseUrlSchema(defaultSchema: string) {
  return z.string().default(`postgresql://postgres@127.0.0.1:5432/ecommerce?schema=${defaultSchema}`);
}
