import { createCallerAuthenticator } from "@shop/auth";
import { parseDatabaseUrl } from "@shop/config";
import { createSqlPool, type Messaging } from "@shop/outbox";
import { ParticipantRunner } from "@shop/saga";
import { defineService, isEntryPoint, runService } from "@shop/service-kit";
import { createApp } from "./app.ts";
import { loadWalletConfig } from "./config.ts";
import { walletSagaRepository } from "./data/wallet-saga-repository.ts";
import { PgWalletStore } from "./data/wallet-store.ts";
import { walletParticipant, type WalletEffect, type WalletSagaState } from "./domain/saga-participant.ts";
import { WalletService } from "./domain/wallet-service.ts";

export interface RunningWallet {
  url: string;
  port: number;
  wallet: WalletService;
  /** The wallet's saga reactions; `saga.handle(type, events)` applies a batch directly (tests, benchmarks). */
  saga: ParticipantRunner<WalletSagaState, WalletEffect>;
  messaging?: Messaging;
  stop(): Promise<void>;
}

export const walletService = defineService({
  name: "wallet",
  loadConfig: loadWalletConfig,
  start: async (config, ctx): Promise<Omit<RunningWallet, "stop">> => {
    const database = parseDatabaseUrl(config.DATABASE_URL);
    const pool = ctx.own("database", createSqlPool(database, { size: config.DB_POOL_SIZE, name: "wallet", logger: ctx.logger }), (p) => p.end());
    ctx.ready("postgres", () => pool.query("SELECT 1"));
    const wallet = new WalletService(new PgWalletStore(pool));
    const saga = new ParticipantRunner({
      participant: walletParticipant,
      repository: walletSagaRepository,
      pool,
      outbox: { schema: database.schema, topicPrefix: config.TOPIC_PREFIX },
    });
    const messaging = await ctx.messaging({ publishes: ["BalanceDebited", "BalanceDebitFailed"], batchHandlers: saga.batchHandlers() });
    const app = createApp({ auth: createCallerAuthenticator(config), wallet, logger: ctx.logger, metrics: ctx.metrics, readiness: ctx.readiness });
    const server = await ctx.listen(app);
    return { url: server.url, port: server.port, wallet, saga, messaging };
  },
});

/** Owns the port and every connection (tests start it on port 0); `stop()` releases them in reverse order. */
export const start = walletService.start;

if (isEntryPoint(import.meta.url)) await runService(walletService);
