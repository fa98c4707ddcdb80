import { randomUUID } from "node:crypto";
import type { Consumer } from "kafkajs";
import { topicOf, type OrderFailed } from "@shop/events";
import { runWithTrace, traceFromTraceparent } from "@shop/logging";
import { eventually, silentLogger, testInfra, uniqueTopicPrefix } from "@shop/testing";
import { EventCodec, EventConsumer, EventPublisher, createKafka, deadLetterTopic, ensureTopics, type EventMeta } from "../src/index.ts";
import { orderFailed } from "./support.ts";

const prefix = uniqueTopicPrefix("kafka");
const kafka = createKafka("kafka-kit-test", testInfra.brokers, silentLogger);
const codec = EventCodec.forUrl(testInfra.registryUrl, prefix);
const publisher = new EventPublisher(kafka, codec);
const received: { event: OrderFailed; meta: EventMeta }[] = [];
let attemptsOnPoison = 0;
/** Attempts at the "flaky database" record: fails like an unreachable PostgreSQL for its first 8 attempts. */
let attemptsOnTransient = 0;
let consumer: EventConsumer;
let dlqReader: Consumer;
const deadLetters: { key: string | null; value: Buffer; headers: Record<string, string> }[] = [];

beforeAll(async () => {
  await ensureTopics(kafka, [topicOf("OrderFailed", prefix), deadLetterTopic("kit", prefix)]);
  await publisher.connect();
  consumer = new EventConsumer({
    kafka,
    codec,
    publisher,
    logger: silentLogger,
    service: "kit",
    topicPrefix: prefix,
    maxAttempts: 3,
    initialBackoffMs: 10,
    maxBackoffMs: 100,
    handlers: {
      OrderFailed: async (event, meta) => {
        if (event.failureCode === "DATABASE_AWAY" && ++attemptsOnTransient <= 8) {
          throw Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" });
        }
        if (event.failureCode === "POISON") {
          attemptsOnPoison++;
          throw new Error("cannot handle this one");
        }
        received.push({ event, meta });
      },
    },
  });
  const assigned = consumer.whenAssigned();
  await consumer.start();
  await assigned;
  dlqReader = kafka.consumer({ groupId: `${prefix}dlq-reader`, maxWaitTimeInMs: 50 });
  await dlqReader.connect();
  await dlqReader.subscribe({ topic: deadLetterTopic("kit", prefix), fromBeginning: true });
  await dlqReader.run({
    eachMessage: async ({ message }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) headers[k] = String(v);
      deadLetters.push({ key: message.key?.toString() ?? null, value: message.value!, headers });
    },
  });
});
afterAll(async () => {
  await consumer?.stop();
  await dlqReader?.disconnect();
  await publisher.disconnect();
});

test("an Avro event round-trips producer → Kafka → consumer through the registry, with its trace", async () => {
  const event = orderFailed();
  const trace = traceFromTraceparent(undefined);
  await runWithTrace(trace, () => publisher.publish([{ eventType: "OrderFailed", topic: topicOf("OrderFailed", prefix), key: event.orderId, payload: event }]));
  await eventually(() => expect(received.map((r) => r.event.eventId)).toContain(event.eventId), 15_000);
  const { event: got, meta } = received.find((r) => r.event.eventId === event.eventId)!;
  expect(got).toEqual(event);
  expect(meta.key).toBe(event.orderId);
  expect(meta.headers["event-type"]).toBe("OrderFailed");
  expect(meta.headers.traceparent).toMatch(new RegExp(`^00-${trace.traceId}-[0-9a-f]{16}-01$`));
});

test("a record that keeps failing lands on the dead-letter topic with its bytes and the error; the partition moves on", async () => {
  const orderId = randomUUID();
  const poison = orderFailed({ orderId, failureCode: "POISON" });
  const after = orderFailed({ orderId });
  await publisher.publish([
    { eventType: "OrderFailed", topic: topicOf("OrderFailed", prefix), key: orderId, payload: poison },
    { eventType: "OrderFailed", topic: topicOf("OrderFailed", prefix), key: orderId, payload: after },
  ]);
  await eventually(() => expect(deadLetters.map((d) => d.key)).toContain(orderId), 15_000);
  const letter = deadLetters.find((d) => d.key === orderId)!;
  expect(attemptsOnPoison).toBe(3);
  expect(letter.headers).toMatchObject({ "dlq-original-topic": topicOf("OrderFailed", prefix), "dlq-attempts": "3", "event-type": "OrderFailed" });
  expect(letter.headers["dlq-error"]).toContain("cannot handle this one");
  // Confluent wire format: magic byte 0, then the schema id; the original payload decodes.
  expect(letter.value[0]).toBe(0);
  expect(await codec.decode(letter.value)).toEqual(poison);
  await eventually(() => expect(received.map((r) => r.event.eventId)).toContain(after.eventId), 15_000);
});

test("a record that is not in the registry's wire format goes to the dead letters at once", async () => {
  const key = randomUUID();
  await publisher.publishRaw([{ topic: topicOf("OrderFailed", prefix), key, value: Buffer.from('{"not":"avro"}'), headers: {} }]);
  await eventually(() => expect(deadLetters.map((d) => d.key)).toContain(key), 15_000);
  expect(deadLetters.find((d) => d.key === key)!.headers["dlq-attempts"]).toBe("0");
});

test("a record failing with a transient fault (the database away) is retried past maxAttempts until it succeeds, never dead-lettered, and the partition waits for it", async () => {
  const orderId = randomUUID();
  const refund = orderFailed({ orderId, failureCode: "DATABASE_AWAY" });
  const after = orderFailed({ orderId });
  await publisher.publish([
    { eventType: "OrderFailed", topic: topicOf("OrderFailed", prefix), key: orderId, payload: refund },
    { eventType: "OrderFailed", topic: topicOf("OrderFailed", prefix), key: orderId, payload: after },
  ]);
  await eventually(() => expect(consumer.stuckPartitions().map((s) => s.reason)).toContain("socket ECONNREFUSED"), 15_000, 20);
  await eventually(() => expect(received.map((r) => r.event.eventId)).toContain(refund.eventId), 15_000);
  expect(attemptsOnTransient).toBe(9);
  // In order: the record behind it waited instead of overtaking it.
  const ids = received.map((r) => r.event.eventId);
  await eventually(() => expect(received.map((r) => r.event.eventId)).toContain(after.eventId), 15_000);
  expect(received.map((r) => r.event.eventId).indexOf(after.eventId)).toBeGreaterThan(ids.indexOf(refund.eventId));
  expect(deadLetters.map((d) => d.key)).not.toContain(orderId);
  expect(consumer.stuckPartitions()).toEqual([]);
});
