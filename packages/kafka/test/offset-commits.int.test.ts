// A consumer commits what it handled at most once per commit interval, however many batches
// arrive (kafkajs alone commits after every batch), still commits the tail of a burst once it goes
// quiet, and commits what it handled when it stops. On the test broker, with the real registry.
import type { Kafka } from "kafkajs";
import { topicOf } from "@shop/events";
import { eventually, silentLogger, testInfra, uniqueTopicPrefix } from "@shop/testing";
import { EventCodec, EventConsumer, EventPublisher, OFFSET_COMMIT_INTERVAL_MS, createKafka, ensureTopics } from "../src/index.ts";
import { orderFailed } from "./support.ts";

const prefix = uniqueTopicPrefix("commits");
const topic = topicOf("OrderFailed", prefix);
const kafka = createKafka("offset-commit-test", testInfra.brokers, silentLogger);
const codec = EventCodec.forUrl(testInfra.registryUrl, prefix);
const publisher = new EventPublisher(kafka, codec);

const send = (count: number) => {
  const events = Array.from({ length: count }, () => orderFailed());
  return publisher.publish(events.map((event) => ({ eventType: "OrderFailed" as const, topic, key: event.orderId, payload: event })));
};

/** A started consumer of the group "commits", with the offset commits it sends counted and the events it handled. */
async function startCountingConsumer(offsetCommitIntervalMs?: number): Promise<{ consumer: EventConsumer; commits: () => number; handled: string[] }> {
  let commits = 0;
  const counting = Object.create(kafka) as Kafka;
  counting.consumer = (config) => {
    const inner = kafka.consumer(config);
    inner.on(inner.events.COMMIT_OFFSETS, () => void commits++);
    return inner;
  };
  const handled: string[] = [];
  const consumer = new EventConsumer({
    kafka: counting,
    codec,
    publisher,
    logger: silentLogger,
    service: "commits",
    topicPrefix: prefix,
    offsetCommitIntervalMs,
    batchHandlers: { OrderFailed: async (events) => void handled.push(...events.map((e) => e.event.eventId)) },
  });
  const assigned = consumer.whenAssigned();
  await consumer.start();
  await assigned;
  return { consumer, commits: () => commits, handled };
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
  const started = await startCountingConsumer();
  consumer = started.consumer;

  const sent = 30;
  const begun = Date.now();
  for (let i = 0; i < sent; i++) {
    await send(1);
    // Each record handled before the next is sent: one batch each.
    await eventually(() => expect(started.handled).toHaveLength(i + 1), 10_000, 5);
  }
  const elapsed = Date.now() - begun;
  // Committing after every batch would be 30 commits; once per interval is about elapsed / interval.
  expect(started.commits()).toBeLessThanOrEqual(Math.ceil(elapsed / OFFSET_COMMIT_INTERVAL_MS) + 1);

  // Nothing more arrives: the last records are committed within an interval all the same.
  await eventually(async () => expect(await committedAndEnd(consumer!.groupId)).toEqual({ committed: sent, end: sent }), 3 * OFFSET_COMMIT_INTERVAL_MS, 100);
});

test("a consumer that stops commits what it handled first, so its successor does not handle it again", async () => {
  await consumer!.stop();
  const before = await committedAndEnd(consumer!.groupId);
  // An interval no test waits for: only the stop can commit these records.
  const stopping = await startCountingConsumer(60_000);
  consumer = stopping.consumer;
  await send(3);
  await eventually(() => expect(stopping.handled).toHaveLength(3), 10_000, 5);
  expect(stopping.commits()).toBe(0);

  await consumer.stop();
  consumer = undefined;
  expect(stopping.commits()).toBe(1);
  expect(await committedAndEnd(stopping.consumer.groupId)).toEqual({ committed: before.committed + 3, end: before.end + 3 });
});
