import type { LedgerEntry, Page } from "./model.ts";

export type IdempotencyClaim =
  | { claimed: true }
  | { claimed: false; requestHash: string; statusCode: number; body: unknown };

/** Everything a use case may do inside one database transaction. */
export interface WalletTransaction {
  /** Reserves (userId, key) or returns what the first request with this key answered. */
  claimIdempotencyKey(userId: string, key: string, requestHash: string): Promise<IdempotencyClaim>;
  saveIdempotentResponse(userId: string, key: string, statusCode: number, body: unknown): Promise<void>;
  charge(userId: string, amount: number): Promise<LedgerEntry>;
}

export interface WalletStore {
  balanceOf(userId: string): Promise<number>;
  /** The same credit as in a transaction, as one atomic step of its own (nothing else to do atomically with it). */
  charge(userId: string, amount: number): Promise<LedgerEntry>;
  history(userId: string, limit: number, cursor?: string): Promise<Page<LedgerEntry>>;
  transaction<T>(work: (tx: WalletTransaction) => Promise<T>): Promise<T>;
}
