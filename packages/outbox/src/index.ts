export { appendEvents, appendToOutbox, claimInboxEvent, claimInboxEvents, type OutboxMessage } from "./outbox.ts";
export { OutboxRelay, type OutboxRelayOptions, type RelayRecord } from "./relay.ts";
export { outboxTablesDdl, notifyChannel, type SqlExecutor } from "./sql.ts";
export { startMessaging, type Messaging, type MessagingOptions } from "./messaging.ts";
export { createSqlPool, inTransaction, lockOrder, lockOrders, SqlTransaction } from "./pg-transaction.ts";
