import { randomUUID } from "node:crypto";
import { topicOf, type OrderCompleted } from "@shop/events";
import { EventCodec, EventPublisher, createKafka, ensureTopics } from "@shop/kafka";
import { createTestSchema, eventually, silentLogger, testInfra, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import { loadSinkConfig } from "../src/config.ts";
import { start } from "../src/main.ts";
import type { DataPlatformSink } from "../src/sink.ts";

const prefix = uniqueTopicPrefix("sink");
const kafka = createKafka("sink-test", testInfra.brokers, silentLogger);
const publisher = new EventPublisher(kafka, EventCodec.forUrl(testInfra.registryUrl, prefix));
let db: TestSchema;
let sink: DataPlatformSink;

const completed = (overrides: Partial<OrderCompleted> = {}): OrderCompleted => ({
  eventId: randomUUID(),
  orderId: randomUUID(),
  userId: "u-1",
  items: [{ productId: "p-1", name: "Kimchi", quantity: 2, unitPrice: 5000 }],
  subtotal: 10_000,
  discountAmount: 1_000,
  totalAmount: 9_000,
  paymentId: randomUUID(),
  completedAt: new Date().toISOString(),
  ...overrides,
});

beforeAll(async () => {
  db = await createTestSchema({ label: "sink" });
  await ensureTopics(kafka, [topicOf("OrderCompleted", prefix)]);
  await publisher.connect();
  sink = await start(loadSinkConfig({ SINK_DATABASE_URL: db.databaseUrl, TOPIC_PREFIX: prefix, LOG_LEVEL: "error" }), silentLogger);
});
afterAll(async () => {
  await sink?.stop();
  await publisher.disconnect();
  await db?.drop();
});

test("each completed order lands once, however often it is delivered", async () => {
  const first = completed();
  const second = completed({ userId: "u-2", totalAmount: 10_000, discountAmount: 0 });
  const send = (o: OrderCompleted) =>
    publisher.publish([{ eventType: "OrderCompleted", topic: topicOf("OrderCompleted", prefix), key: o.orderId, payload: o }]);
  await send(first);
  await send(first);
  await send(second);
  await send(first);
  await eventually(async () => expect(await db.query("SELECT order_id FROM completed_orders")).toHaveLength(2), 20_000);
  const [row] = await db.query("SELECT user_id, total_amount::int AS total, items FROM completed_orders WHERE event_id = $1", [first.eventId]);
  expect(row).toEqual({ user_id: "u-1", total: 9000, items: first.items });
});

test("a batch carrying the same order twice, among others, lands each order once", async () => {
  const orders = Array.from({ length: 20 }, (_, i) => completed({ userId: `u-batch-${i}` }));
  const topic = topicOf("OrderCompleted", prefix);
  // One produce request with one key: the records reach the sink as one batch.
  await publisher.publish([...orders, orders[0]!, orders[5]!].map((o) => ({ eventType: "OrderCompleted" as const, topic, key: "one-partition", payload: o })));
  await eventually(async () => {
    const rows = await db.query<{ user_id: string }>("SELECT user_id FROM completed_orders WHERE user_id LIKE 'u-batch-%'");
    expect(rows.map((r) => r.user_id).sort()).toEqual(orders.map((o) => o.userId).sort());
  }, 20_000);
});
