export { appendEvents, appendToOutbox, claimInboxEvent, type OutboxMessage } from "./outbox.ts";
export { OutboxRelay, type OutboxRelayOptions, type RelayRecord } from "./relay.ts";
export { outboxTablesDdl, notifyChannel, type SqlExecutor } from "./sql.ts";
export { startMessaging, type Messaging, type MessagingOptions } from "./messaging.ts";
export { createSqlPool, inTransaction, lockOrder, SqlTransaction } from "./pg-transaction.ts";
