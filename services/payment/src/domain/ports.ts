import type { Payment } from "./model.ts";

import type { DomainEvent } from "@shop/events";

export type { DomainEvent };

/** Everything a use case may do inside one database transaction. */
export interface PaymentTransaction {
  /** Serializes work on one order (a transaction-scoped lock on that order only). */
  lockOrder(orderId: string): Promise<void>;
  findPaymentOfOrder(orderId: string): Promise<Payment | null>;
  insertPayment(payment: Omit<Payment, "createdAt">): Promise<Payment>;
  cancelPayment(paymentId: string): Promise<void>;
  isOrderFailed(orderId: string): Promise<boolean>;
  /** Idempotent: the first failure of an order is the one kept. */
  recordFailedOrder(orderId: string, userId: string, failureCode: string): Promise<void>;
  /** False when this consumer already handled the event. */
  claimEvent(eventId: string, consumer: string): Promise<boolean>;
  publish(events: DomainEvent[]): Promise<void>;
}

export interface PaymentStore {
  /** Newest first. */
  paymentsOf(userId: string, options: { orderId?: string; limit: number }): Promise<Payment[]>;
  transaction<T>(work: (tx: PaymentTransaction) => Promise<T>): Promise<T>;
}
