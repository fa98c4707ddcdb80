import { createCallerAuthenticator } from "@shop/auth";
import { parseDatabaseUrl } from "@shop/config";
import { createSqlPool, type Messaging } from "@shop/outbox";
import { ParticipantRunner } from "@shop/saga";
import { closeRedis, createRedis, defineService, isEntryPoint, runService, systemClock, whenReady } from "@shop/service-kit";
import { createApp } from "./app.ts";
import { loadCatalogConfig, redisKeyPrefix } from "./config.ts";
import { PgCatalogStore } from "./data/catalog-store.ts";
import { RedisProductCache } from "./data/product-cache.ts";
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
  /** The clock of the domain (tests pin the top-sellers window with it). */
  now?: Clock;
}

export const catalogService = defineService({
  name: "catalog",
  loadConfig: loadCatalogConfig,
  start: async (config, ctx, options: StartOptions): Promise<Omit<RunningCatalog, "stop">> => {
    const { logger } = ctx;
    const now = options.now ?? systemClock;
    const database = parseDatabaseUrl(config.DATABASE_URL);
    const pool = ctx.own("database", createSqlPool(database, { size: config.DB_POOL_SIZE, name: "catalog", logger }), (p) => p.end());
    ctx.ready("postgres", () => pool.query("SELECT 1"));
    // A cache: while Redis is away every read falls back to PostgreSQL, so commands fail fast.
    const redis = ctx.own("redis", createRedis(config.REDIS_URL, { logger, whileDown: "serving from PostgreSQL", commandTimeoutMs: 500 }), closeRedis);
    ctx.ready("redis", () => redis.ping());
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
      const inserted = await seedDemoCatalog(store, now());
      if (inserted) logger.info({ inserted }, "seeded the demo catalog");
    }
    // A previous process may have died between a sale's commit and its Redis increment: rebuild.
    if (await whenReady(redis, 2_000)) await ranking.forget(topSellersWindow(now()).days);
    else logger.warn("redis not reachable at start; the catalog serves from PostgreSQL until it is");

    const messaging = await ctx.messaging({ publishes: ["StockReserved", "StockReservationFailed"], batchHandlers: saga.batchHandlers() });
    const app = createApp({ auth: createCallerAuthenticator(config), catalog, logger, metrics: ctx.metrics, readiness: ctx.readiness });
    const server = await ctx.listen(app);
    return { url: server.url, port: server.port, catalog, saga, messaging };
  },
});

/** Owns the port and every connection (tests start it on port 0); `stop()` releases them in reverse order. */
export const start = catalogService.start;

if (isEntryPoint(import.meta.url)) await runService(catalogService);
