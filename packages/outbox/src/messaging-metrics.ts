import type { Admin } from "kafkajs";
import { Counter, Gauge, type Registry } from "prom-client";
import type { ConsumerObserver, EventConsumer } from "@shop/kafka";
import type { Logger } from "@shop/logging";
import type { OutboxRelay } from "./relay.ts";

/** A scrape must answer even while the broker or PostgreSQL is away: a probe gets this long. */
const PROBE_TIMEOUT_MS = 2_000;
/** Scrapes closer together than this reuse the last reading instead of asking the broker again. */
const MIN_REFRESH_MS = 1_000;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer in ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS).unref()),
  ]);
}

/**
 * Counters the consumer reports into as it works (retries, dead letters); created before the
 * consumer, which takes the observer at construction.
 */
export function consumerObserverMetrics(registry: Registry, service: string): ConsumerObserver {
  const retries = new Counter({
    name: "saga_consumer_retries_total",
    help: "Failed attempts at a consumed record that were retried, by kind (transient: a dependency away; permanent: counted towards the dead letters)",
    labelNames: ["service", "kind"],
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: "saga_dead_letters_total",
    help: "Records this process parked on its dead-letter topic, by the topic they came from",
    labelNames: ["service", "topic"],
    registers: [registry],
  });
  return {
    retrying: (kind) => retries.inc({ service, kind }),
    deadLettered: (topic) => deadLetters.inc({ service, topic }),
  };
}

/** What an operator watches while PostgreSQL, the broker or the registry is away: partitions holding their place and retrying. */
export function registerConsumerGauges(registry: Registry, service: string, consumer: EventConsumer): void {
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
  new Gauge({
    name: "saga_consumer_retries_in_progress",
    help: "Partitions waiting to retry a failed record right now, by kind (transient or permanent)",
    labelNames: ["service", "kind"],
    registers: [registry],
    collect() {
      const retrying = consumer.retryingPartitions();
      for (const kind of ["transient", "permanent"] as const) this.set({ service, kind }, retrying.filter((r) => r.kind === kind).length);
    },
  });
}

interface PartitionLag {
  topic: string;
  partition: number;
  lag: number;
}

interface BrokerReading {
  lag: PartitionLag[];
  deadLetterRecords: number;
}

/**
 * The group's lag on each partition this member holds: the partition's end minus the next offset
 * to handle (the later of the group's committed offset and what this member has handled since its
 * last commit; the whole partition when neither exists). Each member reports its own partitions,
 * so summing across replicas counts every partition once; a partition whose member is stuck shows
 * its growing lag, a partition held by nobody (every member down) shows none, which the
 * service's own `up` alert covers.
 */
async function readBroker(admin: Admin, consumer: EventConsumer): Promise<BrokerReading> {
  const { groupId, topics, deadLetterTopic } = consumer;
  const [committed, ends, deadLetters] = await Promise.all([
    admin.fetchOffsets({ groupId, topics }),
    Promise.all(topics.map(async (topic) => ({ topic, partitions: await admin.fetchTopicOffsets(topic) }))),
    admin.fetchTopicOffsets(deadLetterTopic),
  ]);
  const key = (topic: string, partition: number) => `${topic}/${partition}`;
  const committedOf = new Map(committed.flatMap((t) => t.partitions.map((p) => [key(t.topic, p.partition), Number(p.offset)] as const)));
  const endOf = new Map(
    ends.flatMap(({ topic, partitions }) => partitions.map((p) => [key(topic, p.partition), { end: Number(p.high), low: Number(p.low) }] as const)),
  );
  const lag = consumer.assignedPartitions().flatMap(({ topic, partition, next }) => {
    const offsets = endOf.get(key(topic, partition));
    if (!offsets) return [];
    const position = Math.max(committedOf.get(key(topic, partition)) ?? -1, next ?? -1);
    return [{ topic, partition, lag: Math.max(0, offsets.end - (position < 0 ? offsets.low : position)) }];
  });
  return { lag, deadLetterRecords: deadLetters.reduce((sum, p) => sum + Math.max(0, Number(p.high) - Number(p.low)), 0) };
}

/** Consumer lag and the dead-letter topic's size, read from the broker at most once a second. */
export function registerBrokerGauges(registry: Registry, options: { service: string; admin: Admin; consumer: EventConsumer; logger: Logger }): void {
  const { service, admin, consumer, logger } = options;
  let last: BrokerReading | undefined;
  let readAt = 0;
  let reading: Promise<BrokerReading | undefined> | undefined;
  const refresh = (): Promise<BrokerReading | undefined> => {
    if (reading) return reading;
    if (Date.now() - readAt < MIN_REFRESH_MS) return Promise.resolve(last);
    reading = withTimeout(readBroker(admin, consumer), "consumer lag")
      .then(
        (value) => (last = value),
        // The last reading stays: a broker that is away leaves the lag as it was last known.
        (error: unknown) => (logger.debug({ err: error }, "consumer lag not readable"), last),
      )
      .finally(() => {
        readAt = Date.now();
        reading = undefined;
      });
    return reading;
  };
  new Gauge({
    name: "kafka_consumer_lag",
    help: "Records on a partition not yet consumed by the service's group (partition end minus committed offset)",
    labelNames: ["service", "group", "topic", "partition"],
    registers: [registry],
    async collect() {
      const value = await refresh();
      if (!value) return;
      // Partitions handed to another member leave this member's series.
      this.reset();
      for (const { topic, partition, lag } of value.lag) this.set({ service, group: consumer.groupId, topic, partition: String(partition) }, lag);
    },
  });
  new Gauge({
    name: "kafka_dead_letter_topic_records",
    help: "Records on the service's dead-letter topic (they stay after a replay, until the topic's retention drops them)",
    labelNames: ["service", "topic"],
    registers: [registry],
    async collect() {
      const value = await refresh();
      if (value) this.set({ service, topic: consumer.deadLetterTopic }, value.deadLetterRecords);
    },
  });
}

/** The outbox's backlog, counted at each scrape on the relay's own connection. */
export function registerOutboxGauges(registry: Registry, service: string, relay: OutboxRelay, logger: Logger): void {
  let reading: ReturnType<OutboxRelay["backlog"]> | undefined;
  const read = () =>
    (reading ??= withTimeout(relay.backlog(), "outbox backlog").finally(() => {
      reading = undefined;
    }));
  new Gauge({
    name: "outbox_backlog_rows",
    help: "Events committed to the service's outbox and not yet published",
    labelNames: ["service"],
    registers: [registry],
    async collect() {
      try {
        this.set({ service }, (await read()).rows);
      } catch (error) {
        logger.debug({ err: error }, "outbox backlog not readable");
      }
    },
  });
  new Gauge({
    name: "outbox_oldest_row_age_seconds",
    help: "How long the oldest unpublished outbox event has waited (0 when the outbox is empty)",
    labelNames: ["service"],
    registers: [registry],
    async collect() {
      try {
        this.set({ service }, (await read()).oldestAgeSeconds);
      } catch (error) {
        logger.debug({ err: error }, "outbox backlog not readable");
      }
    },
  });
}
