import type { Payment } from "./model.ts";

import type { DomainEvent } from "@shop/events";

export type { DomainEvent };

export interface OrderPaymentState {
  /** The order is known to have failed (OrderFailed was seen). */
  failed: boolean;
  payment: Payment | null;
}

/** Everything a use case may do inside one database transaction. */
export interface PaymentTransaction {
  /** Serializes work on one order (a transaction-scoped lock on that order only). */
  lockOrder(orderId: string): Promise<void>;
  /** Whether the order is known to have failed, and its payment if it has one (read together: one round trip). */
  findOrderState(orderId: string): Promise<OrderPaymentState>;
  insertPayment(payment: Omit<Payment, "createdAt">): Promise<Payment>;
  /** The order's payment becomes CANCELLED if it is COMPLETED (a conditional update: one round trip); false when none was. */
  cancelCompletedPayment(orderId: string): Promise<boolean>;
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
