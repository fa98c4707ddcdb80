// Measurements quoted in the README (not a test): `cd services/catalog && npx tsx test/measure.ts`.
// Runs the real store, cache and saga runner against a throwaway schema; no Kafka involved.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { parseDatabaseUrl } from "@shop/config";
import type { BalanceDebited } from "@shop/events";
import { createTestSchema, silentLogger, uniqueTopicPrefix } from "@shop/testing";
import { createSqlPool, lockOrder } from "@shop/outbox";
import { ParticipantRunner, type ParticipantRepository } from "@shop/saga";
import { PgCatalogStore } from "../src/data/catalog-store.ts";
import { RedisProductCache } from "../src/data/product-cache.ts";
import { RedisSalesRanking } from "../src/data/sales-ranking.ts";
import { PgStockRepository } from "../src/data/stock-repository.ts";
import { CatalogService } from "../src/domain/catalog-service.ts";
import { stockParticipant, type StockEffect, type StockState } from "../src/domain/saga-participant.ts";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
const POOL = 10;

const db = await createTestSchema({ migrationsDir, label: "catalog-measure" });
const database = parseDatabaseUrl(db.databaseUrl);
const pool = createSqlPool(database, { size: POOL, name: "catalog-measure", logger: silentLogger });
const redis = new Redis("redis://127.0.0.1:6379/11");
const store = new PgCatalogStore(pool);
const keyPrefix = uniqueTopicPrefix("measure");
const ranking = new RedisSalesRanking(redis, (day) => store.daySalesSnapshot(day), { keyPrefix, dayTtlMs: 60_000, rankingTtlMs: 1000, logger: silentLogger });
const productCache = new RedisProductCache(redis, keyPrefix, 500, silentLogger);
const catalog = new CatalogService(store, productCache, ranking, () => new Date());

const repository = new PgStockRepository(ranking, productCache);
/** The same repository, but every batch first takes one lock shared by all orders. */
const globallyLocked: ParticipantRepository<StockState, StockEffect> = {
  load: async (tx, events) => {
    await lockOrder(tx, "measure", "one-lock-for-everything");
    return repository.load(tx, events);
  },
  save: (tx, effects, state) => repository.save(tx, effects, state),
};
const sagaOver = (over: ParticipantRepository<StockState, StockEffect>) =>
  new ParticipantRunner({ participant: stockParticipant, repository: over, pool, outbox: { schema: database.schema, topicPrefix: "measure." } });

const debit = (productId: string): BalanceDebited => ({
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  orderId: randomUUID(),
  userId: "measure",
  amount: 1000,
  items: [{ productId, quantity: 1, unitPrice: 1000 }],
});

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return performance.now() - started;
}

interface Run {
  latencies: number[];
  wallMs: number;
}

/** Runs `tasks` with at most `concurrency` in flight; returns each task's latency and the run's duration. */
async function run(tasks: (() => Promise<unknown>)[], concurrency: number): Promise<Run> {
  const latencies: number[] = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < tasks.length) latencies.push(await timed(tasks[next++]!));
    }),
  );
  return { latencies: latencies.sort((a, b) => a - b), wallMs: performance.now() - started };
}

const summary = (label: string, { latencies, wallMs }: Run) =>
  console.log(
    `${label.padEnd(58)} n=${latencies.length} ${Math.round((latencies.length / wallMs) * 1000)}/s p50=${percentile(latencies, 50).toFixed(1)}ms p99=${percentile(latencies, 99).toFixed(1)}ms`,
  );

type StockSaga = ReturnType<typeof sagaOver>;

/** One order per batch, as a consumer sees them when orders trickle in. */
const reserve = (saga: StockSaga, productId: string) => () => saga.handle("BalanceDebited", [debit(productId)]);

async function contention(label: string, saga: StockSaga) {
  const hot = (await catalog.createProduct({ name: "hot", price: 1000, stock: 300 })).id;
  const others = await Promise.all(Array.from({ length: 300 }, (_, i) => catalog.createProduct({ name: `other ${i}`, price: 1000, stock: 10 })));
  // Unrelated products alone, as a baseline.
  summary(
    `${label}: 300 orders of 300 distinct products, alone`,
    await run(
      others.map((p) => reserve(saga, p.id)),
      8,
    ),
  );
  // The same unrelated products ordered again while 600 orders fight over the hot one (300 units).
  const hotRun = run(
    Array.from({ length: 600 }, () => reserve(saga, hot)),
    8,
  );
  const beside = await run(
    others.map((p) => reserve(saga, p.id)),
    8,
  );
  summary(`${label}: 600 orders of one hot product (300 units)`, await hotRun);
  summary(`${label}: 300 unrelated orders beside the hot product`, beside);
  const [row] = await db.query<{ stock: number }>("SELECT stock FROM products WHERE id = $1", [hot]);
  console.log(`${label}: hot product stock after the run = ${row!.stock}`);
}

/** Orders of one hot product arriving as full partition batches: one transaction per 100 orders. */
async function batches(saga: StockSaga) {
  const hot = (await catalog.createProduct({ name: "hot, batched", price: 1000, stock: 3_000 })).id;
  const batchOf100 = () =>
    saga.handle(
      "BalanceDebited",
      Array.from({ length: 100 }, () => debit(hot)),
    );
  const result = await run(
    Array.from({ length: 60 }, () => batchOf100),
    6,
  );
  summary("batches of 100 orders of one hot product (3000 units)", result);
  console.log(`batched: ${Math.round((6_000 / result.wallMs) * 1000)} orders/s`);
  const [row] = await db.query<{ stock: number }>("SELECT stock FROM products WHERE id = $1", [hot]);
  console.log(`batched: hot product stock after the run = ${row!.stock}`);
}

async function cacheReads() {
  const product = await catalog.createProduct({ name: "cached", price: 1000, stock: 10 });
  const reads = 20_000;
  summary(
    "product read through the cache (500 ms TTL)",
    await run(
      Array.from({ length: reads }, () => () => catalog.getProduct(product.id)),
      50,
    ),
  );
  summary(
    "product read from PostgreSQL only",
    await run(
      Array.from({ length: reads }, () => () => store.findProduct(product.id)),
      50,
    ),
  );
}

try {
  console.log(`pool ${POOL} connections, 8 concurrent orders per stream, PostgreSQL 15 and Redis 7 on this machine`);
  await contention("row locks (chosen)", sagaOver(repository));
  await contention("one global lock", sagaOver(globallyLocked));
  await batches(sagaOver(repository));
  await cacheReads();
} finally {
  await pool.end();
  redis.disconnect();
  await db.drop();
}
