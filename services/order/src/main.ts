import { createCallerAuthenticator, createServiceCredentials } from "@shop/auth";
import { parseDatabaseUrl } from "@shop/config";
import { createSqlPool, type Messaging } from "@shop/outbox";
import { ParticipantRunner } from "@shop/saga";
import { defineService, isEntryPoint, runService, systemClock, type PeriodicJob } from "@shop/service-kit";
import { createApp } from "./app.ts";
import { HttpProductCatalog } from "./clients/catalog-client.ts";
import { registerCircuitGauge } from "./clients/circuit.ts";
import { HttpCouponReservations } from "./clients/coupon-client.ts";
import { loadOrderConfig } from "./config.ts";
import { PgOrderChangeFeed } from "./data/order-change-feed.ts";
import { OrderSagaRepository } from "./data/order-saga-repository.ts";
import { PgOrderStore } from "./data/order-store.ts";
import { orderSagaParticipant, type OrderSagaEffect, type OrderSagaState } from "./domain/saga-participant.ts";
import { OrderService } from "./domain/order-service.ts";
import { admitPlacement } from "./domain/admission.ts";
import type { Clock } from "./domain/ports.ts";
import { BacklogSampler } from "./jobs/backlog-sampler.ts";
import { DeadlineSweeper } from "./jobs/deadline-sweeper.ts";

export interface RunningOrder {
  url: string;
  port: number;
  orders: OrderService;
  /** The order's saga participant: what the consumer feeds, and what tests may feed directly. */
  saga: ParticipantRunner<OrderSagaState, OrderSagaEffect>;
  /** The deadline sweeper's job (absent when DEADLINE_SWEEPER_ENABLED is false); tests stop it. */
  sweeper?: PeriodicJob;
  messaging?: Messaging;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The clock of the deadlines and the load shedding (tests may pin it). */
  now?: Clock;
}

/** The backlog's head is its 20th-oldest order: a few stuck orders must not close the shop. */
const BACKLOG_HEAD_POSITION = 20;

export const orderService = defineService({
  name: "order",
  loadConfig: loadOrderConfig,
  start: async (config, ctx, options: StartOptions): Promise<Omit<RunningOrder, "stop">> => {
    const { logger } = ctx;
    const now = options.now ?? systemClock;
    const database = parseDatabaseUrl(config.DATABASE_URL);
    const pool = ctx.own("database", createSqlPool(database, { size: config.DB_POOL_SIZE, name: "order", logger }), (p) => p.end());
    ctx.ready("postgres", () => pool.query("SELECT 1"));
    const credentials = createServiceCredentials({ secret: config.SERVICE_TOKEN_SECRET, service: "order" });
    const upstream = { timeoutMs: config.UPSTREAM_TIMEOUT_MS, resetTimeoutMs: config.UPSTREAM_BREAKER_RESET_MS, logger, credentials };
    const catalog = ctx.own("catalog circuit", new HttpProductCatalog({ ...upstream, baseUrl: config.CATALOG_URL }), (c) => c.shutdown());
    const coupons = ctx.own("coupon circuit", new HttpCouponReservations({ ...upstream, baseUrl: config.COUPON_URL }), (c) => c.shutdown());
    registerCircuitGauge(ctx.metrics, { catalog, coupon: coupons });
    const changes = new PgOrderChangeFeed(database, logger);
    // Load shedding reads a sample, never the database, on the placement path.
    const backlog: BacklogSampler = new BacklogSampler(
      () => orders.sagaBacklog(BACKLOG_HEAD_POSITION),
      () => now().getTime(),
    );
    const sheddingLoad = config.ADMISSION_SAMPLE_INTERVAL_MS > 0;
    const limits = {
      maxHeadAgeMs: config.ADMISSION_MAX_BACKLOG_AGE_MS ?? Math.round(config.SAGA_TIMEOUT_MS / 3),
      maxPending: config.ADMISSION_MAX_PENDING_ORDERS,
      staleAfterMs: Math.max(5_000, config.ADMISSION_SAMPLE_INTERVAL_MS * 10),
    };
    const orders = new OrderService(new PgOrderStore(pool, database.schema, config.TOPIC_PREFIX), catalog, coupons, changes, {
      sagaTimeoutMs: config.SAGA_TIMEOUT_MS,
      now,
      admission: () => admitPlacement(sheddingLoad ? backlog.latest : undefined, limits, now().getTime()),
    });
    if (sheddingLoad) {
      ctx.every({
        name: "backlog sampler",
        intervalMs: config.ADMISSION_SAMPLE_INTERVAL_MS,
        initialDelayMs: 0,
        run: () => backlog.refresh(),
        onError: (error) => logger.warn({ err: error }, "could not read the saga backlog; placement admits until it can"),
      });
    }
    const saga = new ParticipantRunner({
      participant: orderSagaParticipant,
      repository: new OrderSagaRepository(database.schema),
      pool,
      outbox: { schema: database.schema, topicPrefix: config.TOPIC_PREFIX },
      // The order rows exist (this service wrote them): the load locks them, no advisory lock is needed.
      orderLocks: "taken-by-load",
    });
    const messaging = await ctx.messaging({ publishes: ["OrderPlaced", "OrderFailed", "OrderCompleted"], batchHandlers: saga.batchHandlers() });
    // Started after messaging so that it is released before it: only HTTP waiters use it.
    ctx.own("order change feed", changes, (c) => c.stop());
    await changes.start();
    const deadlines = new DeadlineSweeper(orders, logger, now);
    const sweeper = config.DEADLINE_SWEEPER_ENABLED
      ? ctx.every({ name: "deadline sweeper", intervalMs: config.DEADLINE_SWEEP_INTERVAL_MS, run: (signal) => deadlines.sweep(signal) })
      : undefined;
    const app = createApp({ auth: createCallerAuthenticator(config), orders, logger, metrics: ctx.metrics, readiness: ctx.readiness });
    const server = await ctx.listen(app);
    return { url: server.url, port: server.port, orders, saga, sweeper, messaging };
  },
});

/** Owns the port and every connection (tests start it on port 0); `stop()` releases them in reverse order. */
export const start = orderService.start;

if (isEntryPoint(import.meta.url)) await runService(orderService);
