import { z } from "zod";
import { baseConfigSchema, configFields, databaseUrlSchema, loadConfig } from "@shop/config";

export const catalogConfigSchema = baseConfigSchema.extend({
  PORT: configFields.port(3002),
  DATABASE_URL: databaseUrlSchema("catalog"),
  /** Connections of the plain pg pool; with the relay's one, what a replica holds (connection budget: docs/deployment.md). */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4),
  /** Consume saga events and relay the outbox; off for an HTTP-only replica. */
  EVENTS_ENABLED: configFields.bool(true),
  /** Insert the demo products at start when the catalog is empty. */
  SEED_DEMO_DATA: configFields.bool(false),
  /** Before every Redis key; empty means TOPIC_PREFIX, so environments sharing a Redis stay apart. */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._:-]*$/)
    .default(""),
  /** How long a cached product may be served: bounds how old a shown stock can be (contract: 1 s). */
  PRODUCT_CACHE_TTL_MS: configFields.millis(500, { min: 1, max: 1000 }),
  /** How long a computed top-sellers ranking is served before it is merged again. */
  TOP_SELLERS_CACHE_TTL_MS: configFields.millis(1000, { min: 1, max: 4000 }),
  /** Lifetime of a day's sales sorted set; on expiry it is rebuilt from PostgreSQL (heals any drift). */
  TOP_SELLERS_DAY_TTL_MS: configFields.millis(600_000, { min: 1000 }),
});

export type CatalogConfig = z.infer<typeof catalogConfigSchema>;

export const loadCatalogConfig = (env: Record<string, string | undefined> = process.env): CatalogConfig => loadConfig(catalogConfigSchema, env);

/** Every Redis key of this service starts with this. */
export const redisKeyPrefix = (config: CatalogConfig): string => `${config.REDIS_KEY_PREFIX || config.TOPIC_PREFIX}catalog:`;
