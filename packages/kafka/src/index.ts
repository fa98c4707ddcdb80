export { EventCodec } from "./codec.ts";
export { createKafka, ensureTopics, kafkaLogLevel } from "./client.ts";
export { EventPublisher, type OutgoingEvent, type RawRecord } from "./producer.ts";
export {
  EventConsumer,
  deadLetterTopic,
  IDLE_FETCH_WAIT_MS,
  OFFSET_COMMIT_INTERVAL_MS,
  type BatchEventHandlers,
  type ConsumedEvent,
  type EventHandlers,
  type EventMeta,
  type EventConsumerOptions,
  type StuckPartition,
  type ConsumerObserver,
  type RetryKind,
  type RetryingPartition,
} from "./consumer.ts";
