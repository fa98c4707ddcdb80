// Statements per operation (not a test): `cd services/order && npx tsx test/count-statements.ts`
// (VERBOSE=1 lists them). Runs the real store and order service against a throwaway schema and
// counts every statement a pg client sends, BEGIN and COMMIT included; no Kafka, no HTTP, a
// stand-in catalog and coupon service.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { parseDatabaseUrl } from "@shop/config";
import { createSqlPool } from "@shop/outbox";
import { build, createTestSchema, silentLogger } from "@shop/testing";
import { PgOrderStore } from "../src/data/order-store.ts";
import type { Order } from "../src/domain/model.ts";
import { OrderService } from "../src/domain/order-service.ts";
import { OrderSagaRepository } from "../src/data/order-saga-repository.ts";
import { orderSagaParticipant } from "../src/domain/saga-participant.ts";
import { ParticipantRunner } from "@shop/saga";
import type { OrderChangeFeed } from "../src/domain/ports.ts";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
const db = await createTestSchema({ migrationsDir, label: "order-count" });
const pool = createSqlPool(parseDatabaseUrl(db.databaseUrl), { size: 5, name: "order-count", logger: silentLogger });
const store = new PgOrderStore(pool, db.schema, "count.");

const noChanges: OrderChangeFeed = { watch: () => ({ changed: (ms) => new Promise((r) => setTimeout(r, ms)), close: () => undefined }) };
const catalog = { quote: (ids: string[]) => Promise.resolve(ids.map((id) => ({ id, name: `Product ${id}`, price: 1_000, stock: 10 }))) };
const coupons = { reserve: () => Promise.resolve({ outcome: "RESERVED" as const, couponId: "c", discountAmount: 100 }) };
const orders = new OrderService(store, catalog, coupons, noChanges, { sagaTimeoutMs: 30_000, now: () => new Date() });
const saga = new ParticipantRunner({
  participant: orderSagaParticipant,
  repository: new OrderSagaRepository(db.schema),
  pool,
  outbox: { schema: db.schema, topicPrefix: "count." },
  orderLocks: "taken-by-load",
});

let statements: string[] = [];
const send = Reflect.get(pg.Client.prototype, "query") as (...args: unknown[]) => unknown;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const text = typeof args[0] === "string" ? args[0] : (args[0] as { text?: string } | undefined)?.text;
  statements.push((text ?? "?").replace(/\s+/g, " ").trim().slice(0, 100));
  return send.apply(this, args);
} as typeof pg.Client.prototype.query;

async function measure(label: string, work: () => Promise<unknown>): Promise<void> {
  statements = [];
  await work();
  console.log(`${label.padEnd(52)} ${statements.length}`);
  if (process.env.VERBOSE) for (const s of statements) console.log(`    ${s}`);
}

const items = [
  { productId: "a", quantity: 1 },
  { productId: "b", quantity: 2 },
];
const place = (userId = `u-${randomUUID()}`, idempotencyKey = randomUUID(), userCouponId: string | null = null) =>
  orders.place({ userId, idempotencyKey, items, userCouponId });
const placed = async (): Promise<Order> => (await place()).order;

await place(); // warm-up: connections
await measure("place (new key, 2 items, no coupon)", () => place());
await measure("place (new key, with a coupon)", () => place(undefined, undefined, "uc-1"));
const [userId, key] = [`u-${randomUUID()}`, randomUUID()];
await place(userId, key);
await measure("place again with an answered key (replay)", () => place(userId, key));
const order = await placed();
await measure("get one order (GET, each Prefer: wait wake-up)", () => orders.get(order.userId, order.orderId));
await measure("list a page of orders", () => orders.list(order.userId, 10));
await measure("BalanceDebited (timeline only)", () => saga.handle("BalanceDebited", [build.balanceDebited({ orderId: order.orderId })]));
await measure("PaymentCompleted (timeline, status, OrderCompleted)", () =>
  saga.handle("PaymentCompleted", [build.paymentCompleted({ orderId: order.orderId })]),
);
const failing = await placed();
await measure("PaymentFailed (timeline, status, OrderFailed)", () => saga.handle("PaymentFailed", [build.paymentFailed({ orderId: failing.orderId })]));
const again = build.stockReserved({ orderId: order.orderId });
await saga.handle("StockReserved", [again]);
await measure("a redelivered event (inbox: seen)", () => saga.handle("StockReserved", [again]));
await measure("an event for an unknown order", () => saga.handle("StockReserved", [build.stockReserved()]));
const batch = await Promise.all(Array.from({ length: 20 }, () => placed()));
await measure("a batch of 20 BalanceDebited (20 orders)", () =>
  saga.handle(
    "BalanceDebited",
    batch.map((o) => build.balanceDebited({ orderId: o.orderId })),
  ),
);
await measure("a batch of 20 PaymentCompleted (20 orders)", () =>
  saga.handle(
    "PaymentCompleted",
    batch.map((o) => build.paymentCompleted({ orderId: o.orderId })),
  ),
);
await orders.failOverdueOrders(new Date(Date.now() + 60_000), 1_000);
for (let i = 0; i < 10; i++) await place();
await measure("deadline sweep failing 10 orders", () => orders.failOverdueOrders(new Date(Date.now() + 60_000), 100));
await measure("deadline sweep, nothing overdue", () => orders.failOverdueOrders(new Date(Date.now() + 60_000), 100));

await pool.end();
await db.drop();
