import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { topicOf, type BalanceDebited, type EventName, type EventPayloads, type OrderCompleted, type OrderFailed } from "@shop/events";
import { EventCodec, EventPublisher, createKafka } from "@shop/kafka";
import { EventProbe, createTestSchema, eventually, silentLogger, testInfra, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import { loadCatalogConfig } from "../src/config.ts";
import { start, type RunningCatalog } from "../src/main.ts";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
const prefix = uniqueTopicPrefix("catalog");

let db: TestSchema;
let catalog: RunningCatalog;
let probe: EventProbe;
let publisher: EventPublisher;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "catalog-saga" });
  catalog = await start(
    loadCatalogConfig({
      DATABASE_URL: db.databaseUrl,
      PORT: "0",
      TOPIC_PREFIX: prefix,
      LOG_LEVEL: "error",
      DB_POOL_SIZE: "10",
      REDIS_URL: "redis://127.0.0.1:6379/11",
    }),
    silentLogger,
  );
  probe = await EventProbe.start(["StockReserved", "StockReservationFailed"], prefix, silentLogger);
  const kafka = createKafka("catalog-saga-test", testInfra.brokers, silentLogger);
  publisher = new EventPublisher(kafka, EventCodec.forUrl(testInfra.registryUrl, prefix));
  await publisher.connect();
});
afterAll(async () => {
  await publisher?.disconnect();
  await probe?.stop();
  await catalog?.stop();
  await db?.drop();
});

const send = <E extends EventName>(type: E, payload: EventPayloads[E]) =>
  publisher.publish([{ eventType: type, topic: topicOf(type, prefix), key: (payload as { orderId: string }).orderId, payload }]);

async function newProduct(stock: number, name = "재고 테스트 상품"): Promise<string> {
  return (await catalog.catalog.createProduct({ name, price: 1_000, stock })).id;
}

const stockOf = async (productId: string) => (await db.query<{ stock: number }>("SELECT stock FROM products WHERE id = $1", [productId]))[0]!.stock;
const reservation = async (orderId: string) =>
  (await db.query<{ status: string }>("SELECT status FROM stock_reservations WHERE order_id = $1", [orderId]))[0]?.status;
const handled = async (eventId: string) => (await db.query("SELECT 1 FROM inbox_events WHERE event_id = $1", [eventId])).length === 1;

/** Test data builders: saga events with any part overridden. */
function balanceDebited(items: { productId: string; quantity: number }[], overrides: Partial<BalanceDebited> = {}): BalanceDebited {
  return {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    orderId: randomUUID(),
    userId: "saga-user",
    amount: items.reduce((sum, i) => sum + i.quantity * 1_000, 0),
    items: items.map((i) => ({ ...i, unitPrice: 1_000 })),
    ...overrides,
  };
}

function orderFailed(orderId: string, failureCode = "PAYMENT_FAILED"): OrderFailed {
  return { eventId: randomUUID(), occurredAt: new Date().toISOString(), orderId, userId: "saga-user", failureCode, userCouponId: null };
}

function orderCompleted(debited: BalanceDebited): OrderCompleted {
  const items = debited.items.map((i) => ({ productId: i.productId, name: "재고 테스트 상품", quantity: i.quantity, unitPrice: i.unitPrice }));
  return {
    eventId: randomUUID(),
    orderId: debited.orderId,
    userId: debited.userId,
    items,
    subtotal: debited.amount,
    discountAmount: 0,
    totalAmount: debited.amount,
    paymentId: randomUUID(),
    completedAt: new Date().toISOString(),
  };
}

/** Lets duplicates and late events be (not) applied before asserting that nothing more happened. */
const settle = () => new Promise((r) => setTimeout(r, 700));

test("200 concurrent one-unit orders for 10 units: exactly 10 reserved, 190 refused, stock 0", async () => {
  const productId = await newProduct(10, "한정판 운동화");
  const bystander = await newProduct(1_000, "평범한 양말");
  const events = Array.from({ length: 200 }, () => balanceDebited([{ productId, quantity: 1 }]));
  const bystanderOrders = Array.from({ length: 20 }, () => balanceDebited([{ productId: bystander, quantity: 1 }]));
  const ids = new Set(events.map((e) => e.orderId));
  const started = performance.now();
  await Promise.all([...events, ...bystanderOrders].map((e) => send("BalanceDebited", e)));
  await eventually(() => {
    const outcomes = probe.of("StockReserved", (e) => ids.has(e.orderId)).length + probe.of("StockReservationFailed", (e) => ids.has(e.orderId)).length;
    expect(outcomes).toBe(200);
  }, 40_000);
  const elapsedMs = performance.now() - started;
  const reserved = probe.of("StockReserved", (e) => ids.has(e.orderId));
  const failed = probe.of("StockReservationFailed", (e) => ids.has(e.orderId));
  expect(reserved).toHaveLength(10);
  expect(failed).toHaveLength(190);
  for (const f of failed) expect(f).toMatchObject({ reason: "OUT_OF_STOCK", productId, userId: "saga-user" });
  expect(reserved[0]).toMatchObject({ userId: "saga-user", amount: 1_000, items: [{ productId, quantity: 1, unitPrice: 1_000 }] });
  expect(await stockOf(productId)).toBe(0);
  const statuses = await db.query<{ status: string; n: string }>(
    "SELECT status, count(*)::text AS n FROM stock_reservations WHERE order_id = ANY($1) GROUP BY status ORDER BY status",
    [[...ids]],
  );
  expect(statuses).toEqual([
    { status: "RESERVED", n: "10" },
    { status: "REJECTED", n: "190" },
  ]);
  const [holding] = await db.query<{ held: string }>("SELECT coalesce(sum(quantity), 0)::text AS held FROM stock_reservation_items WHERE product_id = $1", [
    productId,
  ]);
  expect(Number(holding!.held)).toBe(10); // initial stock = current stock + units held
  // The hot product did not hold up the other one.
  await eventually(async () => expect(await stockOf(bystander)).toBe(980), 20_000);
  console.info(`[measure] 220 BalanceDebited (200 on one product) handled end to end in ${Math.round(elapsedMs)} ms`);
});

test("a multi-item order with one item short reserves nothing at all", async () => {
  const plenty = await newProduct(50);
  const short = await newProduct(1);
  const another = await newProduct(50);
  const event = balanceDebited([
    { productId: plenty, quantity: 3 },
    { productId: short, quantity: 2 },
    { productId: another, quantity: 4 },
  ]);
  await send("BalanceDebited", event);
  const [failed] = await probe.waitFor("StockReservationFailed", (e) => e.orderId === event.orderId);
  expect(failed).toMatchObject({ orderId: event.orderId, userId: event.userId, reason: "OUT_OF_STOCK", productId: short });
  expect(failed!.detail).toContain(short);
  expect([await stockOf(plenty), await stockOf(short), await stockOf(another)]).toEqual([50, 1, 50]);
  expect(await reservation(event.orderId)).toBe("REJECTED");
  expect(await db.query("SELECT 1 FROM stock_reservation_items WHERE order_id = $1", [event.orderId])).toEqual([]);
  expect(probe.of("StockReserved", (e) => e.orderId === event.orderId)).toHaveLength(0);
});

test("a multi-item order takes every item, the same product on two lines counting twice", async () => {
  const a = await newProduct(10);
  const b = await newProduct(10);
  const event = balanceDebited([
    { productId: b, quantity: 2 },
    { productId: a, quantity: 1 },
    { productId: b, quantity: 3 },
  ]);
  await send("BalanceDebited", event);
  const [reserved] = await probe.waitFor("StockReserved", (e) => e.orderId === event.orderId);
  expect(reserved!.items).toEqual(event.items);
  expect([await stockOf(a), await stockOf(b)]).toEqual([9, 5]);
  const lines = await db.query("SELECT product_id, quantity FROM stock_reservation_items WHERE order_id = $1 ORDER BY product_id", [event.orderId]);
  expect(lines).toEqual([
    { product_id: a, quantity: 1 },
    { product_id: b, quantity: 5 },
  ]);
});

test("an unknown product fails the reservation as OUT_OF_STOCK and takes nothing", async () => {
  const known = await newProduct(5);
  const event = balanceDebited([
    { productId: known, quantity: 1 },
    { productId: "p_unknown", quantity: 1 },
  ]);
  await send("BalanceDebited", event);
  const [failed] = await probe.waitFor("StockReservationFailed", (e) => e.orderId === event.orderId);
  expect(failed).toMatchObject({ reason: "OUT_OF_STOCK", productId: "p_unknown" });
  expect(await stockOf(known)).toBe(5);
});

test("a reservation happens once when BalanceDebited is delivered three times", async () => {
  const productId = await newProduct(10);
  const event = balanceDebited([{ productId, quantity: 2 }]);
  for (let i = 0; i < 3; i++) await send("BalanceDebited", event);
  await probe.waitFor("StockReserved", (e) => e.orderId === event.orderId);
  // Another delivery of the same order's debit under a new event id is not a second reservation either.
  await send("BalanceDebited", { ...event, eventId: randomUUID() });
  await settle();
  expect(await stockOf(productId)).toBe(8);
  expect(probe.of("StockReserved", (e) => e.orderId === event.orderId)).toHaveLength(1);
});

test("a release happens once when OrderFailed is delivered three times", async () => {
  const productId = await newProduct(10);
  const debited = balanceDebited([{ productId, quantity: 4 }]);
  await send("BalanceDebited", debited);
  await probe.waitFor("StockReserved", (e) => e.orderId === debited.orderId);
  expect(await stockOf(productId)).toBe(6);
  const failed = orderFailed(debited.orderId);
  for (let i = 0; i < 3; i++) await send("OrderFailed", failed);
  await send("OrderFailed", orderFailed(debited.orderId, "TIMEOUT")); // a second, distinct failure notice
  await eventually(async () => expect(await reservation(debited.orderId)).toBe("RELEASED"));
  await settle();
  expect(await stockOf(productId)).toBe(10);
});

test("an OrderFailed that overtakes BalanceDebited leaves stock alone and prevents the late reservation", async () => {
  const productId = await newProduct(10);
  const debited = balanceDebited([{ productId, quantity: 3 }]);
  await send("OrderFailed", orderFailed(debited.orderId, "TIMEOUT"));
  await eventually(async () => expect(await reservation(debited.orderId)).toBe("CANCELLED"));
  expect(await stockOf(productId)).toBe(10);
  await send("BalanceDebited", debited);
  await eventually(async () => expect(await handled(debited.eventId)).toBe(true));
  await settle();
  expect(await stockOf(productId)).toBe(10);
  expect(await reservation(debited.orderId)).toBe("CANCELLED");
  expect(probe.of("StockReserved", (e) => e.orderId === debited.orderId)).toHaveLength(0);
  expect(probe.of("StockReservationFailed", (e) => e.orderId === debited.orderId)).toHaveLength(0);
});

test("OrderCompleted commits the reservation: a later OrderFailed does not give the stock back", async () => {
  const productId = await newProduct(10);
  const debited = balanceDebited([{ productId, quantity: 2 }]);
  await send("BalanceDebited", debited);
  await probe.waitFor("StockReserved", (e) => e.orderId === debited.orderId);
  const completed = orderCompleted(debited);
  await send("OrderCompleted", completed);
  await eventually(async () => expect(await reservation(debited.orderId)).toBe("COMMITTED"));
  const failed = orderFailed(debited.orderId, "TIMEOUT");
  await send("OrderFailed", failed);
  await eventually(async () => expect(await handled(failed.eventId)).toBe(true));
  await settle();
  expect(await reservation(debited.orderId)).toBe("COMMITTED");
  expect(await stockOf(productId)).toBe(8);
});

test("a reservation racing its own OrderFailed ends with the stock given back, whatever the order", async () => {
  const productId = await newProduct(100);
  const orders = Array.from({ length: 20 }, () => balanceDebited([{ productId, quantity: 1 }]));
  await Promise.all(orders.flatMap((o) => [send("BalanceDebited", o), send("OrderFailed", orderFailed(o.orderId, "TIMEOUT"))]));
  await eventually(async () => {
    const rows = await db.query<{ status: string }>("SELECT status FROM stock_reservations WHERE order_id = ANY($1)", [orders.map((o) => o.orderId)]);
    expect(rows).toHaveLength(20);
    expect(rows.every((r) => r.status === "RELEASED" || r.status === "CANCELLED")).toBe(true);
  }, 20_000);
  await eventually(async () => expect(await Promise.all(orders.map((o) => handled(o.eventId)))).toEqual(orders.map(() => true)));
  await settle();
  expect(await stockOf(productId)).toBe(100);
});
