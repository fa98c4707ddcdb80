// A consumer commits what it handled at most once per OFFSET_COMMIT_INTERVAL_MS, however many
// batches arrive (kafkajs alone commits after every batch), and still commits the tail of a burst
// once it goes quiet, and what it handled when it stops. On the test broker, with the real registry.
import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import { topicOf, type OrderFailed } from "@shop/events";
import { eventually, silentLogger, testInfra, uniqueTopicPrefix } from "@shop/testing";
import { EventCodec, EventConsumer, EventPublisher, OFFSET_COMMIT_INTERVAL_MS, createKafka, ensureTopics } from "../src/index.ts";

const prefix = uniqueTopicPrefix("commits");
const topic = topicOf("OrderFailed", prefix);
const kafka = createKafka("offset-commit-test", testInfra.brokers, silentLogger);
const codec = EventCodec.forUrl(testInfra.registryUrl, prefix);
const publisher = new EventPublisher(kafka, codec);

const orderFailed = (): OrderFailed => ({
  eventId: randomUUID(),
  occurredAt: new Date().toISOString(),
  orderId: randomUUID(),
  userId: "u-1",
  failureCode: "TIMEOUT",
  userCouponId: null,
});

/** The consumer's kafkajs client, with every offset commit it sends counted. */
function countingCommits(): { kafka: Kafka; commits: () => number } {
  let commits = 0;
  const counting = Object.create(kafka) as Kafka;
  counting.consumer = (config) => {
    const consumer = kafka.consumer(config);
    consumer.on(consumer.events.COMMIT_OFFSETS, () => void commits++);
    return consumer;
  };
  return { kafka: counting, commits: () => commits };
}

/** The group's committed offsets summed over the topic's partitions, against the records on it. */
async function committedAndEnd(groupId: string): Promise<{ committed: number; end: number }> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const end = await admin.fetchTopicOffsets(topic);
    return {
      committed: committed!.partitions.reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0),
      end: end.reduce((sum, p) => sum + Number(p.high), 0),
    };
  } finally {
    await admin.disconnect();
  }
}

let consumer: EventConsumer | undefined;
beforeAll(async () => {
  await ensureTopics(kafka, [topic]);
  await publisher.connect();
});
afterAll(async () => {
  await consumer?.stop();
  await publisher.disconnect();
});

test("records arriving one by one are committed about once per interval, not once per batch; the tail is committed once they stop", async () => {
  const { kafka: counted, commits } = countingCommits();
  const handled: string[] = [];
  consumer = new EventConsumer({
    kafka: counted,
    codec,
    publisher,
    logger: silentLogger,
    service: "commits",
    topicPrefix: prefix,
    batchHandlers: { OrderFailed: async (events) => void handled.push(...events.map((e) => e.event.eventId)) },
  });
  const assigned = consumer.whenAssigned();
  await consumer.start();
  await assigned;

  const sent = 30;
  const started = Date.now();
  for (let i = 0; i < sent; i++) {
    const event = orderFailed();
    await publisher.publish([{ eventType: "OrderFailed", topic, key: event.orderId, payload: event }]);
    // Each record handled before the next is sent: one batch each.
    await eventually(() => expect(handled).toHaveLength(i + 1), 10_000, 5);
  }
  const elapsed = Date.now() - started;
  expect(handled).toHaveLength(sent);
  // Committing after every batch would be 30 commits; once per interval is about elapsed / interval.
  expect(commits()).toBeLessThanOrEqual(Math.ceil(elapsed / OFFSET_COMMIT_INTERVAL_MS) + 1);

  // Nothing more arrives: the last records are committed within an interval all the same.
  await eventually(async () => expect(await committedAndEnd(consumer!.groupId)).toEqual({ committed: sent, end: sent }), 3 * OFFSET_COMMIT_INTERVAL_MS, 100);
});

test("a consumer that stops commits what it handled first, so its successor does not handle it again", async () => {
  const before = await committedAndEnd(consumer!.groupId);
  const { kafka: counted, commits } = countingCommits();
  await consumer!.stop();
  const handled: string[] = [];
  consumer = new EventConsumer({
    kafka: counted,
    codec,
    publisher,
    logger: silentLogger,
    service: "commits",
    topicPrefix: prefix,
    batchHandlers: { OrderFailed: async (events) => void handled.push(...events.map((e) => e.event.eventId)) },
  });
  const assigned = consumer.whenAssigned();
  await consumer.start();
  await assigned;
  for (let i = 0; i < 3; i++) {
    const event = orderFailed();
    await publisher.publish([{ eventType: "OrderFailed", topic, key: event.orderId, payload: event }]);
  }
  await eventually(() => expect(handled).toHaveLength(3), 10_000, 5);
  // Well within the commit interval: only the stop can have committed these.
  await consumer.stop();
  expect(await committedAndEnd(consumer.groupId)).toEqual({ committed: before.committed + 3, end: before.end + 3 });
  expect(commits()).toBeGreaterThan(0);
  consumer = undefined;
});
