import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { build, createTestSchema, silentLogger, type TestSchema } from "@shop/testing";
import { loadWalletConfig } from "../src/config.ts";
import { start, type RunningWallet } from "../src/main.ts";

// The set-based SQL of the wallet's saga repository, batches applied directly through the runner
// (no Kafka): several orders of one user in one transaction, and batches racing HTTP charges.

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));

let db: TestSchema;
let wallet: RunningWallet;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "wallet-saga-batch" });
  wallet = await start(
    loadWalletConfig({ DATABASE_URL: db.databaseUrl, PORT: "0", EVENTS_ENABLED: "false", DB_POOL_SIZE: "20", LOG_LEVEL: "error" }),
    silentLogger,
  );
});
afterAll(async () => {
  await wallet?.stop();
  await db?.drop();
});

const newUser = (label: string) => `${label}-${randomUUID().slice(0, 8)}`;
const order = (userId: string, totalAmount: number) => build.orderPlaced({ userId, totalAmount });

interface Entry {
  type: string;
  amount: number;
  balanceAfter: number;
  orderId: string | null;
}
const ledgerOf = async (userId: string): Promise<Entry[]> =>
  (
    await db.query<{ type: string; amount: string; balance_after: string; order_id: string | null }>(
      "SELECT type, amount::text, balance_after::text, order_id FROM ledger_entries WHERE user_id = $1 ORDER BY id",
      [userId],
    )
  ).map((r) => ({ type: r.type, amount: Number(r.amount), balanceAfter: Number(r.balance_after), orderId: r.order_id }));

const statusOf = async (orderId: string) => (await db.query<{ status: string }>("SELECT status FROM order_debits WHERE order_id = $1", [orderId]))[0]?.status;
const answersFor = (orderIds: string[]) =>
  db.query<{ key: string; topic: string; detail: string | null }>(
    "SELECT key, topic, payload->>'detail' AS detail FROM outbox_events WHERE key = ANY($1::text[]) ORDER BY id",
    [orderIds],
  );

/** In id order, each entry's balance_after is the one before plus its amount: nothing was lost or applied out of order. */
function expectUnbrokenChain(ledger: Entry[]) {
  ledger.reduce((before, entry) => {
    expect(entry.balanceAfter).toBe(before + entry.amount);
    return entry.balanceAfter;
  }, 0);
}

test("one batch of orders of one user whose total exceeds the balance: debited in order until one does not fit, that one rejected, exact balances", async () => {
  const userId = newUser("batch");
  await wallet.wallet.charge({ userId, amount: 1000 });
  const orders = [order(userId, 400), order(userId, 500), order(userId, 300), order(userId, 100)];
  const [first, second, tooBig, last] = orders.map((o) => o.orderId) as [string, string, string, string];

  await wallet.saga.handle("OrderPlaced", orders);

  expect(await wallet.wallet.balanceOf(userId)).toBe(0);
  expect(await ledgerOf(userId)).toEqual([
    { type: "CHARGE", amount: 1000, balanceAfter: 1000, orderId: null },
    { type: "PAYMENT", amount: -400, balanceAfter: 600, orderId: first },
    { type: "PAYMENT", amount: -500, balanceAfter: 100, orderId: second },
    { type: "PAYMENT", amount: -100, balanceAfter: 0, orderId: last },
  ]);
  expect([await statusOf(first), await statusOf(second), await statusOf(tooBig), await statusOf(last)]).toEqual(["DEBITED", "DEBITED", "REJECTED", "DEBITED"]);
  expect(await answersFor(orders.map((o) => o.orderId))).toEqual([
    { key: first, topic: "saga.balance-debited.v1", detail: null },
    { key: second, topic: "saga.balance-debited.v1", detail: null },
    { key: tooBig, topic: "saga.balance-debit-failed.v1", detail: "balance does not cover 300 KRW" },
    { key: last, topic: "saga.balance-debited.v1", detail: null },
  ]);

  // The failures of two debited orders and of the rejected one, in one batch: two refunds, in delivery order.
  await wallet.saga.handle(
    "OrderFailed",
    [second, tooBig, first].map((orderId) => build.orderFailed({ orderId, userId })),
  );
  expect(await wallet.wallet.balanceOf(userId)).toBe(900);
  expect((await ledgerOf(userId)).slice(4)).toEqual([
    { type: "REFUND", amount: 500, balanceAfter: 500, orderId: second },
    { type: "REFUND", amount: 400, balanceAfter: 900, orderId: first },
  ]);
  expect([await statusOf(first), await statusOf(second), await statusOf(tooBig)]).toEqual(["REFUNDED", "REFUNDED", "REJECTED"]);
});

test("batches racing HTTP charges of users without a wallet yet lose no charge, never deadlock, and keep every balance_after exact", async () => {
  const users = [newUser("race-a"), newUser("race-b")];
  // Each batch holds orders of both users, in opposite user orders: the wallets are locked in one order all the same.
  const batches = Array.from({ length: 10 }, (_, i) => (i % 2 ? [...users] : [...users].reverse()).map((userId) => order(userId, 5)));
  const charges = users.flatMap((userId) => Array.from({ length: 50 }, () => () => wallet.wallet.charge({ userId, amount: 10 })));
  await Promise.all([...batches.map((batch) => () => wallet.saga.handle("OrderPlaced", batch)), ...charges].map((run) => run()));
  // Then every order fails while more charges arrive: the debited ones are refunded.
  const failures = batches.map((batch) => batch.map((o) => build.orderFailed({ orderId: o.orderId, userId: o.userId })));
  await Promise.all([...failures.map((batch) => () => wallet.saga.handle("OrderFailed", batch)), ...charges].map((run) => run()));

  for (const userId of users) {
    const ledger = await ledgerOf(userId);
    expectUnbrokenChain(ledger);
    expect(ledger.filter((e) => e.type === "CHARGE")).toHaveLength(100);
    // Every payment was refunded: the balance is exactly the charges.
    expect(ledger.filter((e) => e.type === "PAYMENT").length).toBe(ledger.filter((e) => e.type === "REFUND").length);
    expect(await wallet.wallet.balanceOf(userId)).toBe(1000);
    expect(ledger.at(-1)!.balanceAfter).toBe(1000);
  }
});
