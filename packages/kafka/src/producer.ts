import { Partitioners, type Kafka, type Producer } from "kafkajs";
import type { EventName } from "@shop/events";
import { toTraceparent } from "@shop/logging";
import { sendInRecordSpans } from "@shop/telemetry";
import type { EventCodec } from "./codec.ts";

export interface OutgoingEvent {
  eventType: EventName;
  topic: string;
  /** The order id for saga events: keeps one order's events in order on one partition. */
  key: string;
  payload: unknown;
  headers?: Record<string, string>;
}

export interface RawRecord {
  topic: string;
  key: string | Buffer | null;
  value: Buffer | null;
  headers: Record<string, string | Buffer>;
}

/** acks=all, one request in flight; the caller learns of failure and keeps the events (the outbox does). */
export class EventPublisher {
  private readonly producer: Producer;

  constructor(
    kafka: Kafka,
    private readonly codec: EventCodec,
  ) {
    // One request in flight keeps each key's records in order across retries. Not kafkajs's
    // (experimental) idempotent mode: a retry may then write a record twice, which every consumer
    // absorbs through its inbox, while under broker load it was seen to reorder a key's records.
    this.producer = kafka.producer({ maxInFlightRequests: 1, allowAutoTopicCreation: true, createPartitioner: Partitioners.DefaultPartitioner });
  }

  connect(): Promise<void> {
    return this.producer.connect();
  }

  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }

  async publish(events: OutgoingEvent[]): Promise<void> {
    if (events.length === 0) return;
    const byTopic = new Map<string, { key: string; value: Buffer; headers: Record<string, string> }[]>();
    for (const event of events) {
      const value = await this.codec.encode(event.eventType, event.payload);
      // An outbox row's headers carry the trace of the work that wrote it: that trace goes on.
      const headers = { "event-type": event.eventType, traceparent: toTraceparent(), ...event.headers };
      const list = byTopic.get(event.topic) ?? [];
      list.push({ key: event.key, value, headers });
      byTopic.set(event.topic, list);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    await sendInRecordSpans(topicMessages, () => this.producer.sendBatch({ acks: -1, topicMessages }));
  }

  /** Sends records as they are (no encoding): dead letters and replays keep the original bytes. */
  async publishRaw(records: RawRecord[]): Promise<void> {
    if (records.length === 0) return;
    // A copy of the headers: a traced send replaces their traceparent, and the caller's record stays as it was.
    const topicMessages = records.map((r) => ({ topic: r.topic, messages: [{ key: r.key, value: r.value, headers: { ...r.headers } }] }));
    await sendInRecordSpans(topicMessages, () => this.producer.sendBatch({ acks: -1, topicMessages }));
  }
}
