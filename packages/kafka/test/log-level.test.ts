import { logLevel } from "kafkajs";
import { kafkaLogLevel } from "../src/index.ts";

// The messages and error texts kafkajs 2 logs while a consumer group rebalances (runner.js,
// connection.js and the broker's error codes in protocol/error.js).
test.each([
  [logLevel.ERROR, "Response Heartbeat(key: 12, version: 3)", "The group is rebalancing, so a rejoin is needed", "info"],
  [logLevel.ERROR, "Response OffsetCommit(key: 8, version: 5)", "The group is rebalancing, so a rejoin is needed", "info"],
  [logLevel.ERROR, "Response Heartbeat(key: 12, version: 3)", "Specified group generation id is not valid", "info"],
  [logLevel.ERROR, "Response JoinGroup(key: 11, version: 5)", "This is not the correct coordinator for this group", "info"],
  [logLevel.WARN, "The group is rebalancing, re-joining", "The group is rebalancing, so a rejoin is needed", "info"],
  [logLevel.ERROR, "The coordinator is not aware of this member, re-joining the group", "The coordinator is not aware of this member", "warn"],
  // A topic settling after its creation, as every service's start-up sees it.
  [logLevel.ERROR, "Response Metadata(key: 3, version: 6)", "This server does not host this topic-partition", "warn"],
  [logLevel.ERROR, "Response ListOffsets(key: 2, version: 3)", "This server is not the leader for that topic-partition", "warn"],
  [logLevel.ERROR, "Response CreateTopics(key: 19, version: 3)", "Topic creation errors", "warn"],
] as const)("kafkajs level %i %s (%s) is written at %s", (level, message, error, expected) => {
  expect(kafkaLogLevel(level, message, error)).toBe(expected);
});

test.each([
  [logLevel.ERROR, "Crash: KafkaJSNumberOfRetriesExceeded: Connection error: connect ECONNREFUSED", undefined, "error"],
  [logLevel.ERROR, "Failed to connect to broker, reconnecting", undefined, "error"],
  [logLevel.ERROR, "Response Produce(key: 0, version: 7)", "The request timed out", "error"],
  [logLevel.WARN, "Consumer group received unsubscribed topics", undefined, "warn"],
  [logLevel.INFO, "Consumer has joined the group", undefined, "info"],
] as const)("other kafkajs entries keep their level: %i %s", (level, message, error, expected) => {
  expect(kafkaLogLevel(level, message, error)).toBe(expected);
});
