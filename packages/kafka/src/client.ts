import { Kafka, logLevel, type LogEntry } from "kafkajs";
import type { Logger } from "@shop/logging";

const levels: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

export function createKafka(clientId: string, brokers: string[], logger: Logger): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    retry: { initialRetryTime: 100, retries: 8 },
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...rest } = log;
        logger[levels[level] ?? "info"]({ kafka: rest }, message);
      },
  });
}

/** Creates missing topics; existing ones are left as they are. */
export async function ensureTopics(kafka: Kafka, topics: string[], numPartitions = 6): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const missing = topics.filter((t) => !existing.has(t));
    if (missing.length) {
      await admin.createTopics({ topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })), waitForLeaders: true }).catch((error: Error & { type?: string }) => {
        if (error.type !== "TOPIC_ALREADY_EXISTS" && !/already exists/i.test(error.message)) throw error;
      });
    }
  } finally {
    await admin.disconnect();
  }
}
