import { parseDatabaseUrl } from "@shop/config";
import { EventCodec, createKafka } from "@shop/kafka";
import { createLogger } from "@shop/logging";
import { loadSinkConfig, type SinkConfig } from "./config.ts";
import { DataPlatformSink } from "./sink.ts";

export async function start(config: SinkConfig = loadSinkConfig(), logger = createLogger("data-platform-sink", config.LOG_LEVEL)): Promise<DataPlatformSink> {
  const sink = new DataPlatformSink({
    kafka: createKafka("data-platform-sink", config.KAFKA_BROKERS, logger),
    codec: EventCodec.forUrl(config.SCHEMA_REGISTRY_URL, config.TOPIC_PREFIX),
    database: parseDatabaseUrl(config.SINK_DATABASE_URL),
    groupId: config.SINK_GROUP_ID,
    topicPrefix: config.TOPIC_PREFIX,
    logger,
  });
  await sink.start();
  logger.info({ table: sink.table }, "data platform sink consuming order.completed.v1");
  return sink;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sink = await start();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => void sink.stop().then(() => process.exit(0)));
}
