import type { Kafka } from "kafkajs";
import { deadLetterTopic, type EventCodec, type EventPublisher } from "@shop/kafka";

export interface DeadLetter {
  offset: string;
  key: string | null;
  originalTopic: string;
  error: string;
  attempts: string;
  failedAt: string;
  payload: unknown;
}

const DLQ_HEADER = /^dlq-/;

/** Reads a dead-letter topic from `fromOffset` per partition to its current end, without joining a group. */
async function readAll(
  kafka: Kafka,
  topic: string,
  onRecord: (r: { partition: number; offset: string; key: Buffer | null; value: Buffer | null; headers: Record<string, string> }) => Promise<void>,
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect());
  const remaining = new Map(ends.filter((p) => p.high !== p.low).map((p) => [p.partition, BigInt(p.high)]));
  if (remaining.size === 0) return;
  const consumer = kafka.consumer({ groupId: `dlq-reader-${process.pid}-${Date.now()}`, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        autoCommit: false,
        eachMessage: async ({ partition, message }) => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(message.headers ?? {})) if (v !== undefined) headers[k] = String(v);
          await onRecord({ partition, offset: message.offset, key: message.key, value: message.value, headers });
          if (BigInt(message.offset) + 1n >= remaining.get(partition)!) remaining.delete(partition);
          if (remaining.size === 0) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
}

export async function listDeadLetters(kafka: Kafka, codec: EventCodec, service: string, topicPrefix = ""): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  await readAll(kafka, deadLetterTopic(service, topicPrefix), async (r) => {
    let payload: unknown;
    try {
      payload = r.value ? await codec.decode(r.value) : null;
    } catch {
      payload = r.value?.toString("base64") ?? null;
    }
    letters.push({
      offset: `${r.partition}:${r.offset}`,
      key: r.key?.toString() ?? null,
      originalTopic: r.headers["dlq-original-topic"] ?? "?",
      error: r.headers["dlq-error"] ?? "",
      attempts: r.headers["dlq-attempts"] ?? "",
      failedAt: r.headers["dlq-failed-at"] ?? "",
      payload,
    });
  });
  return letters;
}

/**
 * Sends every dead letter back to its original topic with its original bytes and headers; the
 * consumers' inboxes make a replay of an already-applied event harmless.
 */
export async function replayDeadLetters(kafka: Kafka, publisher: EventPublisher, service: string, topicPrefix = ""): Promise<number> {
  let replayed = 0;
  await readAll(kafka, deadLetterTopic(service, topicPrefix), async (r) => {
    const originalTopic = r.headers["dlq-original-topic"];
    if (!originalTopic) return;
    const headers = Object.fromEntries(Object.entries(r.headers).filter(([k]) => !DLQ_HEADER.test(k)));
    await publisher.publishRaw([
      { topic: originalTopic, key: r.key, value: r.value, headers: { ...headers, "dlq-replayed-from": `${r.partition}:${r.offset}` } },
    ]);
    replayed++;
  });
  return replayed;
}
