import { z } from "zod";
import { baseConfigSchema, configFields, databaseUrlSchema, loadConfig } from "@shop/config";

export const walletConfigSchema = baseConfigSchema.extend({
  PORT: configFields.port(3001),
  DATABASE_URL: databaseUrlSchema("wallet"),
  /** Connections of the plain pg pool; with the relay's one, what a replica holds (connection budget: docs/deployment.md). */
  DB_POOL_SIZE: z.coerce.number().int().min(1).max(100).default(4),
  /** Consume saga events and relay the outbox; off for an HTTP-only replica. */
  EVENTS_ENABLED: configFields.bool(true),
});

export type WalletConfig = z.infer<typeof walletConfigSchema>;

export const loadWalletConfig = (env: Record<string, string | undefined> = process.env): WalletConfig => loadConfig(walletConfigSchema, env);
