import { randomBytes } from "node:crypto";
import { EventCodec, createKafka, ensureTopics } from "@shop/kafka";
import { topicOf, type EventName, type EventPayloads } from "@shop/events";
import type { Logger } from "@shop/logging";
import type { Consumer } from "kafkajs";
import { eventually } from "./eventually.ts";

export const testInfra = {
  brokers: (process.env.KAFKA_BROKERS ?? "127.0.0.1:9092").split(","),
  registryUrl: process.env.SCHEMA_REGISTRY_URL ?? "http://127.0.0.1:8081/apis/ccompat/v7",
  redisUrl: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
};

/** Topics and consumer groups of one test file: `t<random>.` before every name. */
export function uniqueTopicPrefix(label = "t"): string {
  return `${label.toLowerCase().replace(/[^a-z0-9]/g, "")}${randomBytes(4).toString("hex")}.`;
}

export interface ReceivedEvent<E extends EventName = EventName> {
  event: E;
  payload: EventPayloads[E];
  key: string | null;
  headers: Record<string, string>;
}

/** Reads events of a test's topics through the registry, as any downstream consumer would. */
export class EventProbe {
  readonly received: ReceivedEvent[] = [];
  private constructor(private readonly consumer: Consumer) {}

  static async start(events: EventName[], topicPrefix: string, logger: Logger): Promise<EventProbe> {
    const kafka = createKafka(`probe-${topicPrefix}`, testInfra.brokers, logger);
    const codec = EventCodec.forUrl(testInfra.registryUrl, topicPrefix);
    const topics = events.map((e) => topicOf(e, topicPrefix));
    await ensureTopics(kafka, topics);
    const consumer = kafka.consumer({ groupId: `${topicPrefix}probe-${randomBytes(3).toString("hex")}`, maxWaitTimeInMs: 50 });
    const probe = new EventProbe(consumer);
    const byTopic = new Map(events.map((e) => [topicOf(e, topicPrefix), e]));
    await consumer.connect();
    await consumer.subscribe({ topics, fromBeginning: true });
    const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
        probe.received.push({ event: byTopic.get(topic)!, payload: await codec.decode(message.value!), key: message.key?.toString() ?? null, headers });
      },
    });
    await joined;
    return probe;
  }

  of<E extends EventName>(event: E, filter: (p: EventPayloads[E]) => boolean = () => true): EventPayloads[E][] {
    return this.received
      .filter((r) => r.event === event)
      .map((r) => r.payload as EventPayloads[E])
      .filter(filter);
  }

  async waitFor<E extends EventName>(
    event: E,
    filter: (p: EventPayloads[E]) => boolean = () => true,
    count = 1,
    timeoutMs = 20_000,
  ): Promise<EventPayloads[E][]> {
    await eventually(() => {
      if (this.of(event, filter).length < count) throw new Error(`waiting for ${count} ${event}, have ${this.of(event, filter).length}`);
    }, timeoutMs);
    return this.of(event, filter);
  }

  stop(): Promise<void> {
    return this.consumer.disconnect();
  }
}
