import { z } from "zod";

export class ConfigError extends Error {}

/** Parses the environment once at boot; every problem is reported together, then the process stops. */
export function loadConfig<S extends z.ZodType>(schema: S, source: Record<string, string | undefined> = process.env): z.infer<S> {
  const result = schema.safeParse(source);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  - ${i.path.join(".") || "(root)"}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join("\n")}`);
  }
  return result.data;
}

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);
const bool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0"])
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1");

/** Keys every service shares; a service's schema extends this with its own. */
export const baseConfigSchema = z.object({
  NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  HOST: z.string().default("127.0.0.1"),
  KAFKA_BROKERS: z
    .string()
    .default("127.0.0.1:9092")
    .transform((s) => s.split(",").map((b) => b.trim()).filter(Boolean)),
  SCHEMA_REGISTRY_URL: z.url().default("http://127.0.0.1:8081/apis/ccompat/v7"),
  /** Prefixes every topic and consumer group: isolates test runs and environments sharing a broker. */
  TOPIC_PREFIX: z.string().regex(/^[a-z0-9._-]*$/).default(""),
  REDIS_URL: z.string().default("redis://127.0.0.1:6379"),
});

export const configFields = { port, bool };

export interface DatabaseLocation {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  schema: string;
}

/** `postgresql://user:pw@host:port/db?schema=name` split into the fields pg and Prisma's adapter take. */
export function parseDatabaseUrl(url: string): DatabaseLocation {
  const parsed = new URL(url);
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) throw new ConfigError(`not a PostgreSQL URL: ${url}`);
  return {
    host: parsed.hostname || "127.0.0.1",
    port: Number(parsed.port || 5432),
    user: decodeURIComponent(parsed.username || "postgres"),
    password: decodeURIComponent(parsed.password),
    database: parsed.pathname.slice(1) || "postgres",
    schema: parsed.searchParams.get("schema") ?? "public",
  };
}

export function databaseUrlSchema(defaultSchema: string) {
  return z.string().default(`postgresql://postgres@127.0.0.1:5432/ecommerce?schema=${defaultSchema}`);
}
