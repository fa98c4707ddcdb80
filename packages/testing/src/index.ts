export { createTestSchema, TEST_DATABASE, type PostgresServer, type TestSchema } from "./database.ts";
export {
  freePort,
  startCuttableLink,
  startTcpBalancer,
  startThrowawayKafka,
  startThrowawayPostgres,
  startThrowawayRedis,
  type CuttableLink,
  type TcpBalancer,
  type ThrowawayKafka,
  type ThrowawayPostgres,
  type ThrowawayRedis,
} from "./throwaway.ts";
export { EventProbe, uniqueTopicPrefix, testInfra, type ReceivedEvent } from "./kafka.ts";
export { eventually } from "./eventually.ts";
export { signToken, signServiceToken, authHeadersFor, testJwt, type TokenOverrides } from "./tokens.ts";
export { silentLogger } from "./logger.ts";
export { build } from "./builders.ts";
export { TestEventPublisher } from "./test-publisher.ts";
export { describeTables, diffTableShapes, type TableShape } from "./table-shape.ts";
export { metricValue } from "./metrics.ts";
export { startOtlpReceiver, SPAN_KIND, type OtlpReceiver, type ReceivedSpan } from "./otlp-receiver.ts";
