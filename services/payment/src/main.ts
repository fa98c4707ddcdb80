import { createCallerAuthenticator } from "@shop/auth";
import { parseDatabaseUrl } from "@shop/config";
import { createSqlPool, type Messaging } from "@shop/outbox";
import { ParticipantRunner } from "@shop/saga";
import { defineService, isEntryPoint, runService } from "@shop/service-kit";
import { createApp } from "./app.ts";
import { loadPaymentConfig } from "./config.ts";
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

export const paymentService = defineService({
  name: "payment",
  loadConfig: loadPaymentConfig,
  start: async (config, ctx): Promise<Omit<RunningPayment, "stop">> => {
    const database = parseDatabaseUrl(config.DATABASE_URL);
    const pool = ctx.own("database", createSqlPool(database, { size: config.DB_POOL_SIZE, name: "payment", logger: ctx.logger }), (p) => p.end());
    ctx.ready("postgres", () => pool.query("SELECT 1"));
    const payments = new PaymentService(new SqlPaymentStore(pool));
    const saga = new ParticipantRunner({
      participant: paymentParticipant({ maxAmount: config.PAYMENT_MAX_AMOUNT }),
      repository: paymentSagaRepository,
      pool,
      outbox: { schema: database.schema, topicPrefix: config.TOPIC_PREFIX },
    });
    const messaging = await ctx.messaging({ publishes: ["PaymentCompleted", "PaymentFailed"], batchHandlers: saga.batchHandlers() });
    const app = createApp({ auth: createCallerAuthenticator(config), payments, logger: ctx.logger, metrics: ctx.metrics, readiness: ctx.readiness });
    const server = await ctx.listen(app);
    return { url: server.url, port: server.port, payments, saga, messaging };
  },
});

/** Owns the port and every connection (tests start it on port 0); `stop()` releases them in reverse order. */
export const start = paymentService.start;

if (isEntryPoint(import.meta.url)) await runService(paymentService);
