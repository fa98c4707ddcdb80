import { avroSchemas, type EventName } from "./schemas.ts";

/** Each event has its own topic; the key of every record is the order id. */
export const topicNames: Record<EventName, string> = {
  OrderPlaced: "saga.order-placed.v1",
  BalanceDebited: "saga.balance-debited.v1",
  BalanceDebitFailed: "saga.balance-debit-failed.v1",
  StockReserved: "saga.stock-reserved.v1",
  StockReservationFailed: "saga.stock-reservation-failed.v1",
  PaymentCompleted: "saga.payment-completed.v1",
  PaymentFailed: "saga.payment-failed.v1",
  OrderFailed: "saga.order-failed.v1",
  OrderCompleted: "order.completed.v1",
};

export const eventNames = Object.keys(avroSchemas) as EventName[];

/** The topic of an event in an environment whose topics carry `prefix` (empty in production). */
export function topicOf(event: EventName, prefix = ""): string {
  return `${prefix}${topicNames[event]}`;
}

export function subjectOf(topic: string): string {
  return `${topic}-value`;
}
