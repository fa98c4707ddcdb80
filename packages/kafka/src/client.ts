import { Kafka, logLevel, type LogEntry } from "kafkajs";
import "./request-queue-fix.ts";
import "./rejoin-fix.ts";
import type { Logger } from "@shop/logging";

const levels: Record<number, "error" | "warn" | "info" | "debug"> = {
  [logLevel.ERROR]: "error",
  [logLevel.WARN]: "warn",
  [logLevel.INFO]: "info",
  [logLevel.DEBUG]: "debug",
};

type Level = "error" | "warn" | "info" | "debug";

// What kafkajs reports while a consumer group rebalances (a member joins, leaves or restarts, the
// coordinator moves): its error codes, and the runner's own messages about re-joining.
const REBALANCING =
  /group is rebalancing|rejoin is needed|re-joining|not the correct coordinator|generation id is not valid|coordinator is loading|coordinator is not available/i;

// What a broker answers for a moment after a topic is created or a partition's leadership moves
// (every service creates its topics at start): kafkajs refreshes its metadata and retries.
const SETTLING_TOPIC = /not the leader for that topic-partition|does not host this topic-partition|topic creation errors|leader not available/i;

/**
 * The level a kafkajs log entry is written at. A group rebalance is routine (every deploy, scale-up
 * or restart of a member causes one) and kafkajs recovers by itself, yet it logs the refused
 * heartbeats and commits at error level: those become info, a member the coordinator forgot
 * (it re-joins, its partitions are redelivered) a warning. A topic still settling after its
 * creation (or a leader moving) is retried by kafkajs too: a warning. Everything else keeps
 * kafkajs' level.
 */
export function kafkaLogLevel(level: number, message: string, error?: unknown): Level {
  const mapped = levels[level] ?? "info";
  if (mapped !== "error" && mapped !== "warn") return mapped;
  const text = `${message} ${typeof error === "string" ? error : ""}`;
  if (/not aware of this member/i.test(text)) return "warn";
  if (REBALANCING.test(text)) return "info";
  if (SETTLING_TOPIC.test(text)) return "warn";
  return mapped;
}

export function createKafka(clientId: string, brokers: string[], logger: Logger): Kafka {
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    // A broker that went away is tried again at least once a second for about half a minute, so
    // producers and consumers reconnect within a second of its return. kafkajs' default backoff
    // doubles up to 30 s: after a 10 s outage its next attempt could be 20 s away, long enough for
    // every order in flight to miss its deadline. Past the retries a consumer restarts itself.
    retry: { initialRetryTime: 100, maxRetryTime: 1_000, retries: 30 },
    logCreator:
      () =>
      ({ level, log }: LogEntry) => {
        const { message, ...rest } = log;
        logger[kafkaLogLevel(level, message, rest.error)]({ kafka: rest }, message);
      },
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Creates missing topics (existing ones are left as they are) and returns once every partition
 * has a leader. Several services start at once and create the same topics, and a busy broker
 * answers "unknown topic" for a while after a creation: both are retried until `timeoutMs`.
 */
export async function ensureTopics(kafka: Kafka, topics: string[], numPartitions = 6, timeoutMs = 60_000): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  const deadline = Date.now() + timeoutMs;
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        const existing = new Set(await admin.listTopics());
        const missing = topics.filter((t) => !existing.has(t));
        if (missing.length) {
          await admin
            .createTopics({ topics: missing.map((topic) => ({ topic, numPartitions, replicationFactor: 1 })) })
            .catch((error: Error & { type?: string }) => {
              if (error.type !== "TOPIC_ALREADY_EXISTS" && !/already exists|Topic creation errors/i.test(error.message)) throw error;
            });
        }
        const { topics: described } = await admin.fetchTopicMetadata({ topics });
        if (described.length === topics.length && described.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
        throw new Error(`topics not ready yet: ${topics.join(", ")}`);
      } catch (error) {
        if (Date.now() > deadline) throw error;
        await sleep(Math.min(100 * 2 ** attempt, 2_000));
      }
    }
  } finally {
    await admin.disconnect();
  }
}
