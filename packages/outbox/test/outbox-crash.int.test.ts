import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { topicOf, type OrderPlaced } from "@shop/events";
import { EventCodec, EventConsumer, EventPublisher, createKafka } from "@shop/kafka";
import { EventProbe, createTestSchema, eventually, silentLogger, testInfra, uniqueTopicPrefix, type TestSchema } from "@shop/testing";
import { OutboxRelay, appendToOutbox, claimInboxEvents, outboxTablesDdl, type SqlExecutor } from "../src/index.ts";

const prefix = uniqueTopicPrefix("outbox");
const fixture = fileURLToPath(new URL("./fixtures/relay-that-dies.ts", import.meta.url));

let db: TestSchema;
let pool: pg.Pool;
let probe: EventProbe;
let publisher: EventPublisher;
let consumer: EventConsumer;
const kafka = createKafka("outbox-test", testInfra.brokers, silentLogger);
const codec = EventCodec.forUrl(testInfra.registryUrl, prefix);

/** pg with the two methods the outbox needs, as a Prisma transaction client offers them. */
const executor = (client: pg.PoolClient): SqlExecutor => ({
  $executeRawUnsafe: async (sql, ...values) => (await client.query(sql, values)).rowCount ?? 0,
  $queryRawUnsafe: async <T>(sql: string, ...values: unknown[]) => (await client.query(sql, values)).rows as T,
});

async function inTransaction(work: (tx: SqlExecutor, client: pg.PoolClient) => Promise<void>): Promise<void> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await work(executor(client), client);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK");
    throw error;
  } finally {
    client.release();
  }
}

const placed = (orderId: string): OrderPlaced => ({
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  orderId,
  userId: "u1",
  items: [{ productId: "p1", quantity: 1, unitPrice: 100 }],
  subtotal: 100,
  discountAmount: 0,
  totalAmount: 100,
  userCouponId: null,
  deadlineAt: new Date().toISOString(),
});

/** The state change and its event, committed together. */
async function placeOrder(orderId: string): Promise<OrderPlaced> {
  const event = placed(orderId);
  await inTransaction(async (tx, client) => {
    await client.query("INSERT INTO orders_placed (order_id) VALUES ($1)", [orderId]);
    await appendToOutbox(tx, db.schema, [{ eventType: "OrderPlaced", topic: topicOf("OrderPlaced", prefix), key: orderId, payload: event }]);
  });
  return event;
}

function runRelayThatDies(crashPoint: "before-publish" | "after-publish"): Promise<NodeJS.Signals | null> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture], {
    env: { ...process.env, CRASH_POINT: crashPoint, TOPIC_PREFIX: prefix, DB_SCHEMA: db.schema, DB_CONNECTION: JSON.stringify(db.connection) },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return new Promise((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
}

function startRelay(options: { lingerMs?: number; onPublished?: (records: { id: string }[]) => void } = {}): Promise<OutboxRelay> {
  const relay = new OutboxRelay({
    connection: db.connection,
    schema: db.schema,
    logger: silentLogger,
    publish: (records) =>
      publisher.publish(records.map((r) => ({ eventType: r.eventType, topic: r.topic, key: r.key, payload: r.payload, headers: r.headers }))),
    ...options,
  });
  return relay.start().then(() => relay);
}

beforeAll(async () => {
  db = await createTestSchema({
    label: "outbox",
    sql: `${outboxTablesDdl} CREATE TABLE orders_placed (order_id TEXT PRIMARY KEY); CREATE TABLE seen (order_id TEXT NOT NULL, times INT NOT NULL DEFAULT 1, PRIMARY KEY (order_id));`,
  });
  pool = new pg.Pool({ ...db.connection, options: `-c search_path="${db.schema}"` });
  probe = await EventProbe.start(["OrderPlaced"], prefix, silentLogger);
  publisher = new EventPublisher(kafka, codec);
  await publisher.connect();
  // A downstream consumer with an inbox: the effect and the event id commit together.
  consumer = new EventConsumer({
    kafka,
    codec,
    publisher,
    logger: silentLogger,
    service: "outbox-test-consumer",
    topicPrefix: prefix,
    handlers: {
      OrderPlaced: (event) =>
        inTransaction(async (tx, client) => {
          if ((await claimInboxEvents(tx, [{ eventId: event.eventId, consumer: "seen-counter" }])).size === 0) return;
          await client.query("INSERT INTO seen (order_id) VALUES ($1) ON CONFLICT (order_id) DO UPDATE SET times = seen.times + 1", [event.orderId]);
        }),
    },
  });
  const assigned = consumer.whenAssigned();
  await consumer.start();
  await assigned;
});
afterAll(async () => {
  await consumer?.stop();
  await probe?.stop();
  await publisher?.disconnect();
  await pool?.end();
  await db?.drop();
});

const timesSeen = async (orderId: string) => (await db.query<{ times: number }>("SELECT times FROM seen WHERE order_id = $1", [orderId]))[0]?.times ?? 0;
const pending = async () => (await db.query("SELECT 1 FROM outbox_events")).length;

test("relay killed after the commit and before the publish: the event is published after restart, seen once", async () => {
  const orderId = randomUUID();
  const event = await placeOrder(orderId);
  expect(await runRelayThatDies("before-publish")).toBe("SIGKILL");
  expect(await pending()).toBe(1);
  await new Promise((r) => setTimeout(r, 500));
  expect(probe.of("OrderPlaced", (e) => e.orderId === orderId)).toHaveLength(0);

  const relay = await startRelay();
  try {
    const [received] = await probe.waitFor("OrderPlaced", (e) => e.orderId === orderId);
    expect(received).toEqual(event);
    await eventually(async () => expect(await timesSeen(orderId)).toBe(1));
    expect(await pending()).toBe(0);
  } finally {
    await relay.stop();
  }
});

test("relay killed after the publish and before marking it: published twice, applied once after dedupe", async () => {
  const orderId = randomUUID();
  await placeOrder(orderId);
  expect(await runRelayThatDies("after-publish")).toBe("SIGKILL");
  await probe.waitFor("OrderPlaced", (e) => e.orderId === orderId);
  expect(await pending()).toBe(1);

  const relay = await startRelay();
  try {
    await probe.waitFor("OrderPlaced", (e) => e.orderId === orderId, 2);
    await eventually(async () => expect(await pending()).toBe(0));
    await new Promise((r) => setTimeout(r, 500));
    expect(await timesSeen(orderId)).toBe(1);
  } finally {
    await relay.stop();
  }
});

test("a rolled-back transaction publishes nothing; events of one key keep their order", async () => {
  const rolledBack = randomUUID();
  await expect(
    inTransaction(async (tx) => {
      await appendToOutbox(tx, db.schema, [{ eventType: "OrderPlaced", topic: topicOf("OrderPlaced", prefix), key: rolledBack, payload: placed(rolledBack) }]);
      throw new Error("business rule failed after the append");
    }),
  ).rejects.toThrow("business rule failed");

  const relay = await startRelay();
  try {
    const key = randomUUID();
    const sequence = Array.from({ length: 30 }, () => placed(key));
    for (const event of sequence) {
      await inTransaction((tx) => appendToOutbox(tx, db.schema, [{ eventType: "OrderPlaced", topic: topicOf("OrderPlaced", prefix), key, payload: event }]));
    }
    await probe.waitFor("OrderPlaced", (e) => e.orderId === key, 30);
    expect(probe.of("OrderPlaced", (e) => e.orderId === key).map((e) => e.eventId)).toEqual(sequence.map((e) => e.eventId));
    expect(probe.of("OrderPlaced", (e) => e.orderId === rolledBack)).toHaveLength(0);
  } finally {
    await relay.stop();
  }
});

test("a batch whose ids cross a power of ten (99 → 100) is published in id order", async () => {
  // The next ids straddle the next power of ten: e.g. 98, 99, 100, 101, 102.
  const [sequenceState] = await db.query<{ next: string }>("SELECT last_value + 1 AS next FROM outbox_events_id_seq");
  await db.query("SELECT setval('outbox_events_id_seq', $1, false)", [10 ** sequenceState!.next.length - 2]);
  const key = randomUUID();
  const sequence = Array.from({ length: 5 }, () => placed(key));
  // Committed before the relay starts: one batch.
  for (const event of sequence) {
    await inTransaction((tx) => appendToOutbox(tx, db.schema, [{ eventType: "OrderPlaced", topic: topicOf("OrderPlaced", prefix), key, payload: event }]));
  }
  const relay = await startRelay();
  try {
    await probe.waitFor("OrderPlaced", (e) => e.orderId === key, 5);
    expect(probe.of("OrderPlaced", (e) => e.orderId === key).map((e) => e.eventId)).toEqual(sequence.map((e) => e.eventId));
  } finally {
    await relay.stop();
  }
});

test("with a linger, a steady stream goes out in fewer batches, in order, and a row committed while idle goes at once", async () => {
  const batches: number[] = [];
  const relay = await startRelay({ lingerMs: 1000, onPublished: (records) => batches.push(records.length) });
  try {
    // Idle: the first row's NOTIFY starts a drain at once, linger or not.
    const first = randomUUID();
    const started = Date.now();
    await placeOrder(first);
    await probe.waitFor("OrderPlaced", (e) => e.orderId === first);
    expect(Date.now() - started).toBeLessThan(700);
    // Busy: twenty rows committed over about 200 ms, while the relay lingers after each batch.
    batches.length = 0;
    const key = randomUUID();
    const sequence: OrderPlaced[] = [];
    for (let i = 0; i < 20; i++) {
      const event = placed(key);
      sequence.push(event);
      await inTransaction((tx) => appendToOutbox(tx, db.schema, [{ eventType: "OrderPlaced", topic: topicOf("OrderPlaced", prefix), key, payload: event }]));
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await probe.waitFor("OrderPlaced", (e) => e.orderId === key, 20);
    expect(probe.of("OrderPlaced", (e) => e.orderId === key).map((e) => e.eventId)).toEqual(sequence.map((e) => e.eventId));
    expect(batches.reduce((sum, n) => sum + n, 0)).toBe(20);
    expect(batches.length).toBeLessThanOrEqual(5);
  } finally {
    await relay.stop();
  }
});

test("only one relay per schema publishes at a time", async () => {
  const [first, second] = await Promise.all([startRelay(), startRelay()]);
  try {
    const orderId = randomUUID();
    await placeOrder(orderId);
    await probe.waitFor("OrderPlaced", (e) => e.orderId === orderId);
    expect([first.leader, second.leader].filter(Boolean)).toHaveLength(1);
    // The standby takes over when the leader stops.
    const leader = first.leader ? first : second;
    const standby = first.leader ? second : first;
    await leader.stop();
    const next = randomUUID();
    await placeOrder(next);
    await probe.waitFor("OrderPlaced", (e) => e.orderId === next);
    expect(standby.leader).toBe(true);
  } finally {
    await first.stop();
    await second.stop();
  }
});
