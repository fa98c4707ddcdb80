export { EventCodec } from "./codec.ts";
export { createKafka, ensureTopics } from "./client.ts";
export { EventPublisher, type OutgoingEvent, type RawRecord } from "./producer.ts";
export { EventConsumer, deadLetterTopic, type EventHandlers, type EventMeta, type EventConsumerOptions } from "./consumer.ts";
