// The set-based SQL of the catalog's saga steps, one partition batch per transaction: several
// orders of the same product in one batch, released and completed together, and batches sharing
// products running at once. Applied through the runner directly (no Kafka), on real PostgreSQL.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { BalanceDebited, OrderCompleted, OrderFailed } from "@shop/events";
import { createTestSchema, silentLogger, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import { loadCatalogConfig } from "../src/config.ts";
import { start, type RunningCatalog } from "../src/main.ts";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

let db: TestSchema;
let catalog: RunningCatalog;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "catalog-batch" });
  catalog = await start(
    loadCatalogConfig({
      DATABASE_URL: db.databaseUrl,
      PORT: "0",
      EVENTS_ENABLED: "false",
      DB_POOL_SIZE: "10",
      REDIS_URL: "redis://127.0.0.1:6379/11",
      REDIS_KEY_PREFIX: uniqueTopicPrefix("catbatch"),
    }),
    silentLogger,
  );
});
afterAll(async () => {
  await catalog?.stop();
  await db?.drop();
});

const newProduct = async (stock: number) => (await catalog.catalog.createProduct({ name: "배치 상품", price: 1_000, stock })).id;

function debit(lines: [productId: string, quantity: number][]): BalanceDebited {
  const items = lines.map(([productId, quantity]) => ({ productId, quantity, unitPrice: 1_000 }));
  return {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    orderId: randomUUID(),
    userId: "batch-user",
    amount: items.reduce((s, i) => s + i.quantity * 1_000, 0),
    items,
  };
}

const failure = (orderId: string): OrderFailed => ({
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  orderId,
  userId: "batch-user",
  failureCode: "TIMEOUT",
  userCouponId: null,
});

function completion(debited: BalanceDebited, completedAt: string): OrderCompleted {
  const items = debited.items.map((i) => ({ ...i, name: "배치 상품" }));
  return {
    eventId: randomUUID(),
    orderId: debited.orderId,
    userId: debited.userId,
    items,
    subtotal: debited.amount,
    discountAmount: 0,
    totalAmount: debited.amount,
    paymentId: randomUUID(),
    completedAt,
  };
}

const product = async (id: string) => (await db.query<{ stock: number; version: number }>("SELECT stock, version FROM products WHERE id = $1", [id]))[0]!;
const statuses = async (orders: { orderId: string }[]) => {
  const rows = await db.query<{ order_id: string; status: string }>("SELECT order_id, status::text FROM stock_reservations WHERE order_id = ANY($1)", [
    orders.map((o) => o.orderId),
  ]);
  const byOrder = new Map(rows.map((r) => [r.order_id, r.status]));
  return orders.map((o) => byOrder.get(o.orderId) ?? null);
};
/** Each order's answers, in the order they were appended to the outbox. */
const answers = async (orders: { orderId: string }[]) => {
  const rows = await db.query<{ key: string; topic: string; payload: { productId?: string; reason?: string } }>(
    "SELECT key, topic, payload FROM outbox_events WHERE key = ANY($1) ORDER BY id",
    [orders.map((o) => o.orderId)],
  );
  return rows.map((r) => ({ orderId: r.key, answer: r.topic.endsWith("saga.stock-reserved.v1") ? "reserved" : "refused", payload: r.payload }));
};
const held = async (productId: string) =>
  Number(
    (
      await db.query<{ units: string }>(
        "SELECT coalesce(sum(quantity), 0)::text AS units FROM stock_reservation_items i JOIN stock_reservations r USING (order_id) WHERE product_id = $1 AND r.status = 'RESERVED'",
        [productId],
      )
    )[0]!.units,
  );

describe("one batch of BalanceDebited, several orders of the same product, the stock running out in the middle", () => {
  let hot: string;
  let bystander: string;
  let orders: BalanceDebited[];

  beforeAll(async () => {
    hot = await newProduct(5);
    bystander = await newProduct(100);
    orders = [
      debit([[hot, 2]]),
      debit([
        [hot, 1],
        [bystander, 3],
      ]),
      debit([[hot, 1]]),
      debit([
        [hot, 2],
        [bystander, 1],
      ]),
      debit([[hot, 1]]),
      debit([[hot, 1]]),
    ];
    await catalog.saga.handle("BalanceDebited", orders);
  });

  test("each order is decided on the stock the ones before it left: the later ones are refused, a small one still fits", async () => {
    expect((await answers(orders)).map((a) => [a.orderId, a.answer])).toEqual([
      [orders[0]!.orderId, "reserved"],
      [orders[1]!.orderId, "reserved"],
      [orders[2]!.orderId, "reserved"],
      [orders[3]!.orderId, "refused"], // 2 wanted, 1 left
      [orders[4]!.orderId, "reserved"], // the last unit
      [orders[5]!.orderId, "refused"],
    ]);
    const refusals = (await answers(orders)).filter((a) => a.answer === "refused");
    for (const refusal of refusals) expect(refusal.payload).toMatchObject({ reason: "OUT_OF_STOCK", productId: hot });
    expect(await statuses(orders)).toEqual(["RESERVED", "RESERVED", "RESERVED", "REJECTED", "RESERVED", "REJECTED"]);
  });

  test("the stock ends exact and never below 0, each changed product's version bumped once, and a refused order took nothing", async () => {
    expect(await product(hot)).toEqual({ stock: 0, version: 2 });
    expect(await product(bystander)).toEqual({ stock: 97, version: 2 }); // the refused order's unit stayed
    expect([await held(hot), await held(bystander)]).toEqual([5, 3]);
    const items = await db.query<{ product_id: string; quantity: number }>("SELECT product_id, quantity FROM stock_reservation_items WHERE order_id = $1", [
      orders[1]!.orderId,
    ]);
    expect(new Map(items.map((i) => [i.product_id, i.quantity]))).toEqual(
      new Map([
        [hot, 1],
        [bystander, 3],
      ]),
    );
    expect(await db.query("SELECT 1 FROM stock_reservation_items WHERE order_id = ANY($1)", [[orders[3]!.orderId, orders[5]!.orderId]])).toEqual([]);
  });

  test("the whole batch redelivered changes nothing and answers nothing more", async () => {
    await catalog.saga.handle("BalanceDebited", orders);
    expect(await answers(orders)).toHaveLength(6);
    expect(await product(hot)).toEqual({ stock: 0, version: 2 });
  });

  test("one batch of OrderFailed gives every reservation back once, tombstones an order never reserved and leaves refused ones alone", async () => {
    const neverReserved = debit([[hot, 1]]);
    const failures = [...orders.map((o) => failure(o.orderId)), failure(orders[0]!.orderId), failure(neverReserved.orderId)];
    await catalog.saga.handle("OrderFailed", failures);
    expect(await statuses([...orders, neverReserved])).toEqual(["RELEASED", "RELEASED", "RELEASED", "REJECTED", "RELEASED", "REJECTED", "CANCELLED"]);
    expect(await product(hot)).toEqual({ stock: 5, version: 3 });
    expect(await product(bystander)).toEqual({ stock: 100, version: 3 });
    // The tombstone stops the late debit: nothing taken, nothing answered.
    await catalog.saga.handle("BalanceDebited", [neverReserved]);
    expect(await answers([neverReserved])).toEqual([]);
    expect((await product(hot)).stock).toBe(5);
  });
});

test("one batch of OrderCompleted over two Seoul days commits every order and sums each day's units", async () => {
  const a = await newProduct(50);
  const orders = [
    debit([[a, 2]]),
    debit([[a, 3]]),
    debit([
      [a, 4],
      ["p_not_in_catalog", 1],
    ]),
  ];
  await catalog.saga.handle("BalanceDebited", orders.slice(0, 2));
  const completions = [
    completion(orders[0]!, "2026-11-21T14:59:59.000Z"), // 23:59:59 on the 21st in Seoul
    completion(orders[1]!, "2026-11-21T15:00:00.000Z"), // 00:00 on the 22nd
    completion(orders[2]!, "2026-11-22T01:00:00.000Z"), // never reserved here: a COMMITTED record all the same
  ];
  await catalog.saga.handle("OrderCompleted", completions);
  expect(await statuses(orders)).toEqual(["COMMITTED", "COMMITTED", "COMMITTED"]);
  const sales = () =>
    db.query("SELECT to_char(day, 'YYYY-MM-DD') AS day, product_id, quantity FROM daily_sales WHERE product_id = ANY($1) ORDER BY day", [
      [a, "p_not_in_catalog"],
    ]);
  expect(await sales()).toEqual([
    { day: "2026-11-21", product_id: a, quantity: 2 },
    { day: "2026-11-22", product_id: a, quantity: 7 },
  ]);
  await catalog.saga.handle("OrderCompleted", completions);
  expect(await sales()).toHaveLength(2);
  expect((await sales())[1]).toMatchObject({ quantity: 7 });
  // A completed order keeps its stock: a late failure gives nothing back.
  await catalog.saga.handle(
    "OrderFailed",
    orders.map((o) => failure(o.orderId)),
  );
  expect((await product(a)).stock).toBe(45);
});

test("concurrent batches of orders sharing products, listed in opposite orders, never deadlock and never oversell", async () => {
  const [x, y] = [await newProduct(60), await newProduct(60)];
  const batches = Array.from({ length: 6 }, (_, b) =>
    Array.from({ length: 20 }, (_, i) =>
      debit(
        b % 2
          ? [
              [y, 1 + (i % 2)],
              [x, 1],
            ]
          : [
              [x, 1 + (i % 3)],
              [y, 1],
            ],
      ),
    ),
  );
  await Promise.all(batches.map((batch) => catalog.saga.handle("BalanceDebited", batch)));
  const all = batches.flat();
  expect(await answers(all)).toHaveLength(all.length);
  for (const id of [x, y]) {
    const { stock } = await product(id);
    expect(stock).toBeGreaterThanOrEqual(0);
    expect(stock + (await held(id))).toBe(60); // every unit is in stock or held by a reservation
  }
  // 180 units wanted of each, 60 in stock: the stock ran out, and what was reserved is exactly what was answered.
  const reserved = new Set((await answers(all)).filter((a) => a.answer === "reserved").map((a) => a.orderId));
  const units = (id: string) =>
    all
      .filter((o) => reserved.has(o.orderId))
      .flatMap((o) => o.items)
      .filter((i) => i.productId === id)
      .reduce((s, i) => s + i.quantity, 0);
  expect([units(x), units(y)]).toEqual([60 - (await product(x)).stock, 60 - (await product(y)).stock]);
});
