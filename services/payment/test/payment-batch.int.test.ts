import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { topicOf, type OrderFailed, type StockReserved } from "@shop/events";
import { build, createTestSchema, silentLogger, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import { loadPaymentConfig } from "../src/config.ts";
import { start, type RunningPayment } from "../src/main.ts";

// The set-based SQL of the saga step: whole batches applied in one transaction through
// `running.saga.handle`, without Kafka (the consumer only feeds the same batches).

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
const prefix = uniqueTopicPrefix("payment-batch");
const LIMIT = 50_000;

let db: TestSchema;
let payment: RunningPayment;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "payment-batch" });
  payment = await start(
    loadPaymentConfig({
      DATABASE_URL: db.databaseUrl,
      PORT: "0",
      TOPIC_PREFIX: prefix,
      LOG_LEVEL: "error",
      PAYMENT_MAX_AMOUNT: String(LIMIT),
      EVENTS_ENABLED: "false",
    }),
    silentLogger,
  );
});
afterAll(async () => {
  await payment?.stop();
  await db?.drop();
});

interface PaymentRow {
  payment_id: string;
  status: string;
  amount: string;
  failure_reason: string | null;
}
const paymentsOf = (orderId: string) =>
  db.query<PaymentRow>("SELECT payment_id::text, status, amount::text, failure_reason FROM payments WHERE order_id = $1", [orderId]);
/** The answers waiting in the outbox (no relay runs here), oldest first. */
const answersFor = (orderId: string) =>
  db.query<{ topic: string; payload: Record<string, unknown> }>("SELECT topic, payload FROM outbox_events WHERE key = $1 ORDER BY id", [orderId]);
const failureCodeOf = async (orderId: string) =>
  (await db.query<{ failure_code: string }>("SELECT failure_code FROM failed_orders WHERE order_id = $1", [orderId]))[0]?.failure_code ?? null;
const failureOf = (order: StockReserved, failureCode = "TIMEOUT"): OrderFailed =>
  build.orderFailed({ orderId: order.orderId, userId: order.userId, failureCode });

test("one StockReserved batch: one payment per order, a decline over the limit, nothing for a failed order, the answers in the outbox", async () => {
  const userId = `batch-${randomUUID().slice(0, 8)}`;
  const paid = build.stockReserved({ userId, amount: 12_000 });
  const atLimit = build.stockReserved({ userId, amount: LIMIT }); // with `paid`, over the limit together: the limit is per transaction
  const overLimit = build.stockReserved({ userId, amount: LIMIT + 1 });
  const alreadyFailed = build.stockReserved({ userId });
  await payment.saga.handle("OrderFailed", [failureOf(alreadyFailed)]);

  const batch = [paid, overLimit, { ...paid, eventId: randomUUID() }, alreadyFailed, atLimit];
  await payment.saga.handle("StockReserved", batch);

  const [paidRow] = await paymentsOf(paid.orderId);
  expect(await paymentsOf(paid.orderId)).toEqual([{ payment_id: expect.any(String), status: "COMPLETED", amount: "12000", failure_reason: null }]);
  expect(await answersFor(paid.orderId)).toEqual([
    {
      topic: topicOf("PaymentCompleted", prefix),
      payload: expect.objectContaining({ orderId: paid.orderId, userId, paymentId: paidRow!.payment_id, amount: 12_000 }),
    },
  ]);
  expect(await paymentsOf(atLimit.orderId)).toEqual([expect.objectContaining({ status: "COMPLETED", amount: String(LIMIT) })]);

  const [declined] = await paymentsOf(overLimit.orderId);
  expect(declined).toMatchObject({ status: "FAILED", amount: String(LIMIT + 1), failure_reason: expect.stringContaining(`limit of ${LIMIT} KRW`) });
  expect(await answersFor(overLimit.orderId)).toEqual([
    {
      topic: topicOf("PaymentFailed", prefix),
      payload: expect.objectContaining({ orderId: overLimit.orderId, userId, reason: "PAYMENT_FAILED", detail: declined!.failure_reason }),
    },
  ]);

  expect(await paymentsOf(alreadyFailed.orderId)).toEqual([]);
  expect(await answersFor(alreadyFailed.orderId)).toEqual([]);
  // The HTTP read sees the batch's payments.
  expect((await payment.payments.paymentsOf(userId)).map((p) => p.orderId).sort()).toEqual([paid.orderId, atLimit.orderId, overLimit.orderId].sort());

  // The whole batch redelivered: every event was claimed, nothing changes.
  await payment.saga.handle("StockReserved", batch);
  expect(await paymentsOf(paid.orderId)).toEqual([paidRow]);
  expect(await answersFor(paid.orderId)).toHaveLength(1);
  expect(await answersFor(overLimit.orderId)).toHaveLength(1);
});

test("one OrderFailed batch: a completed payment cancelled once, a declined one kept, an unpaid order remembered with its first failure code", async () => {
  const completed = build.stockReserved({ amount: 7_000 });
  const declined = build.stockReserved({ amount: LIMIT + 1 });
  const unpaid = build.stockReserved();
  await payment.saga.handle("StockReserved", [completed, declined]);

  await payment.saga.handle("OrderFailed", [
    failureOf(completed, "TIMEOUT"),
    failureOf(declined, "PAYMENT_FAILED"),
    failureOf(unpaid, "TIMEOUT"),
    failureOf(unpaid, "OUT_OF_STOCK"),
    failureOf(completed, "PAYMENT_FAILED"),
  ]);

  expect(await paymentsOf(completed.orderId)).toEqual([expect.objectContaining({ status: "CANCELLED", amount: "7000" })]);
  expect(await paymentsOf(declined.orderId)).toEqual([expect.objectContaining({ status: "FAILED" })]);
  expect(await paymentsOf(unpaid.orderId)).toEqual([]);
  expect([await failureCodeOf(completed.orderId), await failureCodeOf(declined.orderId), await failureCodeOf(unpaid.orderId)]).toEqual([
    "TIMEOUT",
    "PAYMENT_FAILED",
    "TIMEOUT",
  ]);

  // The unpaid order's reservation arriving late takes nothing and answers nothing.
  await payment.saga.handle("StockReserved", [unpaid, { ...completed, eventId: randomUUID() }]);
  expect(await paymentsOf(unpaid.orderId)).toEqual([]);
  expect(await answersFor(unpaid.orderId)).toEqual([]);
  expect(await paymentsOf(completed.orderId)).toEqual([expect.objectContaining({ status: "CANCELLED" })]);
  expect(await answersFor(completed.orderId)).toHaveLength(1);
});

test("concurrent StockReserved and OrderFailed batches over the same orders never leave a failed order's payment COMPLETED", async () => {
  const orders = Array.from({ length: 30 }, () => build.stockReserved({ amount: 1_000 }));
  await Promise.all([
    payment.saga.handle("StockReserved", orders),
    payment.saga.handle(
      "OrderFailed",
      [...orders].reverse().map((o) => failureOf(o)),
    ),
  ]);

  const ids = orders.map((o) => o.orderId);
  const statuses = await db.query<{ status: string }>("SELECT status FROM payments WHERE order_id = ANY($1::text[])", [ids]);
  expect(statuses.filter((s) => s.status !== "CANCELLED")).toEqual([]);
  expect(await db.query("SELECT 1 FROM failed_orders WHERE order_id = ANY($1::text[])", [ids])).toHaveLength(orders.length);
  // Whichever batch came first: a payment (then cancelled) and its answer, or neither.
  const answered = await db.query("SELECT 1 FROM outbox_events WHERE key = ANY($1::text[])", [ids]);
  expect(answered).toHaveLength(statuses.length);
});
