import { parseDatabaseUrl } from "@shop/config";
import { listen } from "@shop/http-kit";
import { createLogger, type Logger } from "@shop/logging";
import { startMessaging, type Messaging } from "@shop/outbox";
import { createApp } from "./app.ts";
import { loadWalletConfig, type WalletConfig } from "./config.ts";
import { createPrismaClient } from "./data/prisma.ts";
import { PrismaWalletStore } from "./data/wallet-store.ts";
import { WalletService } from "./domain/wallet-service.ts";
import { walletEventHandlers } from "./events/handlers.ts";

export interface RunningWallet {
  url: string;
  port: number;
  wallet: WalletService;
  messaging?: Messaging;
  stop(): Promise<void>;
}

/** Owns the port and every connection; `stop()` releases them in reverse order. */
export async function start(config: WalletConfig = loadWalletConfig(), logger: Logger = createLogger("wallet", config.LOG_LEVEL)): Promise<RunningWallet> {
  const database = parseDatabaseUrl(config.DATABASE_URL);
  const prisma = createPrismaClient(database, config.DB_POOL_SIZE);
  const wallet = new WalletService(new PrismaWalletStore(prisma, database.schema, config.TOPIC_PREFIX));
  const messaging = config.EVENTS_ENABLED
    ? await startMessaging({
        service: "wallet",
        brokers: config.KAFKA_BROKERS,
        registryUrl: config.SCHEMA_REGISTRY_URL,
        topicPrefix: config.TOPIC_PREFIX,
        database,
        publishes: ["BalanceDebited", "BalanceDebitFailed"],
        handlers: walletEventHandlers(wallet),
        logger,
      })
    : undefined;
  const app = createApp({
    wallet,
    logger,
    readiness: {
      postgres: () => prisma.$queryRaw`SELECT 1`,
      ...(messaging ? { kafka: () => messaging.ready() } : {}),
    },
  });
  const server = await listen(app, config.PORT, config.HOST);
  logger.info({ url: server.url }, "wallet service listening");
  return {
    url: server.url,
    port: server.port,
    wallet,
    messaging,
    stop: async () => {
      await server.close();
      await messaging?.stop();
      await prisma.$disconnect();
    },
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const running = await start();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void running.stop().then(() => process.exit(0)));
}
