import type { DatabaseLocation } from "@shop/config";
import { topicOf, type EventName } from "@shop/events";
import { EventCodec, EventConsumer, EventPublisher, createKafka, deadLetterTopic, ensureTopics, type BatchEventHandlers, type EventHandlers } from "@shop/kafka";
import type { Logger } from "@shop/logging";
import { Gauge, type Registry } from "prom-client";
import { OutboxRelay } from "./relay.ts";

export interface MessagingOptions {
  service: string;
  brokers: string[];
  registryUrl: string;
  topicPrefix: string;
  database: DatabaseLocation;
  /** Events this service writes to its outbox. */
  publishes: EventName[];
  /** Handlers of single records; a saga participant gives batchHandlers instead (see @shop/saga). */
  handlers?: EventHandlers;
  batchHandlers?: BatchEventHandlers;
  logger: Logger;
  /** Where the consumer's gauges go (the service's /metrics). */
  metrics?: Registry;
  consumerOptions?: { maxAttempts?: number; initialBackoffMs?: number; maxBackoffMs?: number; maxBatchSize?: number; partitionsConsumedConcurrently?: number };
}

export interface Messaging {
  publisher: EventPublisher;
  relay: OutboxRelay;
  consumer?: EventConsumer;
  codec: EventCodec;
  ready(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A service's whole Kafka side: topics, schemas, the outbox relay publishing what the service's
 * transactions committed, and the consumer feeding its handlers (with dead letters).
 */
export async function startMessaging(options: MessagingOptions): Promise<Messaging> {
  const { service, topicPrefix, logger } = options;
  const kafka = createKafka(service, options.brokers, logger);
  const codec = EventCodec.forUrl(options.registryUrl, topicPrefix);
  const consumed = [...Object.keys(options.handlers ?? {}), ...Object.keys(options.batchHandlers ?? {})] as EventName[];
  await ensureTopics(kafka, [...new Set([...options.publishes, ...consumed])].map((e) => topicOf(e, topicPrefix)).concat(deadLetterTopic(service, topicPrefix)));
  await Promise.all(options.publishes.map((e) => codec.schemaId(e)));

  const publisher = new EventPublisher(kafka, codec);
  const { schema, ...connection } = options.database;
  const relay = new OutboxRelay({
    connection,
    schema,
    logger,
    publish: (records) => publisher.publish(records.map((r) => ({ eventType: r.eventType, topic: r.topic, key: r.key, payload: r.payload, headers: r.headers }))),
  });
  const admin = kafka.admin();
  let consumer: EventConsumer | undefined;
  const stop = async () => {
    await consumer?.stop().catch(() => undefined);
    await relay.stop();
    await publisher.disconnect();
    await admin.disconnect();
  };
  try {
    await publisher.connect();
    await relay.start();
    if (consumed.length) {
      consumer = new EventConsumer({ kafka, codec, publisher, logger, service, topicPrefix, handlers: options.handlers, batchHandlers: options.batchHandlers, ...options.consumerOptions });
      if (options.metrics) registerStuckPartitionGauges(options.metrics, consumer);
      await consumer.start();
    }
    await admin.connect();
  } catch (error) {
    // Half-started messaging must not keep relaying or consuming for a service that failed to start.
    await stop().catch(() => undefined);
    throw error;
  }
  return {
    publisher,
    relay,
    consumer,
    codec,
    ready: async () => {
      await admin.describeCluster();
    },
    stop,
  };
}

/** What an operator watches while PostgreSQL, the broker or the registry is away: partitions holding their place and retrying. */
function registerStuckPartitionGauges(registry: Registry, consumer: EventConsumer): void {
  new Gauge({
    name: "saga_consumer_stuck_partitions",
    help: "Partitions retrying a transient failure (a dependency away); they hold their place until it passes",
    registers: [registry],
    collect() {
      this.set(consumer.stuckPartitions().length);
    },
  });
  new Gauge({
    name: "saga_consumer_stuck_seconds",
    help: "How long the longest-stuck partition has been retrying (0 when none is)",
    registers: [registry],
    collect() {
      const since = consumer.stuckPartitions().map((stuck) => stuck.since.getTime());
      this.set(since.length ? (Date.now() - Math.min(...since)) / 1000 : 0);
    },
  });
}
