// A consumer that crashed while the broker was away (kafkajs restarts it) rejoins its group as the
// member it was (src/rejoin-fix.ts): the coordinator takes it back at once instead of holding the
// group until the old member's session expires. On a broker of this test's own, killed and restarted.
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Consumer } from "kafkajs";
import { createLogger } from "@shop/logging";
import { eventually, startThrowawayKafka, uniqueTopicPrefix, type ThrowawayKafka } from "@shop/testing";
import { createKafka, ensureTopics } from "../src/index.ts";

const SESSION_TIMEOUT_MS = 10_000;
const root = fileURLToPath(new URL("../../..", import.meta.url));
let broker: ThrowawayKafka;
let consumer: Consumer | undefined;

beforeAll(async () => {
  broker = await startThrowawayKafka({ libsDir: process.env.KAFKA_LIBS ?? path.join(root, ".infra", "kafka", "libs") });
}, 120_000);
afterAll(async () => {
  await consumer?.disconnect().catch(() => undefined);
  await broker?.stop();
}, 60_000);

test("a consumer restarted by a broker outage rejoins as the same member as soon as the broker is back, not a session timeout later", async () => {
  const topic = `${uniqueTopicPrefix("rejoin")}ticks`;
  // The outage is the point: kafkajs' connection errors meanwhile are expected, not worth printing.
  const kafka = createKafka("rejoin-test", broker.brokers, createLogger("rejoin-test", "silent"));
  await ensureTopics(kafka, [topic], 2);
  consumer = kafka.consumer({ groupId: `${topic}.group`, sessionTimeout: SESSION_TIMEOUT_MS, heartbeatInterval: 1_000, maxWaitTimeInMs: 500 });
  const joins: { memberId: string; at: number }[] = [];
  const crashes: { restart: boolean }[] = [];
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => void joins.push({ memberId: payload.memberId, at: Date.now() }));
  consumer.on(consumer.events.CRASH, ({ payload }) => void crashes.push({ restart: payload.restart }));
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({ eachMessage: async () => {} });
  await eventually(() => expect(joins).toHaveLength(1), 30_000);
  const member = joins[0]!.memberId;

  await broker.kill();
  // kafkajs gives up on the missing broker and restarts the consumer, with a new group object.
  await eventually(() => expect(crashes.filter((c) => c.restart).length).toBeGreaterThan(0), 60_000, 200);
  await broker.restart();
  const back = Date.now();

  await eventually(() => expect(joins.length).toBeGreaterThan(1), 30_000, 100);
  const rejoin = joins.at(-1)!;
  expect(rejoin.memberId).toBe(member);
  expect(rejoin.at - back).toBeLessThan(SESSION_TIMEOUT_MS / 2);
}, 180_000);
