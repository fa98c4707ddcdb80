import { z } from "zod";
import { baseConfigSchema, configFields, databaseUrlSchema, loadConfig } from "@shop/config";

const { millis } = configFields;
const HOUR_MS = 3_600_000;

export const couponConfigSchema = baseConfigSchema.extend({
  PORT: configFields.port(3003),
  DATABASE_URL: databaseUrlSchema("coupon"),
  /** Connections of the plain pg pool; with the relay's one, what a replica holds (connection budget: docs/deployment.md). */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4),
  /** Connections of the issue hot path (one group commit per campaign at a time). */
  ISSUE_DB_POOL_SIZE: z.coerce.number().int().min(1).max(50).default(2),
  /** Consume saga events and relay the outbox; off for an HTTP-only replica. */
  EVENTS_ENABLED: configFields.bool(true),
  /** Prefix of every Redis key of this service (tests give each run its own). */
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]*$/)
    .default("coupon:"),
  /** Send the admission scripts of concurrent requests in one socket write (fewer syscalls per request). */
  REDIS_AUTO_PIPELINING: configFields.bool(true),
  /** Group commit: how long the first admitted request waits for others to share its INSERT. */
  ISSUE_BATCH_MAX_WAIT_MS: millis(2, { max: 1_000 }),
  ISSUE_BATCH_MAX_SIZE: z.coerce.number().int().min(1).max(5_000).default(500),
  /** An admission still uncommitted after this long belonged to a request that died; it is settled from PostgreSQL. */
  ADMISSION_STALE_MS: millis(30_000, { max: HOUR_MS }),
  ADMISSION_SWEEP_INTERVAL_MS: millis(5_000, { max: HOUR_MS }),
  /**
   * A reservation still without its OrderPlaced after this long is released if the order service
   * confirms the order was never placed (only on an instance that consumes events).
   */
  COUPON_RESERVATION_TTL_MS: millis(120_000, { max: 86_400_000 }),
  /** The order service, asked before a reservation is released (GET /internal/v1/orders/:id). */
  ORDER_URL: z.url().default("http://127.0.0.1:3004"),
  ORDER_LOOKUP_TIMEOUT_MS: millis(2_000, { max: 60_000 }),
  RESERVATION_SWEEP_INTERVAL_MS: millis(10_000, { max: HOUR_MS }),
});

export type CouponConfig = z.infer<typeof couponConfigSchema>;

export const loadCouponConfig = (env: Record<string, string | undefined> = process.env): CouponConfig => loadConfig(couponConfigSchema, env);
