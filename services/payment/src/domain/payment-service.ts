import { randomUUID } from "node:crypto";
import type { OrderFailed, StockReserved } from "@shop/events";
import { MAX_PAYMENTS_LISTED, type Payment } from "./model.ts";
import { judgePayment } from "./payment-rules.ts";
import type { PaymentStore } from "./ports.ts";

export interface PaymentServiceOptions {
  /** The provider's per-transaction limit in KRW. */
  maxAmount: number;
}

/** Saga consumers; each name is the inbox scope of one reaction. */
const ON_STOCK_RESERVED = "payment.take-payment";
const ON_ORDER_FAILED = "payment.cancel-payment";

const now = () => new Date().toISOString();

export class PaymentService {
  constructor(
    private readonly store: PaymentStore,
    private readonly options: PaymentServiceOptions,
  ) {}

  paymentsOf(userId: string, orderId?: string): Promise<Payment[]> {
    return this.store.paymentsOf(userId, { orderId, limit: MAX_PAYMENTS_LISTED });
  }

  /**
   * StockReserved: take the order's payment once and answer PaymentCompleted, or decline it and
   * answer PaymentFailed. An order already known to have failed gets no payment and no answer.
   */
  takePayment(event: StockReserved): Promise<void> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.claimEvent(event.eventId, ON_STOCK_RESERVED))) return;
      await tx.lockOrder(event.orderId);
      const state = await tx.findOrderState(event.orderId);
      if (state.failed) return;
      // One payment per order, whatever eventId a repeated StockReserved carries.
      if (state.payment) return;
      const base = { orderId: event.orderId, userId: event.userId };
      const verdict = judgePayment(event.amount, this.options.maxAmount);
      if (verdict.approved) {
        const payment = await tx.insertPayment({ ...base, paymentId: randomUUID(), amount: event.amount, status: "COMPLETED", failureReason: null });
        await tx.publish([{ type: "PaymentCompleted", key: event.orderId, payload: { eventId: randomUUID(), occurredAt: now(), ...base, paymentId: payment.paymentId, amount: payment.amount } }]);
      } else {
        await tx.insertPayment({ ...base, paymentId: randomUUID(), amount: event.amount, status: "FAILED", failureReason: verdict.detail });
        await tx.publish([{ type: "PaymentFailed", key: event.orderId, payload: { eventId: randomUUID(), occurredAt: now(), ...base, reason: "PAYMENT_FAILED", detail: verdict.detail } }]);
      }
    });
  }

  /**
   * OrderFailed: a COMPLETED payment of the order becomes CANCELLED (the wallet refunds the money);
   * with no payment yet, the failure is remembered so that a late StockReserved takes none.
   */
  cancelForFailedOrder(event: OrderFailed): Promise<void> {
    return this.store.transaction(async (tx) => {
      if (!(await tx.claimEvent(event.eventId, ON_ORDER_FAILED))) return;
      await tx.lockOrder(event.orderId);
      await tx.recordFailedOrder(event.orderId, event.userId, event.failureCode);
      // Only a COMPLETED payment is cancelled: a declined (FAILED) one stays declined.
      await tx.cancelCompletedPayment(event.orderId);
    });
  }
}
