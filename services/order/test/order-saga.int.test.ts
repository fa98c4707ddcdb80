import { randomUUID } from "node:crypto";
import { EventProbe, eventually, silentLogger, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import type { RunningOrder } from "../src/main.ts";
import { SagaDriver, httpClient, newKey, newTestSchema, newUser, sagaEvents, sleep, startOrderService } from "./support/harness.ts";
import { startUpstreamStandIn, type UpstreamStandIn } from "./support/upstream-stand-in.ts";

const prefix = uniqueTopicPrefix("ordersaga");

let db: TestSchema;
let upstream: UpstreamStandIn;
let order: RunningOrder;
let probe: EventProbe;
let saga: SagaDriver;
const call = httpClient(() => order.url);

beforeAll(async () => {
  db = await newTestSchema("order-saga");
  upstream = await startUpstreamStandIn();
  upstream.addProduct({ id: "mug", name: "Mug", price: 8_000, stock: 100 });
  upstream.addProduct({ id: "tea", name: "Tea", price: 2_500, stock: 100 });
  order = await startOrderService(db, upstream, { TOPIC_PREFIX: prefix });
  probe = await EventProbe.start(["OrderPlaced", "OrderFailed", "OrderCompleted"], prefix, silentLogger);
  saga = await SagaDriver.connect(prefix);
});
afterAll(async () => {
  await saga?.disconnect();
  await probe?.stop();
  await order?.stop();
  await upstream?.close();
  await db?.drop();
});

interface PlacedOrder {
  orderId: string;
  userId: string;
  totalAmount: number;
  items: { productId: string; name: string; quantity: number; unitPrice: number }[];
}

async function placeOrder(options: { userCouponId?: string; userId?: string } = {}): Promise<PlacedOrder> {
  const userId = options.userId ?? newUser("saga");
  const response = await call(
    "POST",
    `/api/v1/users/${userId}/orders`,
    {
      items: [
        { productId: "mug", quantity: 1 },
        { productId: "tea", quantity: 2 },
      ],
      userCouponId: options.userCouponId,
    },
    { "idempotency-key": newKey() },
  );
  expect(response.status).toBe(202);
  await probe.waitFor("OrderPlaced", (e) => e.orderId === response.body.orderId);
  return response.body as PlacedOrder;
}

const read = async (o: PlacedOrder) => (await call("GET", `/api/v1/users/${o.userId}/orders/${o.orderId}`)).body;
const steps = (body: { timeline: { step: string; status: string }[] }) => body.timeline.map((e) => `${e.step}:${e.status}`);

test.each([
  ["BalanceDebitFailed", "INSUFFICIENT_BALANCE", "BALANCE_DEBIT_FAILED", sagaEvents.balanceDebitFailed],
  ["StockReservationFailed", "OUT_OF_STOCK", "STOCK_RESERVATION_FAILED", sagaEvents.stockReservationFailed],
  ["PaymentFailed", "PAYMENT_FAILED", "PAYMENT_FAILED", sagaEvents.paymentFailed],
] as const)("%s fails the order with %s and emits OrderFailed once", async (eventType, failureCode, step, build) => {
  const placed = await placeOrder();
  const event = build(placed);
  await saga.send(eventType, event);
  await saga.send(eventType, event); // redelivered

  const [failed] = await probe.waitFor("OrderFailed", (e) => e.orderId === placed.orderId);
  expect(failed).toMatchObject({ orderId: placed.orderId, userId: placed.userId, failureCode, userCouponId: null });
  const body = await read(placed);
  expect(body).toMatchObject({ status: "FAILED", failureCode, paymentId: null });
  expect(steps(body)).toEqual(["ORDER_PLACED:SUCCEEDED", `${step}:FAILED`]);
  await sleep(500);
  expect(probe.of("OrderFailed", (e) => e.orderId === placed.orderId)).toHaveLength(1);
});

test("OrderFailed carries the reserved coupon, for the coupon service to release", async () => {
  const userId = newUser("coupon");
  upstream.addCoupon({ userCouponId: `uc-${userId}`, couponId: "c-1", userId, discountAmount: 1_000, usable: true });
  const placed = await placeOrder({ userId, userCouponId: `uc-${userId}` });
  await saga.send("BalanceDebited", sagaEvents.balanceDebited(placed));
  await saga.send("StockReservationFailed", sagaEvents.stockReservationFailed(placed));
  const [failed] = await probe.waitFor("OrderFailed", (e) => e.orderId === placed.orderId);
  expect(failed).toMatchObject({ failureCode: "OUT_OF_STOCK", userCouponId: `uc-${userId}` });
});

test("PaymentCompleted delivered three times completes the order and emits exactly one order.completed.v1", async () => {
  const placed = await placeOrder();
  await saga.send("BalanceDebited", sagaEvents.balanceDebited(placed));
  await saga.send("StockReserved", sagaEvents.stockReserved(placed));
  const paymentId = randomUUID();
  const payment = sagaEvents.paymentCompleted(placed, paymentId);
  for (let i = 0; i < 3; i++) await saga.send("PaymentCompleted", payment);
  // The payment service re-announcing the same payment under a new eventId changes nothing either.
  const reannounced = { ...payment, eventId: randomUUID() };
  await saga.send("PaymentCompleted", reannounced);

  const [completed] = await probe.waitFor("OrderCompleted", (e) => e.orderId === placed.orderId);
  expect(completed).toEqual({
    eventId: expect.any(String),
    orderId: placed.orderId,
    userId: placed.userId,
    items: [
      { productId: "mug", name: "Mug", quantity: 1, unitPrice: 8_000 },
      { productId: "tea", name: "Tea", quantity: 2, unitPrice: 2_500 },
    ],
    subtotal: 13_000,
    discountAmount: 0,
    totalAmount: 13_000,
    paymentId,
    completedAt: expect.any(String),
  });
  await eventually(async () =>
    expect(await db.query("SELECT 1 FROM inbox_events WHERE event_id = ANY($1::uuid[])", [[payment.eventId, reannounced.eventId]])).toHaveLength(2),
  );
  await sleep(500);
  expect(probe.of("OrderCompleted", (e) => e.orderId === placed.orderId)).toHaveLength(1);

  const body = await read(placed);
  expect(body).toMatchObject({ status: "COMPLETED", paymentId, failureCode: null });
  expect(steps(body)).toEqual([
    "ORDER_PLACED:SUCCEEDED",
    "BALANCE_DEBITED:SUCCEEDED",
    "STOCK_RESERVED:SUCCEEDED",
    "PAYMENT_COMPLETED:SUCCEEDED",
    "COMPLETED:SUCCEEDED",
  ]);
  // The record's eventId is the order's, fixed at placement: a re-publication would carry the same one.
  const [row] = await db.query<{ completion_event_id: string }>("SELECT completion_event_id FROM orders WHERE order_id = $1", [placed.orderId]);
  expect(completed!.eventId).toBe(row!.completion_event_id);
});

test("a COMPLETED order never fails afterwards", async () => {
  const placed = await placeOrder();
  await saga.send("PaymentCompleted", sagaEvents.paymentCompleted(placed));
  await probe.waitFor("OrderCompleted", (e) => e.orderId === placed.orderId);
  // Reordered across topics: progress arrives after the payment; a stray failure report arrives too.
  await saga.send("BalanceDebited", sagaEvents.balanceDebited(placed));
  await saga.send("PaymentFailed", sagaEvents.paymentFailed(placed));
  await eventually(async () => expect(steps(await read(placed))).toContain("PAYMENT_FAILED:IGNORED"));
  const body = await read(placed);
  expect(body.status).toBe("COMPLETED");
  expect(steps(body)).toContain("BALANCE_DEBITED:SUCCEEDED");
  expect(probe.of("OrderFailed", (e) => e.orderId === placed.orderId)).toHaveLength(0);
});

test("Prefer: wait answers 201 with the final order when the saga ends in time", async () => {
  const userId = newUser("wait");
  const key = newKey();
  const answer = call("POST", `/api/v1/users/${userId}/orders`, { items: [{ productId: "mug", quantity: 2 }] }, { "idempotency-key": key, prefer: "wait=10" });
  const [placed] = await probe.waitFor("OrderPlaced", (e) => e.userId === userId);
  const ref = { orderId: placed!.orderId, userId, totalAmount: placed!.totalAmount, items: placed!.items };
  await saga.send("BalanceDebited", sagaEvents.balanceDebited(ref));
  await saga.send("StockReserved", sagaEvents.stockReserved(ref));
  await saga.send("PaymentCompleted", sagaEvents.paymentCompleted(ref));

  const response = await answer;
  expect(response.status).toBe(201);
  expect(response.headers.get("preference-applied")).toBe("wait=10");
  expect(response.body).toMatchObject({ orderId: placed!.orderId, status: "COMPLETED", totalAmount: 16_000 });
  expect(typeof response.body.paymentId).toBe("string");

  // A retry without Prefer answers what the placement stored (202, as placed); with Prefer it waits again (here: done at once).
  const replay = await call("POST", `/api/v1/users/${userId}/orders`, { items: [{ productId: "mug", quantity: 2 }] }, { "idempotency-key": key });
  expect(replay).toMatchObject({ status: 202, body: { orderId: placed!.orderId, status: "PENDING" } });
  const waitedReplay = await call(
    "POST",
    `/api/v1/users/${userId}/orders`,
    { items: [{ productId: "mug", quantity: 2 }] },
    { "idempotency-key": key, prefer: "wait=3" },
  );
  expect(waitedReplay).toMatchObject({ status: 201, body: { orderId: placed!.orderId, status: "COMPLETED" } });
});

test("Prefer: wait answers 202 with the order as it is when the saga does not end in time", async () => {
  const userId = newUser("slow");
  const started = Date.now();
  const response = await call(
    "POST",
    `/api/v1/users/${userId}/orders`,
    { items: [{ productId: "tea", quantity: 1 }] },
    { "idempotency-key": newKey(), prefer: "respond-async, wait=1" },
  );
  const elapsed = Date.now() - started;
  expect(response.status).toBe(202);
  expect(response.body.status).toBe("PENDING");
  expect(elapsed).toBeGreaterThanOrEqual(900);
  expect(elapsed).toBeLessThan(5_000);
});

test("Prefer: wait also ends early on a failure, with 201 and the FAILED order", async () => {
  const userId = newUser("waitfail");
  const answer = call(
    "POST",
    `/api/v1/users/${userId}/orders`,
    { items: [{ productId: "tea", quantity: 3 }] },
    { "idempotency-key": newKey(), prefer: "wait=10" },
  );
  const [placed] = await probe.waitFor("OrderPlaced", (e) => e.userId === userId);
  await saga.send(
    "BalanceDebitFailed",
    sagaEvents.balanceDebitFailed({ orderId: placed!.orderId, userId, totalAmount: placed!.totalAmount, items: placed!.items }),
  );
  const response = await answer;
  expect(response.status).toBe(201);
  expect(response.body).toMatchObject({ status: "FAILED", failureCode: "INSUFFICIENT_BALANCE" });
});

test("events about orders this service does not know are consumed without effect", async () => {
  const stranger = { orderId: randomUUID(), userId: "nobody", totalAmount: 1, items: [{ productId: "x", quantity: 1, unitPrice: 1 }] };
  const event = sagaEvents.paymentCompleted(stranger);
  await saga.send("PaymentCompleted", event);
  await eventually(async () => expect(await db.query("SELECT 1 FROM inbox_events WHERE event_id = $1", [event.eventId])).toHaveLength(1));
  expect(await db.query("SELECT 1 FROM orders WHERE order_id = $1", [stranger.orderId])).toEqual([]);
  expect(probe.of("OrderCompleted", (e) => e.orderId === stranger.orderId)).toHaveLength(0);
});
