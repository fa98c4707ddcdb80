import { createCallerAuthenticator } from "@shop/auth";
import { parseDatabaseUrl } from "@shop/config";
import { Resources, listen } from "@shop/http-kit";
import { createLogger, type Logger } from "@shop/logging";
import { Registry } from "prom-client";
import { createSqlPool, startMessaging, type Messaging } from "@shop/outbox";
import { ParticipantRunner } from "@shop/saga";
import { createApp } from "./app.ts";
import { loadCatalogConfig, redisKeyPrefix, type CatalogConfig } from "./config.ts";
import { PgCatalogStore } from "./data/catalog-store.ts";
import { RedisProductCache } from "./data/product-cache.ts";
import { createRedis, whenReady } from "./data/redis.ts";
import { RedisSalesRanking } from "./data/sales-ranking.ts";
import { PgStockRepository } from "./data/stock-repository.ts";
import { CatalogService } from "./domain/catalog-service.ts";
import type { Clock } from "./domain/ports.ts";
import { topSellersWindow } from "./domain/sales-window.ts";
import { stockParticipant, type StockEffect, type StockState } from "./domain/saga-participant.ts";
import { seedDemoCatalog } from "./domain/seeding.ts";

export interface RunningCatalog {
  url: string;
  port: number;
  catalog: CatalogService;
  /** The catalog's saga steps (reserve, release, complete); Kafka feeds it, tests may call `handle`. */
  saga: ParticipantRunner<StockState, StockEffect>;
  messaging?: Messaging;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** The clock of the top-sellers window (tests pin it). */
  now?: Clock;
}

/** Owns the port and every connection; `stop()` releases them in reverse order. */
export async function start(
  config: CatalogConfig = loadCatalogConfig(),
  logger: Logger = createLogger("catalog", config.LOG_LEVEL),
  options: StartOptions = {},
): Promise<RunningCatalog> {
  const resources = new Resources(logger);
  try {
    const now = options.now ?? (() => new Date());
    const database = parseDatabaseUrl(config.DATABASE_URL);
    const pool = resources.add("database", createSqlPool(database, { size: config.DB_POOL_SIZE, name: "catalog", logger }), (p) => p.end());
    const redis = resources.add("redis", createRedis(config.REDIS_URL, logger), (r) => r.disconnect());
    const keyPrefix = redisKeyPrefix(config);
    const store = new PgCatalogStore(pool);
    const ranking = new RedisSalesRanking(redis, (day) => store.daySalesSnapshot(day), {
      keyPrefix,
      dayTtlMs: config.TOP_SELLERS_DAY_TTL_MS,
      rankingTtlMs: config.TOP_SELLERS_CACHE_TTL_MS,
      logger,
    });
    const productCache = new RedisProductCache(redis, keyPrefix, config.PRODUCT_CACHE_TTL_MS, logger);
    const catalog = new CatalogService(store, productCache, ranking, now);
    const saga = new ParticipantRunner({
      participant: stockParticipant,
      repository: new PgStockRepository(ranking, productCache),
      pool,
      outbox: { schema: database.schema, topicPrefix: config.TOPIC_PREFIX },
    });

    if (config.SEED_DEMO_DATA) {
      const inserted = await seedDemoCatalog(store);
      if (inserted) logger.info({ inserted }, "seeded the demo catalog");
    }
    // A previous process may have died between a sale's commit and its Redis increment: rebuild.
    if (await whenReady(redis, 2_000)) await ranking.forget(topSellersWindow(now()).days);
    else logger.warn("redis not reachable at start; the catalog serves from PostgreSQL until it is");

    const metrics = new Registry();
    const messaging = config.EVENTS_ENABLED
      ? await startMessaging({
          service: "catalog",
          brokers: config.KAFKA_BROKERS,
          registryUrl: config.SCHEMA_REGISTRY_URL,
          topicPrefix: config.TOPIC_PREFIX,
          database,
          publishes: ["StockReserved", "StockReservationFailed"],
          batchHandlers: saga.batchHandlers(),
          logger,
          metrics,
        }).then((m) => resources.add("messaging", m, (x) => x.stop()))
      : undefined;
    const app = createApp({
      auth: createCallerAuthenticator(config),
      catalog,
      logger,
      metrics,
      readiness: {
        postgres: () => pool.query("SELECT 1"),
        redis: () => redis.ping(),
        ...(messaging ? { kafka: () => messaging.ready() } : {}),
      },
    });
    const server = resources.add("http server", await listen(app, config.PORT, config.HOST), (x) => x.close());
    logger.info({ url: server.url }, "catalog service listening");
    return {
      url: server.url,
      port: server.port,
      catalog,
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
