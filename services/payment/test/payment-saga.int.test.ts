import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { topicOf, type EventName, type EventPayloads, type OrderFailed, type StockReserved } from "@shop/events";
import { EventCodec, EventPublisher, createKafka } from "@shop/kafka";
import { authHeadersFor, EventProbe, createTestSchema, eventually, silentLogger, testInfra, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import { loadPaymentConfig } from "../src/config.ts";
import { start, type RunningPayment } from "../src/main.ts";

const migrationsDir = fileURLToPath(new URL("../prisma/migrations", import.meta.url));
const prefix = uniqueTopicPrefix("payment");
/** The provider's per-transaction limit in this test: small, so that an over-limit order is easy to make. */
const LIMIT = 50_000;

let db: TestSchema;
let payment: RunningPayment;
let probe: EventProbe;
let publisher: EventPublisher;

beforeAll(async () => {
  db = await createTestSchema({ migrationsDir, label: "payment-saga" });
  payment = await start(
    loadPaymentConfig({ DATABASE_URL: db.databaseUrl, PORT: "0", TOPIC_PREFIX: prefix, LOG_LEVEL: "error", PAYMENT_MAX_AMOUNT: String(LIMIT) }),
    silentLogger,
  );
  probe = await EventProbe.start(["PaymentCompleted", "PaymentFailed"], prefix, silentLogger);
  publisher = new EventPublisher(createKafka("payment-saga-test", testInfra.brokers, silentLogger), EventCodec.forUrl(testInfra.registryUrl, prefix));
  await publisher.connect();
});
afterAll(async () => {
  await publisher?.disconnect();
  await probe?.stop();
  await payment?.stop();
  await db?.drop();
});

const send = <E extends EventName>(type: E, payload: EventPayloads[E]) =>
  publisher.publish([{ eventType: type, topic: topicOf(type, prefix), key: (payload as { orderId: string }).orderId, payload }]);

/** Test data builders: what the catalog and the order service would send. */
function stockReserved(overrides: Partial<StockReserved> = {}): StockReserved {
  return {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    orderId: randomUUID(),
    userId: `buyer-${randomUUID().slice(0, 8)}`,
    amount: 12_000,
    items: [{ productId: "p-1", quantity: 3, unitPrice: 4_000 }],
    ...overrides,
  };
}

const orderFailed = (reserved: Pick<StockReserved, "orderId" | "userId">, failureCode = "TIMEOUT"): OrderFailed => ({
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  orderId: reserved.orderId,
  userId: reserved.userId,
  failureCode,
  userCouponId: null,
});

const paymentsOf = (orderId: string) =>
  db.query<{ status: string; amount: string }>("SELECT status, amount::text FROM payments WHERE order_id = $1", [orderId]);
const handled = (eventId: string) =>
  eventually(async () => expect(await db.query("SELECT 1 FROM inbox_events WHERE event_id = $1", [eventId])).toHaveLength(1));

async function call(path: string) {
  const response = await fetch(`${payment.url}${path}`, { headers: await authHeadersFor(path) });

  const body: any = await response.json();
  return { status: response.status, contentType: response.headers.get("content-type") ?? "", body };
}

test("StockReserved delivered three times takes one payment and emits one PaymentCompleted", async () => {
  const reserved = stockReserved();
  for (let i = 0; i < 3; i++) await send("StockReserved", reserved);
  await send("StockReserved", { ...reserved, eventId: randomUUID() }); // the catalog announcing it again

  const [completed] = await probe.waitFor("PaymentCompleted", (e) => e.orderId === reserved.orderId);
  expect(completed).toMatchObject({ orderId: reserved.orderId, userId: reserved.userId, amount: 12_000, paymentId: expect.any(String) });
  await handled(reserved.eventId);
  await new Promise((r) => setTimeout(r, 500));
  expect(probe.of("PaymentCompleted", (e) => e.orderId === reserved.orderId)).toHaveLength(1);
  expect(await paymentsOf(reserved.orderId)).toEqual([{ status: "COMPLETED", amount: "12000" }]);

  const listed = await call(`/api/v1/users/${reserved.userId}/payments`);
  expect(listed.status).toBe(200);
  expect(listed.body.items).toEqual([
    { paymentId: completed!.paymentId, orderId: reserved.orderId, amount: 12_000, status: "COMPLETED", createdAt: expect.any(String) },
  ]);
});

test("a payment over the provider's per-transaction limit is declined with PaymentFailed (PAYMENT_FAILED)", async () => {
  const atLimit = stockReserved({ amount: LIMIT });
  const overLimit = stockReserved({ amount: LIMIT + 1 });
  await send("StockReserved", atLimit);
  await send("StockReserved", overLimit);

  const [failed] = await probe.waitFor("PaymentFailed", (e) => e.orderId === overLimit.orderId);
  expect(failed).toMatchObject({ orderId: overLimit.orderId, userId: overLimit.userId, reason: "PAYMENT_FAILED" });
  expect(failed!.detail).toContain(`limit of ${LIMIT} KRW`);
  await probe.waitFor("PaymentCompleted", (e) => e.orderId === atLimit.orderId);
  expect(probe.of("PaymentCompleted", (e) => e.orderId === overLimit.orderId)).toHaveLength(0);
  expect(await paymentsOf(overLimit.orderId)).toEqual([{ status: "FAILED", amount: String(LIMIT + 1) }]);

  // The order failing afterwards leaves a declined payment declined.
  const notice = orderFailed(overLimit, "PAYMENT_FAILED");
  await send("OrderFailed", notice);
  await handled(notice.eventId);
  expect(await paymentsOf(overLimit.orderId)).toEqual([{ status: "FAILED", amount: String(LIMIT + 1) }]);
});

test("OrderFailed before StockReserved: the late reservation takes no payment and emits nothing", async () => {
  const reserved = stockReserved();
  const notice = orderFailed(reserved);
  await send("OrderFailed", notice);
  await handled(notice.eventId);
  await send("StockReserved", reserved);
  await handled(reserved.eventId);
  await new Promise((r) => setTimeout(r, 500));
  expect(await paymentsOf(reserved.orderId)).toEqual([]);
  expect(probe.of("PaymentCompleted", (e) => e.orderId === reserved.orderId)).toHaveLength(0);
  expect(probe.of("PaymentFailed", (e) => e.orderId === reserved.orderId)).toHaveLength(0);
  expect((await call(`/api/v1/users/${reserved.userId}/payments?orderId=${reserved.orderId}`)).body.items).toEqual([]);
});

test("OrderFailed after the payment (e.g. a TIMEOUT) cancels it exactly once", async () => {
  const reserved = stockReserved({ amount: 7_000 });
  await send("StockReserved", reserved);
  await probe.waitFor("PaymentCompleted", (e) => e.orderId === reserved.orderId);
  const notice = orderFailed(reserved);
  await send("OrderFailed", notice);
  await send("OrderFailed", notice);
  await send("OrderFailed", { ...notice, eventId: randomUUID() });
  await eventually(async () => expect(await paymentsOf(reserved.orderId)).toEqual([{ status: "CANCELLED", amount: "7000" }]));
  // A StockReserved redelivered after the cancellation does not take a second payment.
  await send("StockReserved", { ...reserved, eventId: randomUUID() });
  await new Promise((r) => setTimeout(r, 500));
  expect(await paymentsOf(reserved.orderId)).toEqual([{ status: "CANCELLED", amount: "7000" }]);
  expect(probe.of("PaymentCompleted", (e) => e.orderId === reserved.orderId)).toHaveLength(1);
});

test("racing StockReserved and OrderFailed never leave a payment COMPLETED", async () => {
  const reservations = Array.from({ length: 20 }, () => stockReserved({ amount: 1_000 }));
  await Promise.all(reservations.flatMap((r) => [send("StockReserved", r), send("OrderFailed", orderFailed(r))]));
  const ids = reservations.map((r) => r.orderId);
  await eventually(async () => {
    const rows = await db.query<{ n: string }>("SELECT count(*)::text AS n FROM failed_orders WHERE order_id = ANY($1)", [ids]);
    expect(rows[0]!.n).toBe("20");
    const inbox = await db.query("SELECT 1 FROM inbox_events WHERE event_id = ANY($1::uuid[])", [reservations.map((r) => r.eventId)]);
    expect(inbox).toHaveLength(20);
  }, 20_000);
  const statuses = await db.query<{ status: string }>("SELECT status FROM payments WHERE order_id = ANY($1)", [ids]);
  expect(statuses.filter((s) => s.status === "COMPLETED")).toEqual([]);
});

test("a user sees only their own payments, newest first, optionally of one order", async () => {
  const userId = `lister-${randomUUID().slice(0, 8)}`;
  const older = stockReserved({ userId, amount: 1_000 });
  const newer = stockReserved({ userId, amount: 2_000 });
  const someoneElse = stockReserved({ amount: 3_000 });
  await send("StockReserved", older);
  await probe.waitFor("PaymentCompleted", (e) => e.orderId === older.orderId);
  await send("StockReserved", newer);
  await send("StockReserved", someoneElse);
  await probe.waitFor("PaymentCompleted", (e) => e.orderId === newer.orderId || e.orderId === someoneElse.orderId, 2);

  const all = await call(`/api/v1/users/${userId}/payments`);
  expect(all.body.items.map((p: { orderId: string }) => p.orderId)).toEqual([newer.orderId, older.orderId]);
  const one = await call(`/api/v1/users/${userId}/payments?orderId=${older.orderId}`);
  expect(one.body.items).toEqual([expect.objectContaining({ orderId: older.orderId, amount: 1_000, status: "COMPLETED" })]);
  // Another user's order id finds nothing for this user.
  expect((await call(`/api/v1/users/${userId}/payments?orderId=${someoneElse.orderId}`)).body.items).toEqual([]);

  for (const bad of [
    `/api/v1/users/${"x".repeat(65)}/payments`,
    `/api/v1/users/${userId}/payments?orderId=a%20b`,
    `/api/v1/users/${userId}/payments?limit=5`,
  ]) {
    const response = await call(bad);
    expect(response.status).toBe(400);
    expect(response.contentType).toContain("application/problem+json");
    expect(response.body.code).toBe("VALIDATION_FAILED");
  }
});

test("health, readiness, metrics and the OpenAPI document", async () => {
  expect((await call("/healthz")).status).toBe(200);
  expect((await call("/readyz")).status).toBe(200);
  expect(await (await fetch(`${payment.url}/metrics`)).text()).toContain("http_request_duration_seconds");
  expect((await call("/openapi.json")).body.paths["/api/v1/users/{userId}/payments"].get).toBeDefined();
});
