import type { IdempotencyKeyState } from "@shop/idempotency";
import type { ChargeReceipt, LedgerEntry, Page } from "./model.ts";

/**
 * A charge's Idempotency-Key. It is claimed inside the transaction that stores the receipt, so a
 * concurrent request with the key waits for that transaction and then finds the key completed.
 */
export type ChargeKeyState = IdempotencyKeyState<ChargeReceipt>;

/** Everything a use case may do inside one database transaction. */
export interface WalletTransaction {
  /** Claims (userId, key) for this request, or reports the receipt the first request with the key stored. */
  claimIdempotencyKey(userId: string, key: string, requestHash: string): Promise<ChargeKeyState>;
  /** Stores the receipt under the key this transaction claimed. */
  completeIdempotencyKey(userId: string, key: string, receipt: ChargeReceipt): Promise<void>;
  charge(userId: string, amount: number): Promise<LedgerEntry>;
}

export interface WalletStore {
  balanceOf(userId: string): Promise<number>;
  /** The same credit as in a transaction, as one atomic step of its own (nothing else to do atomically with it). */
  charge(userId: string, amount: number): Promise<LedgerEntry>;
  history(userId: string, limit: number, cursor?: string): Promise<Page<LedgerEntry>>;
  transaction<T>(work: (tx: WalletTransaction) => Promise<T>): Promise<T>;
}
