import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { parseDatabaseUrl } from "@shop/config";
import { topicOf, type EventName, type EventPayloads, type OrderCompleted } from "@shop/events";
import { EventCodec, EventPublisher, createKafka } from "@shop/kafka";
import { createTestSchema, eventually, silentLogger, testInfra, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import { loadCatalogConfig } from "../src/config.ts";
import { createSqlPool } from "@shop/outbox";
import { PgCatalogStore, type DaySalesSnapshot, type SqlPool } from "../src/data/catalog-store.ts";
import { RedisSalesRanking } from "../src/data/sales-ranking.ts";
import { start, type RunningCatalog } from "../src/main.ts";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
const prefix = uniqueTopicPrefix("topsellers");
/** Only this test file uses this Redis database: it is flushed to simulate a lost Redis. */
const redisUrl = "redis://127.0.0.1:6379/12";
/** 12:00 in Seoul on 2026-11-23: the window is 2026-11-21, -22 and -23 (Seoul days). */
const NOW = new Date("2026-11-23T03:00:00.000Z");

let db: TestSchema;
let catalog: RunningCatalog;
let publisher: EventPublisher;
let redis: Redis;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "catalog-top" });
  catalog = await start(
    loadCatalogConfig({ DATABASE_URL: db.databaseUrl, PORT: "0", TOPIC_PREFIX: prefix, LOG_LEVEL: "error", REDIS_URL: redisUrl }),
    silentLogger,
    { now: () => NOW },
  );
  const kafka = createKafka("catalog-top-test", testInfra.brokers, silentLogger);
  publisher = new EventPublisher(kafka, EventCodec.forUrl(testInfra.registryUrl, prefix));
  await publisher.connect();
  redis = new Redis(redisUrl);
});
afterAll(async () => {
  await publisher?.disconnect();
  await catalog?.stop();
  await db?.drop();
  redis?.disconnect();
});

const send = <E extends EventName>(type: E, payload: EventPayloads[E]) =>
  publisher.publish([{ eventType: type, topic: topicOf(type, prefix), key: (payload as { orderId: string }).orderId, payload }]);

function completed(completedAt: string, items: [productId: string, quantity: number][]): OrderCompleted {
  const lines = items.map(([productId, quantity]) => ({ productId, name: "상품", quantity, unitPrice: 1_000 }));
  const total = lines.reduce((s, l) => s + l.quantity * l.unitPrice, 0);
  return {
    eventId: randomUUID(),
    orderId: randomUUID(),
    userId: "top-user",
    items: lines,
    subtotal: total,
    discountAmount: 0,
    totalAmount: total,
    paymentId: randomUUID(),
    completedAt,
  };
}

async function top() {
  const response = await fetch(`${catalog.url}/api/v1/products/top`);
  expect(response.status).toBe(200);
  return (await response.json()) as {
    from: string;
    to: string;
    items: { rank: number; productId: string; name: string; price: number; soldQuantity: number }[];
  };
}

const ranking = (items: { productId: string; soldQuantity: number }[]) => items.map((i) => [i.productId, i.soldQuantity]);

test("the top sellers count the last three Seoul days, once per order, and survive a lost Redis", async () => {
  const created = await Promise.all(
    Array.from({ length: 7 }, (_, i) => catalog.catalog.createProduct({ name: `인기 상품 ${i + 1}`, price: 1_000 * (i + 1), stock: 1_000 })),
  );
  // Named by id order, so that ties (broken by product id) are easy to read below.
  const sorted = created.sort((x, y) => (x.id < y.id ? -1 : 1));
  const [A, B, C, D, E, F, G] = sorted.map((p) => p.id) as [string, string, string, string, string, string, string];
  const shown = (id: string) => ({ productId: id, name: sorted.find((p) => p.id === id)!.name, price: sorted.find((p) => p.id === id)!.price });

  const todayForA = completed("2026-11-23T02:00:00.000Z", [[A, 1]]);
  const events = [
    completed("2026-11-19T05:00:00.000Z", [[G, 100]]), // 5 days ago: out
    completed("2026-11-20T14:59:59.999Z", [[F, 50]]), // 23:59:59.999 Seoul, 3 days ago: out
    completed("2026-11-20T15:00:00.000Z", [[A, 5]]), // 00:00 Seoul, 2 days ago: the first instant in
    completed("2026-11-22T01:00:00.000Z", [
      [B, 3],
      [C, 4],
    ]),
    todayForA,
    completed("2026-11-23T14:59:59.999Z", [
      [D, 6],
      [E, 4],
      [F, 3],
    ]), // 23:59:59.999 Seoul today: in
    completed("2026-11-23T15:00:00.000Z", [[G, 70]]), // tomorrow in Seoul: out
  ];
  for (const event of events) await send("OrderCompleted", event);
  await send("OrderCompleted", todayForA); // redelivered twice
  await send("OrderCompleted", todayForA);
  // A failed order never counts: reserve and release without completion.
  const failedOrder = randomUUID();
  const failedOrderEvents = [randomUUID(), randomUUID()];
  await send("BalanceDebited", {
    eventId: failedOrderEvents[0]!,
    occurredAt: NOW.toISOString(),
    orderId: failedOrder,
    userId: "top-user",
    amount: 10_000,
    items: [{ productId: E, quantity: 10, unitPrice: 1_000 }],
  });
  await send("OrderFailed", {
    eventId: failedOrderEvents[1]!,
    occurredAt: NOW.toISOString(),
    orderId: failedOrder,
    userId: "top-user",
    failureCode: "PAYMENT_FAILED",
    userCouponId: null,
  });

  // A 6 and D 6 tie (A first), C 4 and E 4 tie (C first), B 3 beats F 3 for the last place.
  const expected = [
    [A, 6],
    [D, 6],
    [C, 4],
    [E, 4],
    [B, 3],
  ];
  await eventually(async () => expect(ranking((await top()).items)).toEqual(expected), 20_000, 100);
  // Its two events travel on two topics: either order of arrival ends with no stock kept.
  await eventually(async () =>
    expect(await db.query("SELECT count(*)::int AS n FROM inbox_events WHERE event_id = ANY($1)", [failedOrderEvents])).toEqual([{ n: 2 }]),
  );
  expect(["RELEASED", "CANCELLED"]).toContain((await db.query("SELECT status FROM stock_reservations WHERE order_id = $1", [failedOrder]))[0]!.status);
  expect(await db.query("SELECT stock FROM products WHERE id = $1", [E])).toEqual([{ stock: 1_000 }]);
  await new Promise((r) => setTimeout(r, 1_200)); // duplicates and the failed order had time to (not) count
  const answer = await top();
  expect(answer.from).toBe("2026-11-20T15:00:00.000Z");
  expect(answer.to).toBe("2026-11-23T15:00:00.000Z");
  expect(answer.items).toEqual([
    { rank: 1, ...shown(A), soldQuantity: 6 },
    { rank: 2, ...shown(D), soldQuantity: 6 },
    { rank: 3, ...shown(C), soldQuantity: 4 },
    { rank: 4, ...shown(E), soldQuantity: 4 },
    { rank: 5, ...shown(B), soldQuantity: 3 },
  ]);
  const sales = await db.query("SELECT to_char(day, 'YYYY-MM-DD') AS day, product_id, quantity FROM daily_sales WHERE product_id = $1 ORDER BY day", [A]);
  expect(sales).toEqual([
    { day: "2026-11-21", product_id: A, quantity: 5 },
    { day: "2026-11-23", product_id: A, quantity: 1 },
  ]);

  // Redis loses everything: the list is rebuilt from PostgreSQL.
  await redis.flushdb();
  expect(ranking((await top()).items)).toEqual(expected);

  // A price change shows in the list at once (names and prices come from the product cache).
  await catalog.catalog.updateProduct(A, { price: 990 });
  expect((await top()).items[0]).toMatchObject({ productId: A, price: 990 });

  // A completion after the rebuild counts once and shows within 5 s.
  const sent = performance.now();
  await send("OrderCompleted", completed("2026-11-22T03:00:00.000Z", [[C, 3]]));
  await eventually(
    async () =>
      expect(ranking((await top()).items)).toEqual([
        [C, 7],
        [A, 6],
        [D, 6],
        [E, 4],
        [B, 3],
      ]),
    5_000,
    50,
  );
  console.info(`[measure] an OrderCompleted showed in the top sellers ${Math.round(performance.now() - sent)} ms after it was published`);
  await new Promise((r) => setTimeout(r, 1_200));
  expect(ranking((await top()).items)).toEqual([
    [C, 7],
    [A, 6],
    [D, 6],
    [E, 4],
    [B, 3],
  ]);
});

describe("the Redis ranking counts each committed sale exactly once, whatever the interleaving with a rebuild", () => {
  const day = "2026-10-01";
  let pool: SqlPool;
  let store: PgCatalogStore;
  let productId: string;
  /** When set, a rebuild waits here between reading PostgreSQL and writing Redis. */
  let rebuildGate: Promise<void> | null = null;
  let rankings: RedisSalesRanking;

  beforeAll(async () => {
    const database = parseDatabaseUrl(db.databaseUrl);
    pool = createSqlPool(database, { size: 5, name: "catalog-top-test", logger: silentLogger });
    store = new PgCatalogStore(pool);
    productId = (await catalog.catalog.createProduct({ name: "경합 상품", price: 1_000, stock: 10 })).id;
    const load = async (d: string): Promise<DaySalesSnapshot> => {
      const snapshot = await store.daySalesSnapshot(d);
      if (rebuildGate) await rebuildGate;
      return snapshot;
    };
    rankings = new RedisSalesRanking(redis, load, { keyPrefix: `${prefix}exact:`, dayTtlMs: 60_000, rankingTtlMs: 0, logger: silentLogger });
  });
  afterAll(async () => {
    await pool?.end();
  });

  /** A committed sale; returns its marker for the (possibly late) report. */
  const commitSale = (quantity: number) =>
    store.transaction(async (tx) => {
      await tx.addDailySales(day, [{ productId, quantity }]);
      return tx.commitMarker();
    });

  /** A sale whose transaction stays open until `commit()` is called. */
  function openSale(quantity: number) {
    let commit!: () => void;
    const gate = new Promise<void>((r) => (commit = r));
    let markerReady!: (marker: string) => void;
    const marker = new Promise<string>((r) => (markerReady = r));
    const done = store.transaction(async (tx) => {
      await tx.addDailySales(day, [{ productId, quantity }]);
      markerReady(await tx.commitMarker());
      await gate;
    });
    return { marker, commit: async () => (commit(), done) };
  }

  const units = async () => (await rankings.top([day], 5)).find((s) => s.productId === productId)?.quantity ?? 0;
  const truth = async () => Number((await db.query("SELECT quantity FROM daily_sales WHERE day = $1 AND product_id = $2", [day, productId]))[0]?.quantity ?? 0);

  test("a report arriving after a rebuild that already saw the sale is skipped", async () => {
    const marker = await commitSale(2);
    expect(await units()).toBe(2); // built from PostgreSQL, the sale included
    await rankings.record(day, [{ productId, quantity: 2 }], marker);
    expect(await units()).toBe(2);
    expect(await truth()).toBe(2);
  });

  test("a sale still open during the rebuild is added by its report", async () => {
    const sale = openSale(3);
    const marker = await sale.marker;
    await rankings.forget([day]);
    expect(await units()).toBe(2); // rebuilt while the sale was uncommitted
    await sale.commit();
    await rankings.record(day, [{ productId, quantity: 3 }], marker);
    expect(await units()).toBe(5);
    expect(await truth()).toBe(5);
  });

  test("a report parked while the day is not built is not counted twice by the next build", async () => {
    await rankings.forget([day]);
    const marker = await commitSale(1);
    await rankings.record(day, [{ productId, quantity: 1 }], marker); // parked: no build
    expect(await units()).toBe(6);
    expect(await truth()).toBe(6);
  });

  test("a report parked while a build with an older snapshot is in flight is applied by that build", async () => {
    await rankings.forget([day]);
    const sale = openSale(4);
    const marker = await sale.marker;
    let openGate!: () => void;
    rebuildGate = new Promise<void>((r) => (openGate = r));
    const building = units(); // reads its snapshot now, with the sale uncommitted
    await new Promise((r) => setTimeout(r, 200));
    await sale.commit();
    await rankings.record(day, [{ productId, quantity: 4 }], marker); // day not built yet: parked
    openGate();
    rebuildGate = null;
    expect(await building).toBe(10);
    expect(await units()).toBe(10);
    expect(await truth()).toBe(10);
  });
});
