export {
  appendEvents,
  appendToOutbox,
  claimInboxEvents,
  inboxKey,
  outboxMessageOf,
  outboxRowOf,
  type InboxClaim,
  type OutboxMessage,
  type OutboxRow,
} from "./outbox.ts";
export { OutboxRelay, type OutboxBacklog, type OutboxRelayOptions, type RelayRecord } from "./relay.ts";
export { outboxTablesDdl, outboxTableNames, notifyChannel, type SqlExecutor } from "./sql.ts";
export { startMessaging, type Messaging, type MessagingOptions } from "./messaging.ts";
export { createSqlPool, inTransaction, lockOrder, orderLockKey, SqlTransaction } from "./pg-transaction.ts";
export { SagaOutcomeMetrics } from "./saga-outcomes.ts";
export { consumerObserverMetrics, registerBrokerGauges, registerConsumerGauges, registerOutboxGauges } from "./messaging-metrics.ts";
