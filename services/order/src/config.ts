import { z } from "zod";
import { baseConfigSchema, configFields, databaseUrlSchema, loadConfig } from "@shop/config";

const { millis } = configFields;

export const orderConfigSchema = baseConfigSchema.extend({
  PORT: configFields.port(3004),
  DATABASE_URL: databaseUrlSchema("orders"),
  /** Connections of the plain pg pool; with the relay's one, what a replica holds (connection budget: docs/deployment.md). */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4),
  /** Consume saga events and relay the outbox; off for an HTTP-only replica. */
  EVENTS_ENABLED: configFields.bool(true),
  /** The catalog's internal quote endpoint gives names and prices; clients never do. */
  CATALOG_URL: z.url().default("http://127.0.0.1:3002"),
  /** The coupon service reserves a user coupon for an order at placement. */
  COUPON_URL: z.url().default("http://127.0.0.1:3003"),
  /** Per call to the catalog or the coupon service; placement answers 503 rather than hang. */
  UPSTREAM_TIMEOUT_MS: millis(2_000, { min: 1 }),
  /** How long an open circuit rejects calls before one trial call is let through. */
  UPSTREAM_BREAKER_RESET_MS: millis(10_000, { min: 1 }),
  /** A PENDING order older than this fails with TIMEOUT. */
  SAGA_TIMEOUT_MS: millis(30_000, { min: 100 }),
  /** How often this instance looks for overdue orders (every instance may; rows are claimed with SKIP LOCKED). */
  DEADLINE_SWEEP_INTERVAL_MS: millis(1_000, { min: 10 }),
  DEADLINE_SWEEPER_ENABLED: configFields.bool(true),
  /** Load shedding: refuse placement (503, Retry-After) while the saga backlog's head has waited longer than this; default a third of SAGA_TIMEOUT_MS. */
  ADMISSION_MAX_BACKLOG_AGE_MS: z.coerce.number().int().min(100).optional(),
  /** …or while more orders than this are PENDING. */
  ADMISSION_MAX_PENDING_ORDERS: z.coerce.number().int().min(1).default(5_000),
  /** How often the backlog is sampled; 0 switches load shedding off. */
  ADMISSION_SAMPLE_INTERVAL_MS: millis(250),
});

export type OrderConfig = z.infer<typeof orderConfigSchema>;

export const loadOrderConfig = (env: Record<string, string | undefined> = process.env): OrderConfig => loadConfig(orderConfigSchema, env);
