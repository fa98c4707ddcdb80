import { EventProbe, eventually, silentLogger, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import type { RunningOrder } from "../src/main.ts";
import { SagaDriver, httpClient, newKey, newTestSchema, newUser, sagaEvents, sleep, startOrderService } from "./support/harness.ts";
import { startUpstreamStandIn, type UpstreamStandIn } from "./support/upstream-stand-in.ts";

const prefix = uniqueTopicPrefix("orderdeadline");
const SAGA_TIMEOUT_MS = 1_500;

let db: TestSchema;
let upstream: UpstreamStandIn;
/** Two instances on one database, both sweeping: each overdue order must still time out once. */
let first: RunningOrder;
let second: RunningOrder;
let probe: EventProbe;
let saga: SagaDriver;
const callFirst = httpClient(() => first.url);
const callSecond = httpClient(() => second.url);

beforeAll(async () => {
  db = await newTestSchema("order-deadline");
  upstream = await startUpstreamStandIn();
  upstream.addProduct({ id: "lamp", name: "Lamp", price: 30_000, stock: 100 });
  const env = { TOPIC_PREFIX: prefix, SAGA_TIMEOUT_MS: String(SAGA_TIMEOUT_MS), DEADLINE_SWEEP_INTERVAL_MS: "100" };
  first = await startOrderService(db, upstream, env);
  second = await startOrderService(db, upstream, { ...env, EVENTS_ENABLED: "false" });
  probe = await EventProbe.start(["OrderPlaced", "OrderFailed", "OrderCompleted"], prefix, silentLogger);
  saga = await SagaDriver.connect(prefix);
});
afterAll(async () => {
  await saga?.disconnect();
  await probe?.stop();
  await second?.stop();
  await first?.stop();
  await upstream?.close();
  await db?.drop();
});

const place = (call: typeof callFirst, userId: string, headers: Record<string, string> = {}) =>
  call("POST", `/api/v1/users/${userId}/orders`, { items: [{ productId: "lamp", quantity: 1 }] }, { "idempotency-key": newKey(), ...headers });
const steps = (body: { timeline: { step: string; status: string }[] }) => body.timeline.map((e) => `${e.step}:${e.status}`);

test("orders still PENDING at their deadline fail with TIMEOUT, each with exactly one OrderFailed", async () => {
  const userId = newUser("late");
  const placed = await Promise.all(Array.from({ length: 20 }, (_, i) => place(i % 2 ? callSecond : callFirst, userId)));
  const ids = new Set(placed.map((r) => r.body.orderId as string));
  expect(ids.size).toBe(20);

  const failed = await probe.waitFor("OrderFailed", (e) => ids.has(e.orderId), 20, 15_000);
  for (const event of failed) expect(event).toMatchObject({ userId, failureCode: "TIMEOUT", userCouponId: null });
  await sleep(700);
  expect(probe.of("OrderFailed", (e) => ids.has(e.orderId))).toHaveLength(20);

  const one = (await callFirst("GET", `/api/v1/users/${userId}/orders/${placed[0]!.body.orderId}`)).body;
  expect(one).toMatchObject({ status: "FAILED", failureCode: "TIMEOUT" });
  expect(steps(one)).toEqual(["ORDER_PLACED:SUCCEEDED", "TIMED_OUT:FAILED"]);
  expect(Date.parse(one.timeline[1].at) - Date.parse(one.createdAt)).toBeGreaterThanOrEqual(SAGA_TIMEOUT_MS);
});

test("a PaymentCompleted after the TIMEOUT leaves the order FAILED and emits no order.completed.v1", async () => {
  const userId = newUser("tooslow");
  const placed = (await place(callFirst, userId)).body;
  const ref = { orderId: placed.orderId, userId, totalAmount: placed.totalAmount, items: placed.items };
  await saga.send("BalanceDebited", sagaEvents.balanceDebited(ref));
  await probe.waitFor("OrderFailed", (e) => e.orderId === placed.orderId, 1, 10_000);
  await saga.send("StockReserved", sagaEvents.stockReserved(ref));
  await saga.send("PaymentCompleted", sagaEvents.paymentCompleted(ref));

  const url = `/api/v1/users/${userId}/orders/${placed.orderId}`;
  await eventually(async () => expect(steps((await callFirst("GET", url)).body)).toContain("PAYMENT_COMPLETED:IGNORED"));
  const body = (await callFirst("GET", url)).body;
  expect(body).toMatchObject({ status: "FAILED", failureCode: "TIMEOUT", paymentId: null });
  expect(steps(body)).toEqual([
    "ORDER_PLACED:SUCCEEDED",
    "BALANCE_DEBITED:SUCCEEDED",
    "TIMED_OUT:FAILED",
    "STOCK_RESERVED:SUCCEEDED",
    "PAYMENT_COMPLETED:IGNORED",
  ]);
  await sleep(500);
  expect(probe.of("OrderCompleted", (e) => e.orderId === placed.orderId)).toHaveLength(0);
  expect(probe.of("OrderFailed", (e) => e.orderId === placed.orderId)).toHaveLength(1);
});

test("an order completed before its deadline is never timed out", async () => {
  const userId = newUser("quick");
  const placed = (await place(callFirst, userId)).body;
  await saga.send("PaymentCompleted", sagaEvents.paymentCompleted({ orderId: placed.orderId, userId, totalAmount: placed.totalAmount, items: placed.items }));
  await probe.waitFor("OrderCompleted", (e) => e.orderId === placed.orderId);
  await sleep(SAGA_TIMEOUT_MS + 500);
  expect((await callFirst("GET", `/api/v1/users/${userId}/orders/${placed.orderId}`)).body.status).toBe("COMPLETED");
  expect(probe.of("OrderFailed", (e) => e.orderId === placed.orderId)).toHaveLength(0);
});

test("Prefer: wait on one instance sees the TIMEOUT another instance's sweeper decided", async () => {
  await second.sweeper!.stop(); // only the first instance sweeps now; the answer comes from the second
  const userId = newUser("waiter");
  const started = Date.now();
  const response = await place(callSecond, userId, { prefer: "wait=8" });
  expect(response.status).toBe(201);
  expect(response.body).toMatchObject({ status: "FAILED", failureCode: "TIMEOUT" });
  expect(Date.now() - started).toBeLessThan(SAGA_TIMEOUT_MS + 3_000);
});
