import { z } from "zod";
import { baseConfigSchema, configFields, databaseUrlSchema, loadConfig } from "@shop/config";

export const paymentConfigSchema = baseConfigSchema.extend({
  PORT: configFields.port(3005),
  DATABASE_URL: databaseUrlSchema("payment"),
  /** Connections of the plain pg pool; with the relay's one, what a replica holds (connection budget: docs/deployment.md). */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4),
  /** Consume saga events and relay the outbox; off for an HTTP-only replica. */
  EVENTS_ENABLED: configFields.bool(true),
  /** The payment provider's per-transaction limit in KRW: larger payments are declined (PAYMENT_FAILED). */
  PAYMENT_MAX_AMOUNT: z.coerce.number().int().positive().default(10_000_000),
});

export type PaymentConfig = z.infer<typeof paymentConfigSchema>;

export const loadPaymentConfig = (env: Record<string, string | undefined> = process.env): PaymentConfig => loadConfig(paymentConfigSchema, env);
