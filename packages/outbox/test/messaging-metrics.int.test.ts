// The messaging metrics against the real broker, registry and PostgreSQL: each one is made to move
// by what it measures (events published and consumed, a handler held, a dependency away, a poison
// record, a relay whose broker does not acknowledge), then read from the registry's text.
import { randomUUID } from "node:crypto";
import type pg from "pg";
import { Registry } from "prom-client";
import { parseDatabaseUrl } from "@shop/config";
import { topicOf, type EventName, type OrderCompleted, type OrderFailed, type OrderPlaced, type PaymentFailed } from "@shop/events";
import { TestEventPublisher, createTestSchema, eventually, metricValue, silentLogger, testInfra, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import {
  OutboxRelay,
  appendToOutbox,
  createSqlPool,
  inTransaction,
  outboxTablesDdl,
  registerOutboxGauges,
  startMessaging,
  type Messaging,
} from "../src/index.ts";

const prefix = uniqueTopicPrefix("metrics");
const service = "metricsobs";
const registry = new Registry();
const paymentFailedTopic = topicOf("PaymentFailed", prefix);
let db: TestSchema;
let pool: pg.Pool;
let messaging: Messaging;
let driver: TestEventPublisher;

/** What the handler does with a PaymentFailed, by its `reason`. */
let releaseHeld: () => void = () => undefined;
let held = Promise.resolve();
let databaseAway = false;

const value = async (name: string, labels: Record<string, string> = {}) => metricValue(await registry.metrics(), name, labels);

const failure = (orderId: string, reason: string): PaymentFailed => ({
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  orderId,
  userId: "u1",
  reason,
  detail: "",
});

const placed = (orderId: string, at: Date): OrderPlaced => ({
  eventId: randomUUID(),
  occurredAt: at.toISOString(),
  orderId,
  userId: "u1",
  items: [{ productId: "p1", quantity: 1, unitPrice: 100 }],
  subtotal: 100,
  discountAmount: 0,
  totalAmount: 100,
  userCouponId: null,
  deadlineAt: new Date(at.getTime() + 30_000).toISOString(),
});
const failed = (orderId: string, failureCode: string, at: Date): OrderFailed => ({
  eventId: randomUUID(),
  occurredAt: at.toISOString(),
  orderId,
  userId: "u1",
  failureCode,
  userCouponId: null,
});
const completed = (orderId: string, at: Date): OrderCompleted => ({
  eventId: randomUUID(),
  orderId,
  userId: "u1",
  items: [{ productId: "p1", name: "p", quantity: 1, unitPrice: 100 }],
  subtotal: 100,
  discountAmount: 0,
  totalAmount: 100,
  paymentId: randomUUID(),
  completedAt: at.toISOString(),
});

const message = (eventType: EventName, payload: { eventId: string; orderId: string }) => ({
  eventType,
  topic: topicOf(eventType, prefix),
  key: payload.orderId,
  payload,
});

beforeAll(async () => {
  db = await createTestSchema({ sql: outboxTablesDdl, label: "metrics" });
  const database = parseDatabaseUrl(db.databaseUrl);
  pool = createSqlPool(database, { size: 2, name: "metrics-test", logger: silentLogger });
  messaging = await startMessaging({
    service,
    brokers: testInfra.brokers,
    registryUrl: testInfra.registryUrl,
    topicPrefix: prefix,
    database,
    publishes: ["OrderPlaced", "OrderFailed", "OrderCompleted"],
    handlers: {
      PaymentFailed: async (event) => {
        if (event.reason === "HOLD") await held;
        if (event.reason === "AWAY" && databaseAway) throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
        if (event.reason === "POISON") throw new Error("cannot handle this one");
      },
    },
    logger: silentLogger,
    metrics: registry,
    consumerOptions: { maxAttempts: 3, initialBackoffMs: 10, maxBackoffMs: 100 },
  });
  driver = await TestEventPublisher.connect(prefix, silentLogger);
  // Partitions assigned and the group caught up: the lag series exist and read 0.
  await driver.send("PaymentFailed", failure(randomUUID(), "OK"));
  await eventually(async () => expect(await value("kafka_consumer_lag", { topic: paymentFailedTopic })).toBe(0), 30_000, 200);
});

afterAll(async () => {
  releaseHeld();
  await driver?.disconnect();
  await messaging?.stop();
  await pool?.end();
  await db?.drop();
});

test("saga outcomes are counted by failure code as the relay publishes them, timed from the placement", async () => {
  const now = Date.now();
  const [a, b, refused] = [randomUUID(), randomUUID(), randomUUID()];
  await inTransaction(pool, (tx) =>
    appendToOutbox(tx, db.schema, [message("OrderPlaced", placed(a, new Date(now - 1_500))), message("OrderPlaced", placed(b, new Date(now - 200)))]),
  );
  await inTransaction(pool, (tx) =>
    appendToOutbox(tx, db.schema, [
      message("OrderFailed", failed(a, "OUT_OF_STOCK", new Date(now))),
      message("OrderCompleted", completed(b, new Date(now))),
      // Refused at placement: no OrderPlaced went out, so it is counted but not timed.
      message("OrderFailed", failed(refused, "COUPON_NOT_USABLE", new Date(now))),
    ]),
  );
  await eventually(async () => {
    expect(await value("saga_outcomes_total", { service, outcome: "FAILED", failure_code: "OUT_OF_STOCK" })).toBe(1);
    expect(await value("saga_outcomes_total", { service, outcome: "FAILED", failure_code: "COUPON_NOT_USABLE" })).toBe(1);
    expect(await value("saga_outcomes_total", { service, outcome: "COMPLETED" })).toBe(1);
  }, 15_000);
  expect(await value("saga_duration_seconds_count", { service, outcome: "FAILED" })).toBe(1);
  expect(await value("saga_duration_seconds_sum", { service, outcome: "FAILED" })).toBeCloseTo(1.5, 2);
  expect(await value("saga_duration_seconds_sum", { service, outcome: "COMPLETED" })).toBeCloseTo(0.2, 2);
  // 1.5 s falls in the 2.5 s bucket, not the 1 s one.
  expect(await value("saga_duration_seconds_bucket", { service, outcome: "FAILED", le: "1" })).toBe(0);
  expect(await value("saga_duration_seconds_bucket", { service, outcome: "FAILED", le: "2.5" })).toBe(1);
});

test("consumer lag counts the records behind a held handler, per partition, and returns to 0", async () => {
  held = new Promise((resolve) => (releaseHeld = resolve));
  const orderId = randomUUID();
  for (let i = 0; i < 4; i++) await driver.send("PaymentFailed", failure(orderId, "HOLD"));
  await eventually(
    async () => expect(await value("kafka_consumer_lag", { service, group: `${prefix}${service}`, topic: paymentFailedTopic })).toBe(4),
    15_000,
    200,
  );
  releaseHeld();
  await eventually(async () => expect(await value("kafka_consumer_lag", { topic: paymentFailedTopic })).toBe(0), 15_000, 200);
});

test("a transient failure shows as a retry in progress until it passes", async () => {
  databaseAway = true;
  await driver.send("PaymentFailed", failure(randomUUID(), "AWAY"));
  await eventually(async () => expect(await value("saga_consumer_retries_in_progress", { service, kind: "transient" })).toBe(1), 15_000, 20);
  expect(await value("saga_consumer_stuck_partitions")).toBe(1);
  expect(await value("saga_consumer_retries_total", { service, kind: "transient" })).toBeGreaterThan(0);
  databaseAway = false;
  await eventually(async () => expect(await value("saga_consumer_retries_in_progress", { service, kind: "transient" })).toBe(0), 15_000, 20);
  expect(await value("saga_consumer_stuck_partitions")).toBe(0);
});

test("a poison record is retried, then counted as a dead letter and on the dead-letter topic", async () => {
  expect(await value("kafka_dead_letter_topic_records", { service })).toBe(0);
  await driver.send("PaymentFailed", failure(randomUUID(), "POISON"));
  await eventually(async () => expect(await value("saga_dead_letters_total", { service, topic: paymentFailedTopic })).toBe(1), 15_000);
  expect(await value("saga_consumer_retries_total", { service, kind: "permanent" })).toBe(2);
  await eventually(async () => expect(await value("kafka_dead_letter_topic_records", { service, topic: `${prefix}${service}.dlq` })).toBe(1), 15_000, 200);
});

test("outbox backlog and the oldest row's age grow while the broker does not acknowledge, and drop once it does", async () => {
  const other = await createTestSchema({ sql: outboxTablesDdl, label: "metricsheld" });
  const otherPool = createSqlPool(parseDatabaseUrl(other.databaseUrl), { size: 1, name: "metrics-held", logger: silentLogger });
  let acknowledge: () => void = () => undefined;
  const acknowledged = new Promise<void>((resolve) => (acknowledge = resolve));
  const relay = new OutboxRelay({ connection: other.connection, schema: other.schema, logger: silentLogger, publish: () => acknowledged, pollIntervalMs: 50 });
  const heldRegistry = new Registry();
  registerOutboxGauges(heldRegistry, "held", relay, silentLogger);
  const held = async (name: string) => metricValue(await heldRegistry.metrics(), name, { service: "held" });
  try {
    await relay.start();
    expect(await held("outbox_backlog_rows")).toBe(0);
    expect(await held("outbox_oldest_row_age_seconds")).toBe(0);
    const orderId = randomUUID();
    await inTransaction(otherPool, (tx) =>
      appendToOutbox(tx, other.schema, [message("OrderPlaced", placed(orderId, new Date())), message("OrderFailed", failed(orderId, "TIMEOUT", new Date()))]),
    );
    await eventually(async () => expect(await held("outbox_oldest_row_age_seconds")).toBeGreaterThanOrEqual(1), 10_000, 100);
    expect(await held("outbox_backlog_rows")).toBe(2);
    acknowledge();
    await eventually(async () => expect(await held("outbox_backlog_rows")).toBe(0), 10_000, 50);
    expect(await held("outbox_oldest_row_age_seconds")).toBe(0);
  } finally {
    acknowledge();
    await relay.stop();
    await otherPool.end();
    await other.drop();
  }
});
