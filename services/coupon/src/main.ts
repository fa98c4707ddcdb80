import { createCallerAuthenticator, createServiceCredentials } from "@shop/auth";
import { parseDatabaseUrl } from "@shop/config";
import { createSqlPool, type Messaging } from "@shop/outbox";
import { ParticipantRunner } from "@shop/saga";
import { closeRedis, createRedis, defineService, isEntryPoint, runService, systemClock } from "@shop/service-kit";
import { createApp } from "./app.ts";
import { HttpPlacedOrders } from "./clients/placed-orders.ts";
import { loadCouponConfig } from "./config.ts";
import { CouponSagaRepository } from "./data/coupon-saga-repository.ts";
import { SqlCouponStore } from "./data/coupon-store.ts";
import { RedisAdmissionGate } from "./data/redis-admission.ts";
import { CampaignService } from "./domain/campaign-service.ts";
import { defaultIssueSettings, IssueService } from "./domain/issue-service.ts";
import type { Clock } from "./domain/ports.ts";
import { ReservationService } from "./domain/reservation-service.ts";
import { couponSaga, type CouponSagaEffect, type CouponSagaState } from "./domain/saga-participant.ts";
import { issueMetrics } from "./metrics.ts";

export interface RunningCoupon {
  url: string;
  port: number;
  campaigns: CampaignService;
  issuing: IssueService;
  reservations: ReservationService;
  /** The saga's reactions (OrderPlaced, OrderCompleted, OrderFailed); `handle` applies a batch directly. */
  saga: ParticipantRunner<CouponSagaState, CouponSagaEffect>;
  messaging?: Messaging;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The clock of the domain (tests may pin it). */
  now?: Clock;
}

export const couponService = defineService({
  name: "coupon",
  loadConfig: loadCouponConfig,
  start: async (config, ctx, options: StartOptions): Promise<Omit<RunningCoupon, "stop">> => {
    const { logger } = ctx;
    const now = options.now ?? systemClock;
    const database = parseDatabaseUrl(config.DATABASE_URL);
    const pool = ctx.own("database", createSqlPool(database, { size: config.DB_POOL_SIZE, name: "coupon", logger }), (p) => p.end());
    // Admission has no fallback: while Redis reconnects, commands wait in the offline queue.
    const redis = ctx.own(
      "redis",
      createRedis(config.REDIS_URL, {
        logger,
        whileDown: "coupons cannot be issued until it is back",
        offlineQueue: true,
        maxRetriesPerRequest: 2,
        autoPipelining: config.REDIS_AUTO_PIPELINING,
      }),
      closeRedis,
    );
    // One group commit per campaign is in flight at a time: a few connections serve many campaigns.
    const issuePool = ctx.own("issue pool", createSqlPool(database, { size: config.ISSUE_DB_POOL_SIZE, name: "coupon-issue", logger }), (p) => p.end());
    ctx.ready("postgres", () => Promise.all([pool.query("SELECT 1"), issuePool.query("SELECT 1")]));
    ctx.ready("redis", () => redis.ping());
    const store = new SqlCouponStore(pool, issuePool);
    const gate = new RedisAdmissionGate(redis, config.REDIS_KEY_PREFIX);
    const campaigns = new CampaignService(store, gate, logger, now);
    const issuing = new IssueService(
      store,
      gate,
      logger,
      now,
      {
        ...defaultIssueSettings,
        batchMaxWaitMs: config.ISSUE_BATCH_MAX_WAIT_MS,
        batchMaxSize: config.ISSUE_BATCH_MAX_SIZE,
        staleAdmissionMs: config.ADMISSION_STALE_MS,
      },
      issueMetrics(ctx.metrics),
    );
    const placedOrders = new HttpPlacedOrders({
      baseUrl: config.ORDER_URL,
      timeoutMs: config.ORDER_LOOKUP_TIMEOUT_MS,
      credentials: createServiceCredentials({ secret: config.SERVICE_TOKEN_SECRET, service: "coupon" }),
    });
    const reservations = new ReservationService(store, placedOrders, logger, now);
    const saga = new ParticipantRunner({
      participant: couponSaga,
      repository: new CouponSagaRepository(logger),
      pool,
      outbox: { schema: database.schema, topicPrefix: config.TOPIC_PREFIX },
    });
    const messaging = await ctx.messaging({ publishes: [], batchHandlers: saga.batchHandlers() });
    ctx.every({ name: "settle-stale-admissions", intervalMs: config.ADMISSION_SWEEP_INTERVAL_MS, run: () => issuing.settleStaleAdmissions() });
    // Only where the saga's events are consumed: an HTTP-only replica cannot tell a lagging consumer from an orphan.
    if (config.EVENTS_ENABLED) {
      ctx.every({
        name: "release-orphan-reservations",
        intervalMs: config.RESERVATION_SWEEP_INTERVAL_MS,
        run: () => reservations.releaseOrphans(config.COUPON_RESERVATION_TTL_MS),
      });
    }
    // Released after the server closes: requests already admitted are still answered and written.
    ctx.own("issue committer", issuing, (i) => i.quiesce());
    const app = createApp({
      auth: createCallerAuthenticator(config),
      campaigns,
      issuing,
      reservations,
      logger,
      metrics: ctx.metrics,
      readiness: ctx.readiness,
    });
    const server = await ctx.listen(app);
    return { url: server.url, port: server.port, campaigns, issuing, reservations, saga, messaging };
  },
});

/** Owns the port and every connection (tests start it on port 0); `stop()` releases them in reverse order. */
export const start = couponService.start;

if (isEntryPoint(import.meta.url)) await runService(couponService);
