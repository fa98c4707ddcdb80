import { createCallerAuthenticator } from "@shop/auth";
import { parseDatabaseUrl } from "@shop/config";
import { Resources, listen } from "@shop/http-kit";
import { createLogger, type Logger } from "@shop/logging";
import { Registry } from "prom-client";
import { createSqlPool, startMessaging, type Messaging } from "@shop/outbox";
import { ParticipantRunner } from "@shop/saga";
import { createApp } from "./app.ts";
import { loadWalletConfig, type WalletConfig } from "./config.ts";
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

/** Owns the port and every connection; `stop()` releases them in reverse order. */
export async function start(config: WalletConfig = loadWalletConfig(), logger: Logger = createLogger("wallet", config.LOG_LEVEL)): Promise<RunningWallet> {
  const resources = new Resources(logger);
  try {
    const database = parseDatabaseUrl(config.DATABASE_URL);
    const pool = resources.add("database", createSqlPool(database, { size: config.DB_POOL_SIZE, name: "wallet", logger }), (p) => p.end());
    const wallet = new WalletService(new PgWalletStore(pool));
    const saga = new ParticipantRunner({ participant: walletParticipant, repository: walletSagaRepository, pool, outbox: { schema: database.schema, topicPrefix: config.TOPIC_PREFIX } });
    const metrics = new Registry();
    const messaging = config.EVENTS_ENABLED
      ? resources.add(
          "messaging",
          await startMessaging({
            service: "wallet",
            brokers: config.KAFKA_BROKERS,
            registryUrl: config.SCHEMA_REGISTRY_URL,
            topicPrefix: config.TOPIC_PREFIX,
            database,
            publishes: ["BalanceDebited", "BalanceDebitFailed"],
            batchHandlers: saga.batchHandlers(),
            logger,
            metrics,
          }),
          (m) => m.stop(),
        )
      : undefined;
    const app = createApp({
      auth: createCallerAuthenticator(config),
      wallet,
      logger,
      metrics,
      readiness: {
        postgres: () => pool.query("SELECT 1"),
        ...(messaging ? { kafka: () => messaging.ready() } : {}),
      },
    });
    const server = resources.add("http server", await listen(app, config.PORT, config.HOST), (s) => s.close());
    logger.info({ url: server.url }, "wallet service listening");
    return { url: server.url, port: server.port, wallet, saga, messaging, stop: () => resources.releaseAll() };
  } catch (error) {
    // A start that fails half-way releases what it had opened (no relay or consumer left running).
    await resources.releaseAll().catch(() => undefined);
    throw error;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const running = await start();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void running.stop().then(() => process.exit(0)));
}
