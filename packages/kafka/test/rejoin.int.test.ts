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
  // What happened to the consumer, in order: joins, connections, crashes (printed if the test fails).
  const events: { kind: "join" | "connect" | "crash"; at: number; memberId?: string; restart?: boolean; error?: string }[] = [];
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => void events.push({ kind: "join", at: Date.now(), memberId: payload.memberId }));
  consumer.on(consumer.events.CONNECT, () => void events.push({ kind: "connect", at: Date.now() }));
  consumer.on(
    consumer.events.CRASH,
    ({ payload }) => void events.push({ kind: "crash", at: Date.now(), restart: payload.restart, error: payload.error.message }),
  );
  const joins = () => events.filter((e) => e.kind === "join");
  const history = () => JSON.stringify(events.map((e) => ({ ...e, at: e.at - events[0]!.at })));
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({ eachMessage: async () => {} });
  await eventually(() => expect(joins()).toHaveLength(1), 30_000);
  const member = joins()[0]!.memberId;

  const killed = Date.now();
  await broker.kill();
  // kafkajs gives up on the missing broker and restarts the consumer, with a new group object (a
  // crash at start-up, while the coordinator was still loading, does not count).
  await eventually(() => expect(events.filter((e) => e.kind === "crash" && e.restart && e.at >= killed).length).toBeGreaterThan(0), 60_000, 200);
  await broker.restart();
  const back = Date.now();

  // How soon the restarted consumer reaches the broker depends on its retry timer and the machine;
  // what must not happen is a session timeout's wait between reaching it and rejoining.
  await eventually(
    () => {
      if (joins().length < 2) throw new Error(`no rejoin yet: ${history()}`);
    },
    60_000,
    100,
  );
  const rejoin = joins().at(-1)!;
  const reached = events.find((e) => e.kind === "connect" && e.at >= back)?.at ?? back;
  expect(rejoin.memberId).toBe(member);
  expect(rejoin.at - reached).toBeLessThan(SESSION_TIMEOUT_MS / 2);
}, 180_000);
