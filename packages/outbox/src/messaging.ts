import type { DatabaseLocation } from "@shop/config";
import { topicOf, type EventName } from "@shop/events";
import {
  EventCodec,
  EventConsumer,
  EventPublisher,
  createKafka,
  deadLetterTopic,
  ensureTopics,
  type BatchEventHandlers,
  type EventHandlers,
} from "@shop/kafka";
import type { Logger } from "@shop/logging";
import type { Registry } from "prom-client";
import { consumerObserverMetrics, registerBrokerGauges, registerConsumerGauges, registerOutboxGauges } from "./messaging-metrics.ts";
import { OutboxRelay } from "./relay.ts";
import { SagaOutcomeMetrics } from "./saga-outcomes.ts";

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
  /**
   * Where the messaging metrics go (the service's /metrics): consumer lag, retries, dead letters,
   * outbox backlog, and for the service that publishes OrderCompleted/OrderFailed the saga outcomes.
   */
  metrics?: Registry;
  /** The relay's linger after a short batch (OutboxRelayOptions.lingerMs). */
  outboxLingerMs?: number;
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
  await ensureTopics(
    kafka,
    [...new Set([...options.publishes, ...consumed])].map((e) => topicOf(e, topicPrefix)).concat(deadLetterTopic(service, topicPrefix)),
  );
  await Promise.all(options.publishes.map((e) => codec.schemaId(e)));

  const publisher = new EventPublisher(kafka, codec);
  const { schema, ...connection } = options.database;
  const { metrics } = options;
  const endsSagas = options.publishes.includes("OrderCompleted") || options.publishes.includes("OrderFailed");
  const sagaOutcomes = metrics && endsSagas ? new SagaOutcomeMetrics(metrics, service) : undefined;
  const relay = new OutboxRelay({
    connection,
    schema,
    logger,
    lingerMs: options.outboxLingerMs,
    publish: (records) =>
      publisher.publish(records.map((r) => ({ eventType: r.eventType, topic: r.topic, key: r.key, payload: r.payload, headers: r.headers }))),
    onPublished: sagaOutcomes && ((records) => sagaOutcomes.observe(records)),
  });
  if (metrics) registerOutboxGauges(metrics, service, relay, logger);
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
      const observer = metrics && consumerObserverMetrics(metrics, service);
      consumer = new EventConsumer({
        kafka,
        codec,
        publisher,
        logger,
        service,
        topicPrefix,
        handlers: options.handlers,
        batchHandlers: options.batchHandlers,
        observer,
        ...options.consumerOptions,
      });
      if (metrics) {
        registerConsumerGauges(metrics, service, consumer);
        registerBrokerGauges(metrics, { service, admin, consumer, logger });
      }
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
