import type { Consumer, IHeaders, Kafka, KafkaMessage, OffsetsByTopicPartition } from "kafkajs";
import { topicOf, type EventName, type EventPayloads } from "@shop/events";
import { transientFault } from "@shop/errors";
import { runWithTrace, traceFromTraceparent, type Logger } from "@shop/logging";
import { startProcessSpans } from "@shop/telemetry";
import type { EventCodec } from "./codec.ts";
import type { EventPublisher } from "./producer.ts";

export interface EventMeta {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  headers: Record<string, string>;
  /**
   * The trace context the work this record causes goes on in (the events answering it): its
   * process span's when the process traces, else the one it came with.
   */
  traceparent?: string;
}

export type EventHandlers = { [E in EventName]?: (event: EventPayloads[E], meta: EventMeta) => Promise<void> };

/** One decoded record of a batch. */
export interface ConsumedEvent<E extends EventName = EventName> {
  event: EventPayloads[E];
  meta: EventMeta;
}

/**
 * Handlers that take a partition's records several at a time, in offset order (so records of one
 * key stay in order); all of a call's records succeed or fail together.
 */
export type BatchEventHandlers = { [E in EventName]?: (events: ConsumedEvent<E>[]) => Promise<void> };

export interface EventConsumerOptions {
  kafka: Kafka;
  codec: EventCodec;
  /** For dead letters. */
  publisher: EventPublisher;
  logger: Logger;
  /** The service name: consumer group `<prefix><service>`, dead letters on `<prefix><service>.dlq`. */
  service: string;
  topicPrefix: string;
  handlers?: EventHandlers;
  batchHandlers?: BatchEventHandlers;
  /** Attempts at a permanent failure before its record goes to the dead-letter topic. */
  maxAttempts?: number;
  initialBackoffMs?: number;
  /** The longest wait between two attempts (transient failures are retried without limit). */
  maxBackoffMs?: number;
  /** The most records one batch handler call gets. */
  maxBatchSize?: number;
  partitionsConsumedConcurrently?: number;
  fromBeginning?: boolean;
  /** Told of retries and dead letters as they happen (the service's metrics). */
  observer?: ConsumerObserver;
  /** How often handled offsets are committed (OFFSET_COMMIT_INTERVAL_MS). */
  offsetCommitIntervalMs?: number;
}

/**
 * How long the broker holds a fetch that finds no records. A record that arrives meanwhile answers
 * the fetch at once, so this bounds only the idle polling: every empty fetch is a round trip that
 * wakes the broker and the service. With the idle system's consumers the broker used 13 % of a core
 * at 100 ms and 6 % at 500 ms (docs/benchmarks.md). A consumer's stop waits for its fetch in flight.
 */
export const IDLE_FETCH_WAIT_MS = 500;

/**
 * How often a consumer commits the offsets it has handled. kafkajs 2.2.4 with `autoCommit` commits
 * after every batch whatever `autoCommitInterval` says (kafkajs #759, #1014): under load that was
 * the broker's most frequent request, each an append to `__consumer_offsets` (docs/benchmarks.md).
 * A restart or rebalance redelivers at most this long's records, which the handlers' inboxes drop.
 */
export const OFFSET_COMMIT_INTERVAL_MS = 1_000;

/** What a consumer reports as it works; every method is optional and must not throw. */
export interface ConsumerObserver {
  /** A failed attempt that will be retried: `transient` (a dependency away) or `permanent` (attempts counted). */
  retrying?(kind: RetryKind, topic: string): void;
  /** A record parked on the dead-letter topic. */
  deadLettered?(originalTopic: string): void;
}

export type RetryKind = "transient" | "permanent";

/** A partition whose records are being retried right now. */
export interface RetryingPartition {
  topic: string;
  partition: number;
  kind: RetryKind;
}

/** A partition whose records keep failing with a transient fault: it waits, it does not skip ahead. */
export interface StuckPartition {
  topic: string;
  partition: number;
  offset: string;
  since: Date;
  attempts: number;
  reason: string;
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

/** Thrown out of a retry loop when the consumer stops or loses the partition: the records are redelivered later. */
class ConsumptionInterrupted extends Error {}

/** What eachBatch lends a chunk while it is handled. */
interface BatchControl {
  isRunning(): boolean;
  isStale(): boolean;
  heartbeat(): Promise<void>;
}

/**
 * Subscribes a service's handlers. A partition's records are handled in offset order, a batch
 * handler's several at a time. A transient failure (a database or broker away, a deadlock) is
 * retried without limit with capped backoff, holding the partition where it is; a permanent one is
 * retried a few times, then its record is parked on the dead-letter topic with its original bytes
 * and the error, so one poison record cannot stall the partition. A batch that fails permanently
 * is retried record by record, so only the poison one is parked.
 */
export class EventConsumer {
  private readonly consumer: Consumer;
  private readonly eventByTopic = new Map<string, EventName>();
  private readonly stuck = new Map<string, StuckPartition>();
  private readonly retrying = new Map<string, RetryingPartition>();
  /** Commits what was handled since the last commit; armed by a handled chunk, so an idle consumer commits nothing. */
  private commitTimer: ReturnType<typeof setTimeout> | undefined;
  /** The latest batch's commit functions (kafkajs lends them per batch; they act on the current group). */
  private committer: { commit(offsets: OffsetsByTopicPartition): Promise<void>; uncommitted(): OffsetsByTopicPartition } | undefined;
  /** Partitions the group gave this member, with the next offset it has to handle once it handled some. */
  private readonly assigned = new Map<string, { topic: string; partition: number; next?: number }>();
  readonly deadLetterTopic: string;
  readonly groupId: string;

  constructor(private readonly options: EventConsumerOptions) {
    this.groupId = `${options.topicPrefix}${options.service}`;
    this.consumer = options.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      maxWaitTimeInMs: IDLE_FETCH_WAIT_MS,
      retry: { retries: 10 },
    });
    const consumed = [...Object.keys(options.handlers ?? {}), ...Object.keys(options.batchHandlers ?? {})] as EventName[];
    for (const event of consumed) this.eventByTopic.set(topicOf(event, options.topicPrefix), event);
    this.deadLetterTopic = deadLetterTopic(options.service, options.topicPrefix);
  }

  get topics(): string[] {
    return [...this.eventByTopic.keys()];
  }

  /** Partitions currently held back by a transient failure (for health and metrics). */
  stuckPartitions(): StuckPartition[] {
    return [...this.stuck.values()];
  }

  /**
   * The partitions this member holds and, for those it has handled records of, the next offset to
   * handle. Offsets are committed once a second, so for lag this is fresher than the group's
   * committed offset (which stays behind while no more records arrive).
   */
  assignedPartitions(): { topic: string; partition: number; next?: number }[] {
    return [...this.assigned.values()].map((p) => ({ ...p }));
  }

  /** Partitions between two attempts at a failed record, whatever the failure (for metrics). */
  retryingPartitions(): RetryingPartition[] {
    return [...this.retrying.values()];
  }

  async start(): Promise<void> {
    this.consumer.on(this.consumer.events.GROUP_JOIN, ({ payload }) => {
      const previous = new Map(this.assigned);
      this.assigned.clear();
      for (const [topic, partitions] of Object.entries(payload.memberAssignment)) {
        for (const partition of partitions) this.assigned.set(`${topic}/${partition}`, previous.get(`${topic}/${partition}`) ?? { topic, partition });
      }
    });
    this.consumer.on(this.consumer.events.STOP, () => this.assigned.clear());
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: this.topics, fromBeginning: this.options.fromBeginning ?? true });
    const maxBatchSize = this.options.maxBatchSize ?? 100;
    await this.consumer.run({
      // Every partition of a topic at once (6 by default); records of one key stay in order.
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 6,
      eachBatchAutoResolve: false,
      // This consumer commits itself, at most once per OFFSET_COMMIT_INTERVAL_MS (see commitSoon).
      autoCommit: false,
      eachBatch: async (payload) => {
        const { batch } = payload;
        const control: BatchControl = { isRunning: () => payload.isRunning(), isStale: () => payload.isStale(), heartbeat: () => payload.heartbeat() };
        for (let from = 0; from < batch.messages.length; from += maxBatchSize) {
          if (!control.isRunning() || control.isStale()) return;
          const chunk = batch.messages.slice(from, from + maxBatchSize);
          try {
            await this.handleChunk(batch.topic, batch.partition, chunk, control);
          } catch (error) {
            // Stopping or rebalancing mid-retry: the unresolved records are fetched again later.
            if (error instanceof ConsumptionInterrupted) return;
            throw error;
          }
          const last = chunk[chunk.length - 1]!.offset;
          payload.resolveOffset(last);
          const position = this.assigned.get(`${batch.topic}/${batch.partition}`);
          if (position) position.next = Number(last) + 1;
          this.committer = { commit: (offsets) => payload.commitOffsetsIfNecessary(offsets), uncommitted: () => payload.uncommittedOffsets() };
          // A stopping consumer commits what it handled now: its successor starts right after it.
          if (!control.isRunning()) await this.commitHandled();
          else this.commitSoon();
          await payload.heartbeat();
        }
      },
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

  /**
   * Commits what was handled, then leaves the group. With the broker away this takes about 26 s,
   * as kafkajs' disconnect alone did before (its retries); the service's shutdown timeout bounds it.
   */
  async stop(): Promise<void> {
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    await this.commitHandled();
    await this.consumer.disconnect();
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
  }

  /** Arms the commit of what was handled, unless one is armed already. */
  private commitSoon(): void {
    if (this.commitTimer) return;
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      void this.commitHandled();
    }, this.options.offsetCommitIntervalMs ?? OFFSET_COMMIT_INTERVAL_MS);
    this.commitTimer.unref();
  }

  /**
   * Commits the offsets handled and not yet committed. A failure (the group rebalancing, the
   * broker away) is left be: those records are redelivered to whoever holds the partition next.
   */
  private async commitHandled(): Promise<void> {
    const committer = this.committer;
    if (!committer) return;
    try {
      const offsets = committer.uncommitted();
      if (offsets.topics.length > 0) await committer.commit(offsets);
    } catch (error) {
      this.options.logger.debug({ err: error, group: this.groupId }, "offset commit failed; the records since the last commit will be redelivered");
    }
  }

  /** Decodes a chunk (undecodable records go straight to the dead letters), then hands it over. */
  private async handleChunk(topic: string, partition: number, messages: KafkaMessage[], control: BatchControl): Promise<void> {
    const event = this.eventByTopic.get(topic);
    const decoded: { message: KafkaMessage; consumed: ConsumedEvent }[] = [];
    for (const message of messages) {
      const headers = headersOf(message.headers);
      let payload: unknown;
      const decoding = await this.attempt(
        topic,
        partition,
        message,
        control,
        async () => {
          if (!event || !message.value) throw new Error(`no handler or empty value on ${topic}`);
          payload = await this.options.codec.decode(message.value);
        },
        "once",
      );
      // Undecodable records will never succeed: straight to the dead letters (a registry that is away is waited for).
      if (!decoding.ok) await this.deadLetter(topic, partition, message, decoding.error, 0);
      else
        decoded.push({
          message,
          consumed: {
            event: payload as EventPayloads[EventName],
            meta: { topic, partition, offset: message.offset, key: message.key?.toString() ?? null, headers, traceparent: headers.traceparent },
          },
        });
    }
    if (!event || decoded.length === 0) return;
    const spans = startProcessSpans(
      topic,
      this.groupId,
      decoded.map((d) => d.consumed.meta),
    );
    if (spans) decoded.forEach((d, i) => (d.consumed.meta.traceparent = spans.traceparents[i]));
    try {
      await this.handleDecoded(event, topic, partition, decoded, control);
      spans?.end();
    } catch (error) {
      spans?.end(error);
      throw error;
    }
  }

  /** Hands decoded records to their batch handler (record by record if the batch fails), or to their handler one at a time. */
  private async handleDecoded(
    event: EventName,
    topic: string,
    partition: number,
    decoded: { message: KafkaMessage; consumed: ConsumedEvent }[],
    control: BatchControl,
  ): Promise<void> {
    const batchHandler = this.options.batchHandlers?.[event] as ((events: ConsumedEvent[]) => Promise<void>) | undefined;
    if (batchHandler) {
      const whole = await this.attempt(
        topic,
        partition,
        decoded[0]!.message,
        control,
        () => batchHandler(decoded.map((d) => d.consumed)),
        decoded.length > 1 ? "once" : "usual",
      );
      if (whole.ok) return;
      // Which record is the poison one: each alone, the others succeed.
      for (const item of decoded) await this.handleOne(topic, partition, item.message, control, () => batchHandler([item.consumed]));
      return;
    }
    const handler = this.options.handlers?.[event] as ((e: unknown, m: EventMeta) => Promise<void>) | undefined;
    for (const item of decoded) await this.handleOne(topic, partition, item.message, control, () => handler!(item.consumed.event, item.consumed.meta));
  }

  private async handleOne(topic: string, partition: number, message: KafkaMessage, control: BatchControl, work: () => Promise<void>): Promise<void> {
    const outcome = await this.attempt(topic, partition, message, control, work, "usual");
    if (!outcome.ok) await this.deadLetter(topic, partition, message, outcome.error, outcome.attempts);
  }

  /**
   * Runs `work` under the first record's trace until it succeeds, fails permanently maxAttempts
   * times ("usual") or once ("once": the caller has a fallback), or the consumer stops. Transient
   * failures do not count: they are waited out.
   */
  private async attempt(
    topic: string,
    partition: number,
    first: KafkaMessage,
    control: BatchControl,
    work: () => Promise<void>,
    permanentFailuresAllowed: "usual" | "once",
  ): Promise<{ ok: true } | { ok: false; error: unknown; attempts: number }> {
    const maxAttempts = permanentFailuresAllowed === "once" ? 1 : (this.options.maxAttempts ?? 5);
    const initialBackoff = this.options.initialBackoffMs ?? 100;
    const maxBackoff = this.options.maxBackoffMs ?? 2_000;
    const stuckKey = `${topic}/${partition}`;
    let permanentFailures = 0;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await runWithTrace(traceFromTraceparent(headersOf(first.headers).traceparent), work);
          return { ok: true };
        } catch (error) {
          const transient = transientFault(error);
          if (!transient) permanentFailures++;
          if (!transient && permanentFailures >= maxAttempts) {
            if (maxAttempts > 1) this.options.logger.warn({ err: error, topic, partition, offset: first.offset, attempt }, "event handler failed");
            return { ok: false, error, attempts: permanentFailures };
          }
          const kind: RetryKind = transient ? "transient" : "permanent";
          this.retrying.set(stuckKey, { topic, partition, kind });
          this.options.observer?.retrying?.(kind, topic);
          if (transient) {
            const since = this.stuck.get(stuckKey)?.since ?? new Date();
            this.stuck.set(stuckKey, { topic, partition, offset: first.offset, since, attempts: attempt, reason: transient });
            // Routine while a dependency restarts: logged once in a while, not at every attempt.
            if (attempt === 1 || attempt % 10 === 0)
              this.options.logger.warn(
                { topic, partition, offset: first.offset, attempt, reason: transient },
                "transient failure; the partition waits and retries",
              );
          } else {
            this.options.logger.warn({ err: error, topic, partition, offset: first.offset, attempt }, "event handler failed");
          }
          await sleep(Math.min(maxBackoff, initialBackoff * 2 ** Math.min(attempt - 1, 16)));
          if (!control.isRunning() || control.isStale()) throw new ConsumptionInterrupted(`stopped while retrying ${stuckKey}`);
          await control.heartbeat().catch(() => undefined);
        }
      }
    } finally {
      this.stuck.delete(stuckKey);
      this.retrying.delete(stuckKey);
    }
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
    this.options.observer?.deadLettered?.(topic);
  }
}
