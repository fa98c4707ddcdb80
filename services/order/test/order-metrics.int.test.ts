// The order service's /metrics while orders are placed and their sagas end: completed, refused by
// a participant, and timed out; real PostgreSQL, Kafka and registry, the participants played by the test.
import { randomUUID } from "node:crypto";
import { EventProbe, eventually, metricValue, silentLogger, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import type { RunningOrder } from "../src/main.ts";
import { SagaDriver, httpClient, newKey, newTestSchema, newUser, sagaEvents, startOrderService } from "./support/harness.ts";
import { startUpstreamStandIn, type UpstreamStandIn } from "./support/upstream-stand-in.ts";

const prefix = uniqueTopicPrefix("ordermetrics");
const SAGA_TIMEOUT_MS = 4_000;

let db: TestSchema;
let upstream: UpstreamStandIn;
let order: RunningOrder;
let probe: EventProbe;
let saga: SagaDriver;
const call = httpClient(() => order.url);
const metrics = async () => (await fetch(`${order.url}/metrics`)).text();
const value = async (name: string, labels: Record<string, string>) => metricValue(await metrics(), name, { service: "order", ...labels });

beforeAll(async () => {
  db = await newTestSchema("order-metrics");
  upstream = await startUpstreamStandIn();
  upstream.addProduct({ id: "mug", name: "Mug", price: 8_000, stock: 100 });
  order = await startOrderService(db, upstream, {
    TOPIC_PREFIX: prefix,
    SAGA_TIMEOUT_MS: String(SAGA_TIMEOUT_MS),
    DEADLINE_SWEEP_INTERVAL_MS: "100",
    // The order left to time out must not make the service shed the others.
    ADMISSION_SAMPLE_INTERVAL_MS: "0",
  });
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

async function placeOrder() {
  const userId = newUser("metrics");
  const response = await call("POST", `/api/v1/users/${userId}/orders`, { items: [{ productId: "mug", quantity: 1 }] }, { "idempotency-key": newKey() });
  expect(response.status).toBe(202);
  await probe.waitFor("OrderPlaced", (e) => e.orderId === response.body.orderId);
  return response.body as {
    orderId: string;
    userId: string;
    totalAmount: number;
    items: { productId: string; name: string; quantity: number; unitPrice: number }[];
  };
}

test("a completed, a refused and a timed-out saga move the outcome counters and the duration histogram", async () => {
  const completed = await placeOrder();
  await saga.send("BalanceDebited", sagaEvents.balanceDebited(completed));
  await saga.send("StockReserved", sagaEvents.stockReserved(completed));
  await saga.send("PaymentCompleted", sagaEvents.paymentCompleted(completed, randomUUID()));

  const refused = await placeOrder();
  await saga.send("BalanceDebitFailed", sagaEvents.balanceDebitFailed(refused));

  const abandoned = await placeOrder();

  await probe.waitFor("OrderCompleted", (e) => e.orderId === completed.orderId);
  await probe.waitFor("OrderFailed", (e) => e.orderId === refused.orderId);
  await probe.waitFor("OrderFailed", (e) => e.orderId === abandoned.orderId && e.failureCode === "TIMEOUT", 1, 20_000);

  await eventually(async () => {
    expect(await value("saga_outcomes_total", { outcome: "COMPLETED" })).toBe(1);
    expect(await value("saga_outcomes_total", { outcome: "FAILED", failure_code: "INSUFFICIENT_BALANCE" })).toBe(1);
    expect(await value("saga_outcomes_total", { outcome: "FAILED", failure_code: "TIMEOUT" })).toBe(1);
  }, 10_000);
  expect(await value("saga_duration_seconds_count", { outcome: "COMPLETED" })).toBe(1);
  expect(await value("saga_duration_seconds_count", { outcome: "FAILED" })).toBe(2);
  // The refused saga ended within seconds of its placement; the abandoned one only at its deadline.
  expect(await value("saga_duration_seconds_bucket", { outcome: "FAILED", le: "2.5" })).toBe(1);
  expect(await value("saga_duration_seconds_bucket", { outcome: "FAILED", le: "120" })).toBe(2);
  expect(await value("saga_duration_seconds_sum", { outcome: "FAILED" })).toBeGreaterThanOrEqual(SAGA_TIMEOUT_MS / 1000);
});

test("after the sagas, the consumer has no lag, the outbox is empty, and nothing was dead-lettered", async () => {
  await eventually(
    async () => {
      const text = await metrics();
      expect(metricValue(text, "kafka_consumer_lag", { service: "order", group: `${prefix}order` })).toBe(0);
      expect(metricValue(text, "outbox_backlog_rows", { service: "order" })).toBe(0);
      expect(metricValue(text, "outbox_oldest_row_age_seconds", { service: "order" })).toBe(0);
      expect(metricValue(text, "kafka_dead_letter_topic_records", { service: "order" })).toBe(0);
    },
    15_000,
    200,
  );
  // One series per partition of each saga topic the order service consumes.
  expect((await metrics()).split("\n").filter((line) => line.startsWith("kafka_consumer_lag{")).length).toBeGreaterThanOrEqual(4 * 6);
  expect(await value("saga_dead_letters_total", {})).toBeUndefined();
});
