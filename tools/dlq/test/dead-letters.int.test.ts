import { randomUUID } from "node:crypto";
import { topicOf, type OrderFailed } from "@shop/events";
import { EventCodec, EventConsumer, EventPublisher, createKafka, deadLetterTopic, ensureTopics } from "@shop/kafka";
import { eventually, silentLogger, testInfra, uniqueTopicPrefix } from "@shop/testing";
import { listDeadLetters, replayDeadLetters } from "../src/dead-letters.ts";

const prefix = uniqueTopicPrefix("dlq");
const kafka = createKafka("dlq-test", testInfra.brokers, silentLogger);
const codec = EventCodec.forUrl(testInfra.registryUrl, prefix);
const publisher = new EventPublisher(kafka, codec);
let healthy = false;
const handled: string[] = [];
let consumer: EventConsumer;

beforeAll(async () => {
  await ensureTopics(kafka, [topicOf("OrderFailed", prefix), deadLetterTopic("svc", prefix)]);
  await publisher.connect();
  consumer = new EventConsumer({
    kafka,
    codec,
    publisher,
    logger: silentLogger,
    service: "svc",
    topicPrefix: prefix,
    maxAttempts: 2,
    initialBackoffMs: 5,
    handlers: {
      OrderFailed: async (event) => {
        if (!healthy) throw new Error("downstream is down");
        handled.push(event.eventId);
      },
    },
  });
  const assigned = consumer.whenAssigned();
  await consumer.start();
  await assigned;
});
afterAll(async () => {
  await consumer.stop();
  await publisher.disconnect();
});

test("dead letters are listed with their error and decoded payload, and replayed to their topic once fixed", async () => {
  const event: OrderFailed = {
    eventId: randomUUID(),
    occurredAt: new Date().toISOString(),
    orderId: randomUUID(),
    userId: "u",
    failureCode: "TIMEOUT",
    userCouponId: null,
  };
  await publisher.publish([{ eventType: "OrderFailed", topic: topicOf("OrderFailed", prefix), key: event.orderId, payload: event }]);
  await eventually(async () => expect(await listDeadLetters(kafka, codec, "svc", prefix)).toHaveLength(1), 20_000);
  const [letter] = await listDeadLetters(kafka, codec, "svc", prefix);
  expect(letter).toMatchObject({ key: event.orderId, originalTopic: topicOf("OrderFailed", prefix), attempts: "2", payload: event });
  expect(letter!.error).toContain("downstream is down");

  healthy = true;
  expect(await replayDeadLetters(kafka, publisher, "svc", prefix)).toBe(1);
  await eventually(() => expect(handled).toEqual([event.eventId]), 20_000);
});
