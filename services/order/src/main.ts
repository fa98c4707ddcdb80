import { createCallerAuthenticator, createServiceCredentials } from "@shop/auth";
import { parseDatabaseUrl } from "@shop/config";
import { listen, Resources } from "@shop/http-kit";
import { createLogger, type Logger } from "@shop/logging";
import { Registry } from "prom-client";
import { createSqlPool, startMessaging, type Messaging } from "@shop/outbox";
import { ParticipantRunner } from "@shop/saga";
import { createApp } from "./app.ts";
import { HttpProductCatalog } from "./clients/catalog-client.ts";
import { HttpCouponReservations } from "./clients/coupon-client.ts";
import { loadOrderConfig, type OrderConfig } from "./config.ts";
import { PgOrderChangeFeed } from "./data/order-change-feed.ts";
import { OrderSagaRepository } from "./data/order-saga-repository.ts";
import { PgOrderStore } from "./data/order-store.ts";
import { orderSagaParticipant, type OrderSagaEffect, type OrderSagaState } from "./domain/saga-participant.ts";
import { OrderService } from "./domain/order-service.ts";
import { admitPlacement } from "./domain/admission.ts";
import { BacklogSampler } from "./jobs/backlog-sampler.ts";
import { DeadlineSweeper } from "./jobs/deadline-sweeper.ts";

export interface RunningOrder {
  url: string;
  port: number;
  orders: OrderService;
  /** The order's saga participant: what the consumer feeds, and what tests may feed directly. */
  saga: ParticipantRunner<OrderSagaState, OrderSagaEffect>;
  sweeper?: DeadlineSweeper;
  messaging?: Messaging;
  stop(): Promise<void>;
}

/** The backlog's head is its 20th-oldest order: a few stuck orders must not close the shop. */
const BACKLOG_HEAD_POSITION = 20;

/** Owns the port and every connection; `stop()` releases them in reverse order. */
export async function start(config: OrderConfig = loadOrderConfig(), logger: Logger = createLogger("order", config.LOG_LEVEL)): Promise<RunningOrder> {
  const resources = new Resources(logger);
  try {
    const database = parseDatabaseUrl(config.DATABASE_URL);
    const pool = resources.add("database", createSqlPool(database, { size: config.DB_POOL_SIZE, name: "order", logger }), (p) => p.end());
    const credentials = createServiceCredentials({ secret: config.SERVICE_TOKEN_SECRET, service: "order" });
    const upstream = { timeoutMs: config.UPSTREAM_TIMEOUT_MS, resetTimeoutMs: config.UPSTREAM_BREAKER_RESET_MS, logger, credentials };
    const catalog = resources.add("catalog circuit", new HttpProductCatalog({ ...upstream, baseUrl: config.CATALOG_URL }), (c) => c.shutdown());
    const coupons = resources.add("coupon circuit", new HttpCouponReservations({ ...upstream, baseUrl: config.COUPON_URL }), (c) => c.shutdown());
    const changes = new PgOrderChangeFeed(database, logger);
    // Load shedding reads a sample, never the database, on the placement path.
    let backlog: BacklogSampler | undefined;
    const limits = {
      maxHeadAgeMs: config.ADMISSION_MAX_BACKLOG_AGE_MS ?? Math.round(config.SAGA_TIMEOUT_MS / 3),
      maxPending: config.ADMISSION_MAX_PENDING_ORDERS,
      staleAfterMs: Math.max(5_000, config.ADMISSION_SAMPLE_INTERVAL_MS * 10),
    };
    const orders = new OrderService(new PgOrderStore(pool, database.schema, config.TOPIC_PREFIX), catalog, coupons, changes, {
      sagaTimeoutMs: config.SAGA_TIMEOUT_MS,
      admission: () => admitPlacement(backlog?.latest, limits, Date.now()),
    });
    if (config.ADMISSION_SAMPLE_INTERVAL_MS > 0) {
      backlog = resources.add("backlog sampler", new BacklogSampler(() => orders.sagaBacklog(BACKLOG_HEAD_POSITION), config.ADMISSION_SAMPLE_INTERVAL_MS, logger), (s) => s.stop());
      backlog.start();
    }
    const saga = new ParticipantRunner({
      participant: orderSagaParticipant,
      repository: new OrderSagaRepository(database.schema),
      pool,
      outbox: { schema: database.schema, topicPrefix: config.TOPIC_PREFIX },
      // The order rows exist (this service wrote them): the load locks them, no advisory lock is needed.
      orderLocks: "taken-by-load",
    });
    const metrics = new Registry();
    const messaging = config.EVENTS_ENABLED
      ? resources.add(
          "messaging",
          await startMessaging({
            service: "order",
            brokers: config.KAFKA_BROKERS,
            registryUrl: config.SCHEMA_REGISTRY_URL,
            topicPrefix: config.TOPIC_PREFIX,
            database,
            publishes: ["OrderPlaced", "OrderFailed", "OrderCompleted"],
            batchHandlers: saga.batchHandlers(),
            logger,
            metrics,
          }),
          (m) => m.stop(),
        )
      : undefined;
    // Started after messaging so that it is released before it: only HTTP waiters use it.
    resources.add("order change feed", changes, (c) => c.stop());
    await changes.start();
    const sweeper = config.DEADLINE_SWEEPER_ENABLED ? resources.add("deadline sweeper", new DeadlineSweeper(orders, config.DEADLINE_SWEEP_INTERVAL_MS, logger), (s) => s.stop()) : undefined;
    sweeper?.start();
    const app = createApp({
      auth: createCallerAuthenticator(config),
      orders,
      logger,
      metrics,
      readiness: {
        postgres: () => pool.query("SELECT 1"),
        ...(messaging ? { kafka: () => messaging.ready() } : {}),
      },
    });
    const server = resources.add("http server", await listen(app, config.PORT, config.HOST), (s) => s.close());
    logger.info({ url: server.url }, "order service listening");
    return { url: server.url, port: server.port, orders, saga, sweeper, messaging, stop: () => resources.releaseAll() };
  } catch (error) {
    await resources.releaseAll().catch(() => undefined);
    throw error;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const running = await start();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void running.stop().then(() => process.exit(0)));
}
