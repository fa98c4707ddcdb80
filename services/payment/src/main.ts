import { createCallerAuthenticator } from "@shop/auth";
import { parseDatabaseUrl } from "@shop/config";
import { listen, Resources } from "@shop/http-kit";
import { createLogger, type Logger } from "@shop/logging";
import { Registry } from "prom-client";
import { createSqlPool, startMessaging, type Messaging } from "@shop/outbox";
import { ParticipantRunner } from "@shop/saga";
import { createApp } from "./app.ts";
import { loadPaymentConfig, type PaymentConfig } from "./config.ts";
import { paymentSagaRepository } from "./data/payment-saga-repository.ts";
import { SqlPaymentStore } from "./data/payment-store.ts";
import { PaymentService } from "./domain/payment-service.ts";
import { paymentParticipant, type PaymentEffect, type PaymentSagaState } from "./domain/saga-participant.ts";

export interface RunningPayment {
  url: string;
  port: number;
  payments: PaymentService;
  /** The saga step (StockReserved, OrderFailed): the consumer feeds it batches; tests may call `saga.handle` directly. */
  saga: ParticipantRunner<PaymentSagaState, PaymentEffect>;
  messaging?: Messaging;
  stop(): Promise<void>;
}

/** Owns the port and every connection; `stop()` releases them in reverse order. */
export async function start(config: PaymentConfig = loadPaymentConfig(), logger: Logger = createLogger("payment", config.LOG_LEVEL)): Promise<RunningPayment> {
  const resources = new Resources(logger);
  try {
    const database = parseDatabaseUrl(config.DATABASE_URL);
    const pool = resources.add("database", createSqlPool(database, { size: config.DB_POOL_SIZE, name: "payment", logger }), (p) => p.end());
    const payments = new PaymentService(new SqlPaymentStore(pool));
    const saga = new ParticipantRunner({
      participant: paymentParticipant({ maxAmount: config.PAYMENT_MAX_AMOUNT }),
      repository: paymentSagaRepository,
      pool,
      outbox: { schema: database.schema, topicPrefix: config.TOPIC_PREFIX },
    });
    const metrics = new Registry();
    const messaging = config.EVENTS_ENABLED
      ? resources.add(
          "messaging",
          await startMessaging({
            service: "payment",
            brokers: config.KAFKA_BROKERS,
            registryUrl: config.SCHEMA_REGISTRY_URL,
            topicPrefix: config.TOPIC_PREFIX,
            database,
            publishes: ["PaymentCompleted", "PaymentFailed"],
            batchHandlers: saga.batchHandlers(),
            logger,
            metrics,
          }),
          (m) => m.stop(),
        )
      : undefined;
    const app = createApp({
      auth: createCallerAuthenticator(config),
      payments,
      logger,
      metrics,
      readiness: {
        postgres: () => pool.query("SELECT 1"),
        ...(messaging ? { kafka: () => messaging.ready() } : {}),
      },
    });
    const server = resources.add("http server", await listen(app, config.PORT, config.HOST), (s) => s.close());
    logger.info({ url: server.url }, "payment service listening");
    return { url: server.url, port: server.port, payments, saga, messaging, stop: () => resources.releaseAll() };
  } catch (error) {
    await resources.releaseAll().catch(() => undefined);
    throw error;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const running = await start();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void running.stop().then(() => process.exit(0)));
}
