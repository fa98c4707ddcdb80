import { requestFingerprint, takeIdempotencyKey } from "@shop/idempotency";
import type { ChargeReceipt, LedgerEntry, Page } from "./model.ts";
import type { WalletStore } from "./ports.ts";

export interface ChargeCommand {
  userId: string;
  amount: number;
  idempotencyKey?: string;
}

export interface ChargeOutcome {
  receipt: ChargeReceipt;
  /** True when an earlier request with the same Idempotency-Key produced this receipt. */
  replayed: boolean;
}

export class WalletService {
  constructor(private readonly store: WalletStore) {}

  balanceOf(userId: string): Promise<number> {
    return this.store.balanceOf(userId);
  }

  history(userId: string, limit: number, cursor?: string): Promise<Page<LedgerEntry>> {
    return this.store.history(userId, limit, cursor);
  }

  /** Adds money; with an Idempotency-Key a retry returns the first receipt and changes nothing. */
  charge(command: ChargeCommand): Promise<ChargeOutcome> {
    const { userId, amount, idempotencyKey } = command;
    const receiptOf = (entry: LedgerEntry): ChargeReceipt => ({ chargeId: entry.id, userId, amount, balance: entry.balanceAfter });
    // Without a key the credit is all there is: one atomic step, no transaction round trips while the wallet row is locked.
    if (!idempotencyKey) return this.store.charge(userId, amount).then((entry) => ({ receipt: receiptOf(entry), replayed: false }));
    const requestHash = requestFingerprint({ amount });
    return this.store.transaction(async (tx) => {
      // The claim itself waits for a concurrent request with the key (see ChargeKeyState): nothing to wait for here.
      const taken = await takeIdempotencyKey({ requestHash, attempt: () => tx.claimIdempotencyKey(userId, idempotencyKey, requestHash), waitMs: 0 });
      if (taken.next === "replay") return { receipt: taken.key.answer, replayed: true };
      const receipt = receiptOf(await tx.charge(userId, amount));
      await tx.completeIdempotencyKey(userId, idempotencyKey, receipt);
      return { receipt, replayed: false };
    });
  }
}
