import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import type { OrderPlaced } from "@shop/events";
import { EventProbe, TestEventPublisher, build, createTestSchema, eventually, silentLogger, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import { loadWalletConfig } from "../src/config.ts";
import { start, type RunningWallet } from "../src/main.ts";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
const prefix = uniqueTopicPrefix("wallet");

let db: TestSchema;
let wallet: RunningWallet;
let probe: EventProbe;
let publisher: TestEventPublisher;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "wallet-saga" });
  wallet = await start(loadWalletConfig({ DATABASE_URL: db.databaseUrl, PORT: "0", TOPIC_PREFIX: prefix, LOG_LEVEL: "error" }), silentLogger);
  probe = await EventProbe.start(["BalanceDebited", "BalanceDebitFailed"], prefix, silentLogger);
  publisher = await TestEventPublisher.connect(prefix, silentLogger);
});
afterAll(async () => {
  await publisher?.disconnect();
  await probe?.stop();
  await wallet?.stop();
  await db?.drop();
});

const orderPlaced = (overrides: Partial<OrderPlaced> = {}) =>
  build.orderPlaced({ userId: "saga-user", items: [build.item({ productId: "p-1", quantity: 2, unitPrice: 500 })], ...overrides });
const send: TestEventPublisher["send"] = (type, payload) => publisher.send(type, payload);

const charge = (userId: string, amount: number) => wallet.wallet.charge({ userId, amount });
const ledger = (orderId: string) =>
  db.query<{ type: string; amount: string }>("SELECT type, amount::text FROM ledger_entries WHERE order_id = $1 ORDER BY id", [orderId]);

test("a debit is applied once when OrderPlaced is delivered three times", async () => {
  const userId = `saga-${randomUUID().slice(0, 8)}`;
  await charge(userId, 5000);
  const event = orderPlaced({ userId, totalAmount: 1200 });
  for (let i = 0; i < 3; i++) await send("OrderPlaced", event);
  const [debited] = await probe.waitFor("BalanceDebited", (e) => e.orderId === event.orderId);
  expect(debited).toMatchObject({ orderId: event.orderId, userId, amount: 1200, items: event.items });
  // Give the two duplicates time to be (not) applied.
  await eventually(async () => expect(await db.query("SELECT 1 FROM inbox_events WHERE event_id = $1", [event.eventId])).toHaveLength(1));
  await new Promise((r) => setTimeout(r, 500));
  expect(await wallet.wallet.balanceOf(userId)).toBe(3800);
  expect(await ledger(event.orderId)).toEqual([{ type: "PAYMENT", amount: "-1200" }]);
  expect(probe.of("BalanceDebited", (e) => e.orderId === event.orderId)).toHaveLength(1);
});

test("a debit larger than the balance yields BalanceDebitFailed and no ledger entry", async () => {
  const userId = `poor-${randomUUID().slice(0, 8)}`;
  await charge(userId, 100);
  const event = orderPlaced({ userId, totalAmount: 101 });
  await send("OrderPlaced", event);
  const [failed] = await probe.waitFor("BalanceDebitFailed", (e) => e.orderId === event.orderId);
  expect(failed).toMatchObject({ orderId: event.orderId, userId, reason: "INSUFFICIENT_BALANCE" });
  expect(await ledger(event.orderId)).toEqual([]);
  expect(await wallet.wallet.balanceOf(userId)).toBe(100);
  expect(probe.of("BalanceDebited", (e) => e.orderId === event.orderId)).toHaveLength(0);
});

test("OrderFailed after the debit refunds exactly once, even when delivered twice", async () => {
  const userId = `refund-${randomUUID().slice(0, 8)}`;
  await charge(userId, 2000);
  const placed = orderPlaced({ userId, totalAmount: 1500 });
  await send("OrderPlaced", placed);
  await probe.waitFor("BalanceDebited", (e) => e.orderId === placed.orderId);
  const failed = build.orderFailed({ orderId: placed.orderId, userId, failureCode: "OUT_OF_STOCK" });
  await send("OrderFailed", failed);
  await send("OrderFailed", failed);
  await send("OrderFailed", { ...failed, eventId: randomUUID() }); // a second, distinct failure notice
  await eventually(async () =>
    expect(await ledger(placed.orderId)).toEqual([
      { type: "PAYMENT", amount: "-1500" },
      { type: "REFUND", amount: "1500" },
    ]),
  );
  await new Promise((r) => setTimeout(r, 500));
  expect(await ledger(placed.orderId)).toHaveLength(2);
  expect(await wallet.wallet.balanceOf(userId)).toBe(2000);
});

test("OrderFailed that overtakes OrderPlaced prevents the late debit", async () => {
  const userId = `late-${randomUUID().slice(0, 8)}`;
  await charge(userId, 2000);
  const placed = orderPlaced({ userId, totalAmount: 700 });
  await send("OrderFailed", build.orderFailed({ orderId: placed.orderId, userId }));
  await eventually(async () =>
    expect(await db.query("SELECT status FROM order_debits WHERE order_id = $1", [placed.orderId])).toEqual([{ status: "CANCELLED" }]),
  );
  await send("OrderPlaced", placed);
  await eventually(async () => expect(await db.query("SELECT 1 FROM inbox_events WHERE event_id = $1", [placed.eventId])).toHaveLength(1));
  expect(await ledger(placed.orderId)).toEqual([]);
  expect(await wallet.wallet.balanceOf(userId)).toBe(2000);
  expect(probe.of("BalanceDebited", (e) => e.orderId === placed.orderId)).toHaveLength(0);
});

test("concurrent orders of one user never overdraw the balance", async () => {
  const userId = `race-${randomUUID().slice(0, 8)}`;
  await charge(userId, 1000);
  const events = Array.from({ length: 20 }, () => orderPlaced({ userId, totalAmount: 100 }));
  await Promise.all(events.map((e) => send("OrderPlaced", e)));
  const ids = new Set(events.map((e) => e.orderId));
  await eventually(() => {
    const outcomes = probe.of("BalanceDebited", (e) => ids.has(e.orderId)).length + probe.of("BalanceDebitFailed", (e) => ids.has(e.orderId)).length;
    expect(outcomes).toBe(20);
  }, 20_000);
  expect(probe.of("BalanceDebited", (e) => ids.has(e.orderId))).toHaveLength(10);
  expect(await wallet.wallet.balanceOf(userId)).toBe(0);
});

test("/metrics shows the saga consumer's stuck partitions (none while PostgreSQL answers)", async () => {
  const metrics = await (await fetch(`${wallet.url}/metrics`)).text();
  expect(metrics).toMatch(/^saga_consumer_stuck_partitions 0$/m);
  expect(metrics).toMatch(/^saga_consumer_stuck_seconds 0$/m);
});
