// npm run dlq -- <service> list|replay
import { z } from "zod";
import { baseConfigSchema, loadConfig } from "@shop/config";
import { EventCodec, EventPublisher, createKafka } from "@shop/kafka";
import { createLogger } from "@shop/logging";
import { listDeadLetters, replayDeadLetters } from "./dead-letters.ts";

const config = loadConfig(baseConfigSchema.extend({ LOG_LEVEL: z.enum(["error", "warn", "info"]).default("error") }));
const [service, action] = process.argv.slice(2);
if (!service || !["list", "replay"].includes(action ?? "")) {
  console.error("usage: npm run dlq -- <wallet|catalog|coupon|order|payment> list|replay");
  process.exit(2);
}
const logger = createLogger("dlq", config.LOG_LEVEL);
const kafka = createKafka("dlq-tool", config.KAFKA_BROKERS, logger);
const codec = EventCodec.forUrl(config.SCHEMA_REGISTRY_URL, config.TOPIC_PREFIX);

if (action === "list") {
  const letters = await listDeadLetters(kafka, codec, service, config.TOPIC_PREFIX);
  for (const l of letters) console.log(JSON.stringify(l));
  console.log(`${letters.length} dead letter(s) on ${config.TOPIC_PREFIX}${service}.dlq`);
} else {
  const publisher = new EventPublisher(kafka, codec);
  await publisher.connect();
  const count = await replayDeadLetters(kafka, publisher, service, config.TOPIC_PREFIX);
  await publisher.disconnect();
  console.log(`replayed ${count} dead letter(s) of ${service} to their original topics`);
}
process.exit(0);
