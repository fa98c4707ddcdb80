import { createHash, randomUUID } from "node:crypto";
import { IdempotencyKeyReusedError } from "@shop/errors";
import type { OrderFailed, OrderPlaced } from "@shop/events";
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

/** Saga consumers; each name is the inbox scope of one reaction. */
const ON_ORDER_PLACED = "wallet.debit-order";
const ON_ORDER_FAILED = "wallet.refund-order";

const now = () => new Date().toISOString();

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
    if (!idempotencyKey) return this.store.credit(userId, amount, "CHARGE").then((entry) => ({ receipt: receiptOf(entry), replayed: false }));
    const requestHash = createHash("sha256").update(JSON.stringify({ amount })).digest("hex");
    return this.store.transaction(async (tx) => {
      const claim = await tx.claimIdempotencyKey(userId, idempotencyKey, requestHash);
      if (!claim.claimed) {
        if (claim.requestHash !== requestHash) throw new IdempotencyKeyReusedError();
        return { receipt: claim.body as ChargeReceipt, replayed: true };
      }
      const receipt = receiptOf(await tx.credit(userId, amount, "CHARGE"));
      await tx.saveIdempotentResponse(userId, idempotencyKey, 201, receipt);
      return { receipt, replayed: false };
    });
  }

  /**
   * OrderPlaced: debit the order's total once, or answer BalanceDebitFailed. An order that already
   * failed (its OrderFailed overtook this event) is not debited at all.
   */
  debitForOrder(event: OrderPlaced): Promise<void> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.claimEvent(event.eventId, ON_ORDER_PLACED))) return;
      await tx.lockOrder(event.orderId);
      if (await tx.findOrderDebit(event.orderId)) return;
      const base = { orderId: event.orderId, userId: event.userId };
      // Recorded as DEBITED, or as REJECTED when the balance does not cover the total.
      const entry = await tx.debitOrder({ ...base, amount: event.totalAmount });
      if (entry) {
        await tx.publish([
          { type: "BalanceDebited", key: event.orderId, payload: { eventId: randomUUID(), occurredAt: now(), ...base, amount: event.totalAmount, items: event.items } },
        ]);
      } else {
        await tx.publish([
          {
            type: "BalanceDebitFailed",
            key: event.orderId,
            payload: { eventId: randomUUID(), occurredAt: now(), ...base, reason: "INSUFFICIENT_BALANCE", detail: `balance does not cover ${event.totalAmount} KRW` },
          },
        ]);
      }
    });
  }

  /**
   * OrderFailed: refund a debit exactly once; if the debit has not happened yet, leave a
   * tombstone so that a late OrderPlaced does not debit.
   */
  refundForFailedOrder(event: OrderFailed): Promise<void> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.claimEvent(event.eventId, ON_ORDER_FAILED))) return;
      await tx.lockOrder(event.orderId);
      const debit = await tx.findOrderDebit(event.orderId);
      if (!debit) {
        await tx.saveOrderDebit({ orderId: event.orderId, userId: event.userId, amount: 0, status: "CANCELLED" });
        return;
      }
      if (debit.status !== "DEBITED") return;
      await tx.refundOrder(debit);
    });
  }
}
