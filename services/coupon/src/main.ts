import { createCallerAuthenticator, createServiceCredentials } from "@shop/auth";
import { Registry } from "prom-client";
import { parseDatabaseUrl } from "@shop/config";
import { Resources, listen } from "@shop/http-kit";
import { createLogger, type Logger } from "@shop/logging";
import { createSqlPool, startMessaging, type Messaging } from "@shop/outbox";
import { ParticipantRunner } from "@shop/saga";
import { createApp } from "./app.ts";
import { startPeriodic } from "./background.ts";
import { HttpPlacedOrders } from "./clients/placed-orders.ts";
import { loadCouponConfig, type CouponConfig } from "./config.ts";
import { CouponSagaRepository } from "./data/coupon-saga-repository.ts";
import { SqlCouponStore } from "./data/coupon-store.ts";
import { createRedis, RedisAdmissionGate } from "./data/redis-admission.ts";
import { CampaignService } from "./domain/campaign-service.ts";
import { defaultIssueSettings, IssueService } from "./domain/issue-service.ts";
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

/** Owns the port and every connection; `stop()` releases them in reverse order. */
export async function start(config: CouponConfig = loadCouponConfig(), logger: Logger = createLogger("coupon", config.LOG_LEVEL)): Promise<RunningCoupon> {
  const resources = new Resources(logger);
  try {
    const database = parseDatabaseUrl(config.DATABASE_URL);
    const pool = resources.add("database", createSqlPool(database, { size: config.DB_POOL_SIZE, name: "coupon", logger }), (p) => p.end());
    const redis = resources.add("redis", createRedis(config.REDIS_URL, config.REDIS_AUTO_PIPELINING), (r) => r.quit().catch(() => r.disconnect()));
    redis.on("error", (error) => logger.warn({ err: error }, "redis connection error"));
    // One group commit per campaign is in flight at a time: a few connections serve many campaigns.
    const issuePool = resources.add("issue pool", createSqlPool(database, { size: config.ISSUE_DB_POOL_SIZE, name: "coupon-issue", logger }), (p) => p.end());
    const store = new SqlCouponStore(pool, issuePool);
    const gate = new RedisAdmissionGate(redis, config.REDIS_KEY_PREFIX);
    const campaigns = new CampaignService(store, gate, logger);
    const metrics = new Registry();
    const issuing = new IssueService(
      store,
      gate,
      logger,
      { ...defaultIssueSettings, batchMaxWaitMs: config.ISSUE_BATCH_MAX_WAIT_MS, batchMaxSize: config.ISSUE_BATCH_MAX_SIZE, staleAdmissionMs: config.ADMISSION_STALE_MS },
      issueMetrics(metrics),
    );
    const placedOrders = new HttpPlacedOrders({
      baseUrl: config.ORDER_URL,
      timeoutMs: config.ORDER_LOOKUP_TIMEOUT_MS,
      credentials: createServiceCredentials({ secret: config.SERVICE_TOKEN_SECRET, service: "coupon" }),
    });
    const reservations = new ReservationService(store, placedOrders, logger);
    const saga = new ParticipantRunner({ participant: couponSaga, repository: new CouponSagaRepository(logger), pool, outbox: { schema: database.schema, topicPrefix: config.TOPIC_PREFIX } });
    const messaging = config.EVENTS_ENABLED
      ? await startMessaging({
          service: "coupon",
          brokers: config.KAFKA_BROKERS,
          registryUrl: config.SCHEMA_REGISTRY_URL,
          topicPrefix: config.TOPIC_PREFIX,
          database,
          publishes: [],
          batchHandlers: saga.batchHandlers(),
          logger,
          metrics,
        }).then((m) => resources.add("messaging", m, (x) => x.stop()))
      : undefined;
    resources.add("sweepers", [
      startPeriodic("settle-stale-admissions", config.ADMISSION_SWEEP_INTERVAL_MS, () => issuing.settleStaleAdmissions(), logger),
      // Only where the saga's events are consumed: an HTTP-only replica cannot tell a lagging consumer from an orphan.
      ...(config.EVENTS_ENABLED
        ? [startPeriodic("release-orphan-reservations", config.RESERVATION_SWEEP_INTERVAL_MS, () => reservations.releaseOrphans(config.COUPON_RESERVATION_TTL_MS), logger)]
        : []),
    ], (all) => Promise.all(all.map((s) => s.stop())));
    // Released after the server closes: requests already admitted are still answered and written.
    resources.add("issue committer", issuing, (i) => i.quiesce());
    const app = createApp({
      auth: createCallerAuthenticator(config),
      campaigns,
      issuing,
      reservations,
      logger,
      metrics,
      readiness: {
        postgres: () => Promise.all([pool.query("SELECT 1"), issuePool.query("SELECT 1")]),
        redis: () => redis.ping(),
        ...(messaging ? { kafka: () => messaging.ready() } : {}),
      },
    });
    const server = resources.add("http server", await listen(app, config.PORT, config.HOST), (x) => x.close());
    logger.info({ url: server.url }, "coupon service listening");
    return {
      url: server.url,
      port: server.port,
      campaigns,
      issuing,
      reservations,
      saga,
      messaging,
      stop: () => resources.releaseAll(),
    };
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
