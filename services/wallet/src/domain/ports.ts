import type { LedgerEntry, OrderDebit, Page } from "./model.ts";

import type { DomainEvent } from "@shop/events";

export type { DomainEvent };

export type IdempotencyClaim =
  | { claimed: true }
  | { claimed: false; requestHash: string; statusCode: number; body: unknown };

/** Everything a use case may do inside one database transaction. */
export interface WalletTransaction {
  /** Reserves (userId, key) or returns what the first request with this key answered. */
  claimIdempotencyKey(userId: string, key: string, requestHash: string): Promise<IdempotencyClaim>;
  saveIdempotentResponse(userId: string, key: string, statusCode: number, body: unknown): Promise<void>;
  credit(userId: string, amount: number, type: "CHARGE" | "REFUND", orderId?: string): Promise<LedgerEntry>;
  /**
   * Debits the order's amount only if the balance covers it and records the order's debit as
   * DEBITED; otherwise debits nothing and records it as REJECTED (null). The debit and its record
   * are written together: one round trip.
   */
  debitOrder(debit: Omit<OrderDebit, "status">): Promise<LedgerEntry | null>;
  /** Credits a DEBITED order's amount back and records its debit as REFUNDED, together (one round trip). */
  refundOrder(debit: OrderDebit): Promise<LedgerEntry>;
  /** Serializes work on one order (a transaction-scoped lock on that order only). */
  lockOrder(orderId: string): Promise<void>;
  findOrderDebit(orderId: string): Promise<OrderDebit | null>;
  saveOrderDebit(debit: OrderDebit): Promise<void>;
  /** False when this consumer already handled the event. */
  claimEvent(eventId: string, consumer: string): Promise<boolean>;
  publish(events: DomainEvent[]): Promise<void>;
}

export interface WalletStore {
  balanceOf(userId: string): Promise<number>;
  /** The same credit as in a transaction, as one atomic step of its own (nothing else to do atomically with it). */
  credit(userId: string, amount: number, type: "CHARGE" | "REFUND", orderId?: string): Promise<LedgerEntry>;
  history(userId: string, limit: number, cursor?: string): Promise<Page<LedgerEntry>>;
  transaction<T>(work: (tx: WalletTransaction) => Promise<T>): Promise<T>;
}
