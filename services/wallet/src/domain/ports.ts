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
  /** Debits only if the balance covers it; null otherwise (nothing written). */
  debitIfCovered(userId: string, amount: number, orderId: string): Promise<LedgerEntry | null>;
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
  history(userId: string, limit: number, cursor?: string): Promise<Page<LedgerEntry>>;
  transaction<T>(work: (tx: WalletTransaction) => Promise<T>): Promise<T>;
}
