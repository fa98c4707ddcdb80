import type { Consumer, IHeaders, Kafka, KafkaMessage } from "kafkajs";
import { topicOf, type EventName, type EventPayloads } from "@shop/events";
import { runWithTrace, traceFromTraceparent, type Logger } from "@shop/logging";
import type { EventCodec } from "./codec.ts";
import type { EventPublisher } from "./producer.ts";

export interface EventMeta {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
}

export type EventHandlers = { [E in EventName]?: (event: EventPayloads[E], meta: EventMeta) => Promise<void> };

export interface EventConsumerOptions {
  kafka: Kafka;
  codec: EventCodec;
  /** For dead letters. */
  publisher: EventPublisher;
  logger: Logger;
  /** The service name: consumer group `<prefix><service>`, dead letters on `<prefix><service>.dlq`. */
  service: string;
  topicPrefix: string;
  handlers: EventHandlers;
  /** Attempts per record before it goes to the dead-letter topic. */
  maxAttempts?: number;
  initialBackoffMs?: number;
  partitionsConsumedConcurrently?: number;
  fromBeginning?: boolean;
}

export function deadLetterTopic(service: string, topicPrefix = ""): string {
  return `${topicPrefix}${service}.dlq`;
}

function headersOf(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value !== undefined) out[name] = Array.isArray(value) ? String(value[0]) : String(value);
  }
  return out;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Subscribes a service's handlers. Records of one key are handled in order; a failing record is
 * retried with exponential backoff, then parked on the dead-letter topic with its original bytes
 * and the error, so one poison record cannot stall the partition.
 */
export class EventConsumer {
  private readonly consumer: Consumer;
  private readonly eventByTopic = new Map<string, EventName>();
  readonly deadLetterTopic: string;

  constructor(private readonly options: EventConsumerOptions) {
    this.consumer = options.kafka.consumer({
      groupId: `${options.topicPrefix}${options.service}`,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: 100,
      retry: { retries: 10 },
    });
    for (const event of Object.keys(options.handlers) as EventName[]) this.eventByTopic.set(topicOf(event, options.topicPrefix), event);
    this.deadLetterTopic = deadLetterTopic(options.service, options.topicPrefix);
  }

  get topics(): string[] {
    return [...this.eventByTopic.keys()];
  }

  async start(): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: this.options.fromBeginning ?? true });
    await this.consumer.run({
      // Every partition of a topic at once (6 by default); records of one key stay in order.
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 6,
      eachMessage: async ({ topic, partition, message }) => this.handle(topic, partition, message),
    });
  }

  /** Resolves once the group has assigned partitions to this member (useful before producing in tests). */
  whenAssigned(timeoutMs = 30_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("consumer got no partitions in time")), timeoutMs);
      const off = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        clearTimeout(timer);
        off();
        resolve();
      });
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  private async handle(topic: string, partition: number, message: KafkaMessage): Promise<void> {
    const headers = headersOf(message.headers);
    const meta: EventMeta = { topic, partition, offset: message.offset, key: message.key?.toString() ?? null, headers };
    const event = this.eventByTopic.get(topic);
    const maxAttempts = this.options.maxAttempts ?? 5;
    let lastError: unknown;
    await runWithTrace(traceFromTraceparent(headers.traceparent), async () => {
      let payload: unknown;
      try {
        if (!event || !message.value) throw new Error(`no handler or empty value on ${topic}`);
        payload = await this.options.codec.decode(message.value);
      } catch (error) {
        // Undecodable records will never succeed: straight to the dead letters.
        return this.deadLetter(topic, partition, message, error, 0);
      }
      const handler = this.options.handlers[event] as (e: unknown, m: EventMeta) => Promise<void>;
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        try {
          await handler(payload, meta);
          return;
        } catch (error) {
          lastError = error;
          this.options.logger.warn({ err: error, topic, partition, offset: message.offset, attempt }, "event handler failed");
          if (attempt < maxAttempts) await sleep((this.options.initialBackoffMs ?? 100) * 2 ** (attempt - 1));
        }
      }
      await this.deadLetter(topic, partition, message, lastError, maxAttempts);
    });
  }

  private async deadLetter(topic: string, partition: number, message: KafkaMessage, error: unknown, attempts: number): Promise<void> {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    this.options.logger.error({ topic, partition, offset: message.offset, reason }, "record sent to the dead-letter topic");
    await this.options.publisher.publishRaw([
      {
        topic: this.deadLetterTopic,
        key: message.key,
        value: message.value,
        headers: {
          ...headersOf(message.headers),
          "dlq-original-topic": topic,
          "dlq-original-partition": String(partition),
          "dlq-original-offset": message.offset,
          "dlq-error": reason.slice(0, 2000),
          "dlq-attempts": String(attempts),
          "dlq-failed-at": new Date().toISOString(),
        },
      },
    ]);
  }
}
